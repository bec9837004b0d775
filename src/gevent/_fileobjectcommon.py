"""Compatibility: names that gevent's users and tests reach under gevent's module name.

The implementation lives in :mod:`gevent._fileobject_common` and :mod:`gevent.fileobject`.
"""

from ._fileobject_common import (  # noqa: F401
    FileObjectBase,
    FileObjectBlock,
    OpenDescriptor,
    WriteallFileIO,
    WriteallMixin,
)
from .fileobject import FileObjectThread  # noqa: F401
