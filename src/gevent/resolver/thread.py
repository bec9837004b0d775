"""The default resolver: the C library's own functions, run in the hub's thread pool.

Results are exactly the standard library's (same libc, same ``/etc/hosts``, same
``nsswitch.conf``); only the waiting is cooperative. Numeric hosts never get here.
"""

from __future__ import annotations

import _socket

from . import AbstractResolver, native_getaddrinfo

__all__ = ["Resolver"]


class Resolver(AbstractResolver):
    """Run ``getaddrinfo`` and friends in ``hub.threadpool``. Each lookup is a switch point."""

    def __init__(self, hub=None) -> None:
        if hub is None:
            from ..hub import get_hub

            hub = get_hub()
        super().__init__(hub)
        self._pool = None

    @property
    def pool(self):
        pool = self._pool
        if pool is None:
            pool = self._pool = self.hub.threadpool
        return pool

    def __repr__(self) -> str:
        name = f"{type(self).__module__}.{type(self).__name__}"
        return f"<{name} at {id(self):#x} pool={self._pool!r}>"

    def close(self) -> None:
        self._pool = None

    def _on_fork(self) -> None:
        self._pool = None

    def _getaddrinfo(self, host, port, family, type, proto, flags) -> list:
        pool = self._pool
        if pool is None:
            pool = self.pool
        return pool.apply(native_getaddrinfo, (host, port, family, type, proto, flags))

    def _gethostbyname(self, hostname) -> str:
        return self.pool.apply(_socket.gethostbyname, (hostname,))

    def _gethostbyname_ex(self, hostname) -> tuple:
        return self.pool.apply(_socket.gethostbyname_ex, (hostname,))

    def _gethostbyaddr(self, ip_address) -> tuple:
        return self.pool.apply(_socket.gethostbyaddr, (ip_address,))

    def _getnameinfo(self, sockaddr, flags) -> tuple:
        return self.pool.apply(_socket.getnameinfo, (sockaddr, flags))
