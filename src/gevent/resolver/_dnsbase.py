"""What the resolvers that speak DNS themselves (dnspython, ares) share.

They look names up in ``/etc/hosts`` first, as the C library does, then ask DNS for addresses
(``_query_addresses``) or a name (``_query_reverse``); this base class turns those answers into
the ``socket`` module's results, building the ``getaddrinfo`` tuples with the standard library
from the numeric addresses so ports, service names and socket types behave identically.
"""

from __future__ import annotations

import _socket

from . import AbstractResolver, native_getaddrinfo
from ._hostsfile import HostsFile

__all__ = ["DNSResolverBase"]

_AF_INET = _socket.AF_INET
_AF_INET6 = _socket.AF_INET6
_EAI_NONAME = _socket.EAI_NONAME
_NONAME_MESSAGE = "Name or service not known"


def _noname() -> _socket.gaierror:
    return _socket.gaierror(_EAI_NONAME, _NONAME_MESSAGE)


class DNSResolverBase(AbstractResolver):
    """A resolver answering from ``/etc/hosts``, then from DNS queries made by a subclass."""

    def __init__(self, hub=None) -> None:
        super().__init__(hub)
        self.hosts = HostsFile()

    # -- what subclasses implement -----------------------------------------------------------

    def _query_addresses(self, name: str, family: int) -> tuple[str, list[str], list[str]]:
        """``(canonical name, aliases, addresses)`` of *family* for *name*; raise gaierror."""
        raise NotImplementedError

    def _query_reverse(self, address: str) -> str:
        """The host name for *address* (a PTR lookup); raise gaierror/herror."""
        raise NotImplementedError

    # -- lookups -----------------------------------------------------------------------------

    @staticmethod
    def _text(host) -> str:
        if isinstance(host, bytes):
            return host.decode("idna")
        if not isinstance(host, str):
            raise TypeError(f"getaddrinfo() argument 1 must be string or None, not "
                            f"{type(host).__name__}")
        return host

    def _addresses(self, host: str, family: int) -> tuple[str, list[str], list[tuple[int, str]]]:
        """Canonical name, aliases and ``(family, address)`` pairs for *host*."""
        found = self.hosts.lookup(host, family)
        if found:
            canonical, aliases = self.hosts.names(host) or (host, [])
            return canonical, list(aliases), found
        families = [family] if family else [_AF_INET6, _AF_INET]
        result: list[tuple[int, str]] = []
        canonical, aliases = host, []
        last_error = None
        for fam in families:
            try:
                canon, alias_list, addresses = self._query_addresses(host, fam)
            except _socket.gaierror as ex:
                last_error = ex
                continue
            if addresses:
                canonical = canon
                aliases = alias_list
                result.extend((fam, address) for address in addresses)
        if not result:
            raise last_error if last_error is not None else _noname()
        return canonical, aliases, result

    def _getaddrinfo(self, host, port, family, type, proto, flags) -> list:
        if host is None:
            return native_getaddrinfo(host, port, family, type, proto, flags)
        name = self._text(host)
        if family not in (0, _AF_INET, _AF_INET6):
            raise _socket.gaierror(_socket.EAI_FAMILY, "ai_family not supported")
        canonical, _aliases, addresses = self._addresses(name, family)
        result = []
        numeric = flags & ~_socket.AI_CANONNAME | _socket.AI_NUMERICHOST
        for fam, address in addresses:
            result.extend(native_getaddrinfo(address, port, fam, type, proto, numeric))
        if flags & _socket.AI_CANONNAME and result:
            first = result[0]
            result[0] = (first[0], first[1], first[2], canonical, first[4])
        return result

    def _gethostbyname_ex(self, hostname) -> tuple:
        name = self._text(hostname)
        canonical, aliases, addresses = self._addresses(name, _AF_INET)
        return canonical, aliases, [address for _fam, address in addresses]

    def _gethostbyname(self, hostname) -> str:
        return self._gethostbyname_ex(hostname)[2][0]

    def _gethostbyaddr(self, ip_address) -> tuple:
        address = self._text(ip_address)
        try:
            family = _AF_INET6 if ":" in address else _AF_INET
            _socket.inet_pton(family, address.split("%", 1)[0])
        except OSError:
            # A host name: reverse-resolve its first address, as the C library does.
            _canon, _aliases, found = self._addresses(address, 0)
            family, address = found[-1]
        known = self.hosts.reverse(address)
        if known is not None:
            return known[0], list(known[1]), [address]
        try:
            name = self._query_reverse(address)
        except _socket.gaierror:
            raise _socket.herror(1, "Unknown host") from None
        return name, [], [address]

    def _getnameinfo(self, sockaddr, flags) -> tuple:
        if not isinstance(sockaddr, tuple) or len(sockaddr) < 2:
            raise TypeError("getnameinfo() argument 1 must be a tuple")
        host, port = sockaddr[0], sockaddr[1]
        # Validate and normalise the address as the C library would (numeric only).
        infos = native_getaddrinfo(host, port, 0, _socket.SOCK_DGRAM, 0,
                                   _socket.AI_NUMERICHOST)
        if len(infos) != 1:
            raise OSError("sockaddr resolved to multiple addresses")
        numeric = _socket.getnameinfo(sockaddr, _socket.NI_NUMERICHOST | _socket.NI_NUMERICSERV)
        service_flags = _socket.NI_NUMERICHOST | (flags & (_socket.NI_DGRAM
                                                           | _socket.NI_NUMERICSERV))
        service = _socket.getnameinfo(sockaddr, service_flags)[1]
        if flags & _socket.NI_NUMERICHOST:
            return numeric[0], service
        try:
            name = self._gethostbyaddr(numeric[0])[0]
        except OSError:
            if flags & _socket.NI_NAMEREQD:
                raise _noname() from None
            return numeric[0], service
        if flags & _socket.NI_NOFQDN:
            name = name.split(".", 1)[0]
        return name, service
