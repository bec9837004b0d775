"""Compatibility: names that gevent's users and tests reach under gevent's module name.

The implementation lives in :mod:`gevent._fileobject_posix`.
"""

from ._fileobject_posix import (  # noqa: F401
    FileObjectPosix,
    GreenFileDescriptorIO,
    GreenFileDescriptorIOWriteall,
    GreenOpenDescriptor,
)
