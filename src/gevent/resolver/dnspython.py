"""A resolver built on dnspython (``pip install gevent[dnspython]``).

Queries go out over gevent's own UDP sockets (TCP when the answer is truncated), so every
lookup is a switch point and never touches the thread pool. ``/etc/hosts`` is consulted first.
``/etc/resolv.conf`` supplies the nameservers, search list and ndots unless
``GEVENT_RESOLVER_NAMESERVERS`` names the servers; ``GEVENT_RESOLVER_TIMEOUT`` bounds the
total time of one lookup.
"""

from __future__ import annotations

import _socket
import struct
from time import monotonic

try:
    import dns.flags
    import dns.message
    import dns.name
    import dns.rcode
    import dns.rdatatype
    import dns.resolver
    import dns.reversename
except ImportError as ex:  # pragma: no cover - exercised in a test with dnspython hidden
    raise ImportError(
        "gevent.resolver.dnspython needs the dnspython package: "
        "pip install gevent[dnspython]"
    ) from ex

from . import _config_kwargs
from ._dnsbase import DNSResolverBase, _noname

__all__ = ["Resolver"]

_RDTYPES = {_socket.AF_INET: dns.rdatatype.A, _socket.AF_INET6: dns.rdatatype.AAAA}


class Resolver(DNSResolverBase):
    """DNS through dnspython's messages and gevent sockets. Each lookup is a switch point.

    *servers* (a list of IP addresses) and *timeout* (seconds for a whole lookup) default to
    ``gevent.config.resolver_nameservers`` and ``resolver_timeout``.
    """

    def __init__(self, hub=None, servers=None, timeout=None) -> None:
        super().__init__(hub)
        options = _config_kwargs({"servers": "resolver_nameservers",
                                  "timeout": "resolver_timeout"},
                                 {"servers": servers, "timeout": timeout})
        try:
            config = dns.resolver.Resolver(configure=True)
        except dns.resolver.NoResolverConfiguration:
            config = dns.resolver.Resolver(configure=False)
            config.nameservers = ["127.0.0.1"]
        if options.get("servers"):
            config.nameservers = list(options["servers"])
        self.resolver = config
        # IP address strings: dnspython keeps plain addresses as str (its Nameserver objects
        # are for DoH/DoT/DoQ, which this resolver does not speak).
        self.nameservers: list[str] = list(config.nameservers)  # type: ignore[arg-type]
        self.lifetime = float(options.get("timeout") or config.lifetime)
        self.attempt_timeout = min(float(config.timeout), self.lifetime)
        self.port = config.port

    def _names_to_try(self, name: str) -> list:
        if name.endswith("."):
            return [dns.name.from_text(name)]
        absolute = dns.name.from_text(name)
        relative = dns.name.from_text(name, origin=None)
        search = list(self.resolver.search) or (
            [self.resolver.domain] if self.resolver.domain != dns.name.root else [])
        searched = [relative.concatenate(domain) for domain in search]
        ndots = self.resolver.ndots
        if name.count(".") >= (1 if ndots is None else ndots):
            return [absolute, *searched]
        return [*searched, absolute]

    def _exchange(self, query, deadline: float):
        """Send *query* to each nameserver in turn; return the first usable response."""
        from .. import socket as gsocket

        wire = query.to_wire()
        last_error: Exception = _socket.gaierror(_socket.EAI_AGAIN,
                                                 "Temporary failure in name resolution")
        for server in self.nameservers:
            remaining = deadline - monotonic()
            if remaining <= 0:
                break
            family = _socket.AF_INET6 if ":" in server else _socket.AF_INET
            try:
                with gsocket.socket(family, _socket.SOCK_DGRAM) as sock:
                    sock.settimeout(min(self.attempt_timeout, remaining))
                    sock.connect((server, self.port))
                    sock.send(wire)
                    while True:
                        data = sock.recv(65535)
                        try:
                            response = dns.message.from_wire(data)
                        except Exception:  # a malformed datagram: keep listening for ours
                            continue
                        if query.is_response(response):
                            break
                if response.flags & dns.flags.TC:
                    response = self._exchange_tcp(gsocket, family, server, wire, deadline)
            except (OSError, dns.exception.DNSException) as ex:
                last_error = ex
                continue
            if response.rcode() in (dns.rcode.SERVFAIL, dns.rcode.REFUSED):
                last_error = _socket.gaierror(_socket.EAI_AGAIN,
                                              "Temporary failure in name resolution")
                continue
            return response
        if isinstance(last_error, _socket.gaierror):
            raise last_error
        raise _socket.gaierror(_socket.EAI_AGAIN, f"Temporary failure in name resolution "
                                                  f"({last_error})")

    def _exchange_tcp(self, gsocket, family, server, wire, deadline):
        with gsocket.socket(family, _socket.SOCK_STREAM) as sock:
            sock.settimeout(max(deadline - monotonic(), 0.001))
            sock.connect((server, self.port))
            sock.sendall(struct.pack("!H", len(wire)) + wire)
            header = self._recv_exactly(sock, 2)
            (length,) = struct.unpack("!H", header)
            return dns.message.from_wire(self._recv_exactly(sock, length))

    @staticmethod
    def _recv_exactly(sock, count: int) -> bytes:
        data = b""
        while len(data) < count:
            chunk = sock.recv(count - len(data))
            if not chunk:
                raise OSError("connection closed by the nameserver")
            data += chunk
        return data

    def _query(self, qname, rdtype):
        deadline = monotonic() + self.lifetime
        query = dns.message.make_query(qname, rdtype)
        query.flags |= dns.flags.RD
        return self._exchange(query, deadline)

    def _query_addresses(self, name: str, family: int):
        rdtype = _RDTYPES[family]
        for qname in self._names_to_try(name):
            response = self._query(qname, rdtype)
            if response.rcode() == dns.rcode.NXDOMAIN:
                continue
            chain = response.resolve_chaining()
            if chain.answer is None:
                continue
            # The names the CNAME chain went through are the aliases, as libc reports them.
            aliases = [str(rrset.name).rstrip(".") for rrset in chain.cnames]
            canonical = str(chain.canonical_name).rstrip(".")
            addresses = [rdata.address for rdata in chain.answer]
            return canonical, aliases, addresses
        raise _noname()

    def _query_reverse(self, address: str) -> str:
        qname = dns.reversename.from_address(address)
        response = self._query(qname, dns.rdatatype.PTR)
        chain = response.resolve_chaining()
        if response.rcode() != dns.rcode.NOERROR or chain.answer is None:
            raise _noname()
        for rdata in chain.answer:
            return str(rdata.target).rstrip(".")
        raise _noname()
