"""DNS resolvers: the interface every resolver offers, and the numeric fast path.

``get_hub().resolver`` is an instance of the class named by ``gevent.config.resolver``
(``GEVENT_RESOLVER``): :mod:`gevent.resolver.thread` (the default, libc in the thread pool),
:mod:`gevent.resolver.blocking`, :mod:`gevent.resolver.dnspython` and :mod:`gevent.resolver.ares`
(optional extras). A numeric host (an IP literal, or ``None``) never reaches a resolver: the
standard library answers it at once with ``AI_NUMERICHOST`` and no lookup.
"""

from __future__ import annotations

import _socket
import socket as __socket__
from typing import Any

__all__ = ["AbstractResolver"]

_AddressFamily = __socket__.AddressFamily
_SocketKind = __socket__.SocketKind
_AI_NUMERICHOST = _socket.AI_NUMERICHOST
_AI_NUMERICSERV = _socket.AI_NUMERICSERV
_c_getaddrinfo = _socket.getaddrinfo
_inet_pton = _socket.inet_pton
_AF_INET = _socket.AF_INET
_AF_INET6 = _socket.AF_INET6

_FAMILIES = {int(member): member for member in _AddressFamily}
_KINDS = {int(member): member for member in _SocketKind}


def _as_enums(infos) -> list:
    """Convert raw ``_socket.getaddrinfo`` tuples as ``socket.getaddrinfo`` does."""
    families = _FAMILIES
    kinds = _KINDS
    return [
        (families.get(family, family), kinds.get(kind, kind), proto, canonname, sockaddr)
        for family, kind, proto, canonname, sockaddr in infos
    ]


def native_getaddrinfo(host, port, family=0, type=0, proto=0, flags=0) -> list:
    """The standard library's ``getaddrinfo`` (libc, blocking), whatever is patched."""
    return _as_enums(_c_getaddrinfo(host, port, family, type, proto, flags))


def _numeric_host(host, strict: bool = False) -> bool:
    """True if *host* is an IP literal (a cheap syntactic test before the real check).

    With *strict*, only what ``inet_pton`` accepts counts.
    """
    if host is None:
        return not strict
    if isinstance(host, bytes):
        try:
            host = host.decode("ascii")
        except UnicodeDecodeError:
            return False
    elif not isinstance(host, str):
        return False
    if not host:
        return False
    if ":" in host:
        address = host.split("%", 1)[0]
        try:
            _inet_pton(_AF_INET6, address)
            return True
        except (OSError, ValueError):
            return False
    first = host[0]
    if "0" <= first <= "9":
        try:
            _inet_pton(_AF_INET, host)
            return True
        except (OSError, ValueError):
            # "127.1" and friends are numeric to getaddrinfo but not to inet_pton.
            return not strict and host.replace(".", "").isdigit()
    return False


def _numeric_getaddrinfo(host, port, family=0, type=0, proto=0, flags=0):
    """Answer getaddrinfo for a numeric host without any lookup, or return None."""
    if not _numeric_host(host):
        return None
    if host is None and port is None:
        return None  # the standard library's error, raised by the resolver path
    try:
        return _as_enums(_c_getaddrinfo(host, port, family, type, proto, flags | _AI_NUMERICHOST))
    except _socket.gaierror:
        if flags & _AI_NUMERICHOST:
            raise
        return None


class AbstractResolver:
    """The interface of ``get_hub().resolver``: the ``socket`` module's DNS functions.

    Subclasses implement the ``_``-prefixed lookups; the public methods add the numeric fast
    path and argument checks shared by every resolver.
    """

    #: How ``str`` host names are encoded for resolvers that need bytes.
    HOSTNAME_ENCODING = "idna"

    def __init__(self, hub=None) -> None:
        self.hub = hub

    def close(self) -> None:
        """Release what the resolver holds (threads, sockets). Idempotent."""

    # -- the public functions ----------------------------------------------------------------

    def getaddrinfo(self, host, port, family: int = 0, type: int = 0, proto: int = 0,
                    flags: int = 0) -> list:
        """Like :func:`socket.getaddrinfo`. May be a switch point."""
        result = _numeric_getaddrinfo(host, port, family, type, proto, flags)
        if result is not None:
            return result
        return self._getaddrinfo(host, port, family, type, proto, flags)

    def gethostbyname(self, hostname) -> str:
        """Like :func:`socket.gethostbyname`. May be a switch point."""
        if _numeric_host(hostname):
            return _socket.gethostbyname(hostname)
        return self._gethostbyname(hostname)

    def gethostbyname_ex(self, hostname) -> tuple:
        """Like :func:`socket.gethostbyname_ex`. May be a switch point."""
        if _numeric_host(hostname):
            return _socket.gethostbyname_ex(hostname)
        return self._gethostbyname_ex(hostname)

    def gethostbyaddr(self, ip_address) -> tuple:
        """Like :func:`socket.gethostbyaddr`. May be a switch point."""
        return self._gethostbyaddr(ip_address)

    def getnameinfo(self, sockaddr, flags: int) -> tuple:
        """Like :func:`socket.getnameinfo`. May be a switch point."""
        return self._getnameinfo(sockaddr, flags)

    # -- what subclasses implement -----------------------------------------------------------

    def _getaddrinfo(self, host, port, family, type, proto, flags) -> list:
        raise NotImplementedError

    def _gethostbyname(self, hostname) -> str:
        for family, _kind, _proto, _canon, sockaddr in self._getaddrinfo(
            hostname, None, _AF_INET, _socket.SOCK_STREAM, 0, 0
        ):
            if family == _AF_INET:
                return sockaddr[0]
        raise _socket.gaierror(_socket.EAI_NONAME, "Name or service not known")

    def _gethostbyname_ex(self, hostname) -> tuple:
        raise NotImplementedError

    def _gethostbyaddr(self, ip_address) -> tuple:
        raise NotImplementedError

    def _getnameinfo(self, sockaddr, flags) -> tuple:
        raise NotImplementedError


def _config_kwargs(names: dict[str, str], given: dict[str, Any]) -> dict[str, Any]:
    """Fill resolver keyword arguments from ``gevent.config`` where the caller gave none."""
    from .._config import config

    result = dict(given)
    for kwarg, setting in names.items():
        if result.get(kwarg) is None:
            value = getattr(config, setting)
            if value is not None:
                result[kwarg] = value
    return result
