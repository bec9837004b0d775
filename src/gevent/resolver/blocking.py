"""A resolver that calls the C library directly and blocks the whole thread while it does.

Useful when threads are unwelcome (some embedded or forking setups). Results are exactly the
standard library's.
"""

from __future__ import annotations

import _socket

from . import AbstractResolver, native_getaddrinfo

__all__ = ["Resolver"]


class Resolver(AbstractResolver):
    """Blocking lookups through the C library: no switch, no thread."""

    def __init__(self, hub=None) -> None:
        super().__init__(hub)

    def _getaddrinfo(self, host, port, family, type, proto, flags) -> list:
        return native_getaddrinfo(host, port, family, type, proto, flags)

    def _gethostbyname(self, hostname) -> str:
        return _socket.gethostbyname(hostname)

    def _gethostbyname_ex(self, hostname) -> tuple:
        return _socket.gethostbyname_ex(hostname)

    def _gethostbyaddr(self, ip_address) -> tuple:
        return _socket.gethostbyaddr(ip_address)

    def _getnameinfo(self, sockaddr, flags) -> tuple:
        return _socket.getnameinfo(sockaddr, flags)
