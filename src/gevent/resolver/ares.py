"""A resolver built on c-ares through pycares (``pip install gevent[ares]``).

The c-ares channel's sockets are watched by the hub's loop (no thread); each lookup is a switch
point. ``/etc/hosts`` is consulted first, as the C library does. The channel is configured from
``GEVENT_RESOLVER_NAMESERVERS``, ``GEVENT_RESOLVER_TIMEOUT`` and the ``GEVENTARES_*`` settings.
"""

from __future__ import annotations

import _socket
from time import monotonic
from typing import Any

try:
    import pycares
except ImportError as ex:  # pragma: no cover - exercised in a test with pycares hidden
    raise ImportError(
        "gevent.resolver.ares needs the pycares package: pip install gevent[ares]"
    ) from ex

from . import _config_kwargs
from ._dnsbase import DNSResolverBase, _noname

__all__ = ["Resolver"]

_BAD = getattr(pycares, "ARES_SOCKET_BAD", -1)
_QUERY_TYPES = {_socket.AF_INET: pycares.QUERY_TYPE_A, _socket.AF_INET6: pycares.QUERY_TYPE_AAAA}
_NOT_FOUND = {
    getattr(pycares.errno, name)
    for name in ("ARES_ENOTFOUND", "ARES_ENODATA", "ARES_ENONAME")
    if hasattr(pycares.errno, name)
}


class Resolver(DNSResolverBase):
    """DNS through a c-ares channel driven by the hub's loop.

    Keyword arguments (``servers``, ``timeout``, ``tries``, ``ndots``, ``udp_port``,
    ``tcp_port``, ``flags``) go to ``pycares.Channel``; unset ones come from ``gevent.config``.
    """

    def __init__(self, hub=None, **kwargs) -> None:
        if hub is None:
            from ..hub import get_hub

            hub = get_hub()
        super().__init__(hub)
        # Explicit arguments first, then the ares-specific settings, then the generic ones.
        options = _config_kwargs(
            {"servers": "ares_servers", "timeout": "ares_timeout",
             "tries": "ares_tries", "ndots": "ares_ndots", "udp_port": "ares_udp_port",
             "tcp_port": "ares_tcp_port", "flags": "ares_flags"},
            kwargs,
        )
        options = _config_kwargs(
            {"servers": "resolver_nameservers", "timeout": "resolver_timeout"}, options
        )
        if options.get("servers") is None:
            options.pop("servers", None)
        self._watchers: dict[int, Any] = {}  # fd -> the loop's io watcher
        self._timer = None
        self.channel = pycares.Channel(sock_state_cb=self._sock_state, **options)

    # -- driving the channel from the loop -------------------------------------------------

    def _sock_state(self, fd: int, readable: bool, writable: bool) -> None:
        watcher = self._watchers.pop(fd, None)
        if watcher is not None:
            watcher.stop()
        events = (1 if readable else 0) | (2 if writable else 0)
        if events:
            watcher = self.hub.loop.io(fd, events)
            watcher.start(self._process, fd, events)
            self._watchers[fd] = watcher

    def _process(self, fd: int, events: int) -> None:
        self.channel.process_fd(fd if events & 1 else _BAD, fd if events & 2 else _BAD)
        self._arm_timer()

    def _arm_timer(self) -> None:
        if self._timer is not None:
            self.hub.loop._timers.cancel(self._timer)
            self._timer = None
        if self._watchers:
            delay = self.channel.timeout()
            if delay is None or delay <= 0:
                delay = 0.001 if delay is not None else 1.0
            self._timer = self.hub.loop._timers.add(monotonic() + delay, self._on_timeout, (),
                                                    False)

    def _on_timeout(self) -> None:
        self._timer = None
        self.channel.process_fd(_BAD, _BAD)
        self._arm_timer()

    def _call(self, start) -> Any:
        """Start a c-ares request with our callback and wait for its answer. A switch point."""
        from ..hub import Waiter

        waiter = Waiter(self.hub)

        def done(result, error) -> None:
            waiter.switch((result, error))

        start(done)
        self._arm_timer()
        result, error = waiter.get()
        if error:
            if error in _NOT_FOUND:
                raise _noname()
            raise _socket.gaierror(_socket.EAI_AGAIN,
                                   f"Temporary failure in name resolution ({error})")
        return result

    def close(self) -> None:
        for watcher in self._watchers.values():
            watcher.stop()
        self._watchers.clear()
        if self._timer is not None and self.hub.loop is not None:
            self.hub.loop._timers.cancel(self._timer)
            self._timer = None
        # Closed: a later lookup fails on the None channel, as it should.
        channel, self.channel = self.channel, None  # type: ignore[assignment]
        if channel is not None:
            close = getattr(channel, "close", None)
            if close is not None:
                close()

    # -- the lookups -------------------------------------------------------------------------

    def _query_addresses(self, name: str, family: int):
        qtype = _QUERY_TYPES[family]
        result = self._call(lambda cb: self.channel.search(name, qtype, callback=cb))
        canonical, aliases, addresses = name, [], []
        records = getattr(result, "answer", result) or []
        for record in records:
            data = getattr(record, "data", record)
            cname = getattr(data, "cname", None)
            if cname is not None:
                aliases.append(getattr(record, "name", canonical))
                canonical = cname
                continue
            address = getattr(data, "addr", None) or getattr(data, "host", None)
            if address:
                addresses.append(address)
        if not addresses:
            raise _noname()
        return canonical.rstrip("."), aliases, addresses

    def _query_reverse(self, address: str) -> str:
        result = self._call(lambda cb: self.channel.gethostbyaddr(address, callback=cb))
        return result.name
