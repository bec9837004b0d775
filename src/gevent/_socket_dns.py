"""The DNS functions of ``gevent.socket``: numeric answers at once, the rest by the hub's resolver.
"""

from __future__ import annotations

import _socket

from .hub import _get_hub_noargs as _get_hub
from .resolver import AbstractResolver, _numeric_getaddrinfo, _numeric_host

__all__ = [
    "getaddrinfo",
    "gethostbyname",
    "gethostbyname_ex",
    "gethostbyaddr",
    "getnameinfo",
    "getfqdn",
]

_abstract_getaddrinfo = AbstractResolver.getaddrinfo
_NUMERIC_NAMEINFO = _socket.NI_NUMERICHOST | _socket.NI_NUMERICSERV


def getaddrinfo(host, port, family=0, type=0, proto=0, flags=0):
    """Resolve *host* and *port* into a list of ``(family, type, proto, canonname, sockaddr)``.

    Numeric hosts are answered directly; anything else through ``get_hub().resolver``, which
    may be a switch point. Results equal the standard library's.
    """
    result = _numeric_getaddrinfo(host, port, family, type, proto, flags)
    if result is not None:
        return result
    resolver = _get_hub().resolver
    if resolver.__class__.getaddrinfo is _abstract_getaddrinfo:
        # The numeric check is done: go straight to the lookup.
        return resolver._getaddrinfo(host, port, family, type, proto, flags)
    return resolver.getaddrinfo(host, port, family, type, proto, flags)


def gethostbyname(hostname) -> str:
    """The IPv4 address of *hostname*. May be a switch point."""
    if _numeric_host(hostname):
        return _socket.gethostbyname(hostname)
    return _get_hub().resolver.gethostbyname(hostname)


def gethostbyname_ex(hostname):
    """``(hostname, aliaslist, ipaddrlist)`` for *hostname*. May be a switch point."""
    if _numeric_host(hostname):
        return _socket.gethostbyname_ex(hostname)
    return _get_hub().resolver.gethostbyname_ex(hostname)


def gethostbyaddr(ip_address):
    """``(hostname, aliaslist, ipaddrlist)`` for an address (reverse lookup). A switch point."""
    return _get_hub().resolver.gethostbyaddr(ip_address)


def getnameinfo(sockaddr, flags: int):
    """``(host, port)`` for *sockaddr*. Switches unless both NI_NUMERIC* flags are given."""
    if not isinstance(sockaddr, tuple):
        # Drop our reference first: the traceback keeps this frame (and its locals) alive.
        sockaddr = None
        raise TypeError("getnameinfo() argument 1 must be a tuple")
    if flags & _NUMERIC_NAMEINFO == _NUMERIC_NAMEINFO and sockaddr and _numeric_host(
            sockaddr[0]):
        return _socket.getnameinfo(sockaddr, flags)
    return _get_hub().resolver.getnameinfo(sockaddr, flags)


def getfqdn(name: str = "") -> str:
    """A fully qualified domain name for *name* (default: this host). A switch point."""
    name = name.strip()
    if not name or name in ("0.0.0.0", "::"):
        name = _socket.gethostname()
    try:
        hostname, aliases, _addresses = gethostbyaddr(name)
    except OSError:
        return name
    for candidate in [hostname, *aliases]:
        if "." in candidate:
            return candidate
    return hostname


def _resolve_address(sock, address, caller: str = "connect"):
    """Turn ``(host, port, ...)`` with a host name into a numeric address for *sock*'s family.

    IP literals, ``''`` and ``'<broadcast>'`` are left for the kernel call as they need no
    lookup. The port is checked first, as the standard call does (*caller* names it in the
    error): a resolver would wrap 65539 round to 3.
    """
    host = address[0]
    if not host or host == "<broadcast>" or _numeric_host(host, strict=True):
        return address
    port = address[1]
    if not isinstance(port, int):
        raise TypeError(f"'{type(port).__name__}' object cannot be interpreted as an integer")
    if not 0 <= port <= 65535:
        raise OverflowError(f"{caller}(): port must be 0-65535.")
    if isinstance(host, bytes):
        host = host.decode("idna")
    family = sock.family
    infos = getaddrinfo(host, port, family, sock.type, sock.proto)
    if not infos:
        raise OSError(f"getaddrinfo returned no address for {host!r}")
    sockaddr = infos[0][4]
    if family == _socket.AF_INET6 and len(address) > 2:
        # Keep the caller's flowinfo and scope id.
        return (sockaddr[0], sockaddr[1]) + tuple(address[2:])
    return sockaddr
