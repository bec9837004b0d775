"""Compatibility: names that gevent's users and tests reach under gevent's module name.

The implementation lives in :mod:`gevent.socket` and :mod:`gevent._socket_dns`.
"""

import socket as __socket__  # noqa: F401

from ._socket_dns import _resolve_address as _resolve_addr  # noqa: F401
from .socket import *  # noqa: F401,F403
