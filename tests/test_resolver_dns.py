"""The DNS-speaking resolvers (dnspython, ares) against a small DNS server run by the test."""

from __future__ import annotations

import os
import socket as stdsocket
import subprocess
import sys
import time

import pytest

import gevent
from gevent import socket

pytest.importorskip("dns")
import dns.message  # noqa: E402
import dns.rcode  # noqa: E402
import dns.rdatatype  # noqa: E402
import dns.rrset  # noqa: E402

RECORDS = {
    ("www.example.test.", "A"): ["192.0.2.1", "192.0.2.2"],
    ("www.example.test.", "AAAA"): ["2001:db8::1"],
    ("v4only.example.test.", "A"): ["192.0.2.9"],
    ("1.2.0.192.in-addr.arpa.", "PTR"): ["www.example.test."],
}
CNAMES = {"alias.example.test.": "www.example.test."}


class FakeDNSServer:
    """Answers A/AAAA/PTR from RECORDS over UDP on 127.0.0.1; can be told to stay silent."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.silent = False
        self.queries = []
        self.glet = gevent.spawn(self.serve)

    def serve(self) -> None:
        while True:
            data, peer = self.sock.recvfrom(4096)
            query = dns.message.from_wire(data)
            question = query.question[0]
            name = str(question.name)
            rdtype = dns.rdatatype.to_text(question.rdtype)
            self.queries.append((name, rdtype))
            if self.silent:
                continue
            response = dns.message.make_response(query)
            target = name
            if name in CNAMES:
                target = CNAMES[name]
                response.answer.append(dns.rrset.from_text(name, 60, "IN", "CNAME", target))
            values = RECORDS.get((target, rdtype))
            if values:
                response.answer.append(dns.rrset.from_text(target, 60, "IN", rdtype, *values))
            elif not any(key[0] == target for key in RECORDS):
                response.set_rcode(dns.rcode.NXDOMAIN)
            self.sock.sendto(response.to_wire(), peer)

    def close(self) -> None:
        self.glet.kill()
        self.sock.close()


@pytest.fixture
def server():
    srv = FakeDNSServer()
    yield srv
    srv.close()


@pytest.fixture
def resolver(server):
    from gevent.resolver.dnspython import Resolver

    res = Resolver(servers=["127.0.0.1"], timeout=2)
    res.port = server.port
    res.resolver.search = []
    yield res
    res.close()


def test_getaddrinfo_from_dns(resolver):
    result = resolver.getaddrinfo("www.example.test", 80, socket.AF_INET, socket.SOCK_STREAM)
    # An RRset has no order: compare sorted.
    assert sorted(result) == [
        (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("192.0.2.1", 80)),
        (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("192.0.2.2", 80)),
    ]
    both = resolver.getaddrinfo("www.example.test", "http", 0, socket.SOCK_STREAM)
    addresses = [info[4][0] for info in both]
    assert addresses[0] == "2001:db8::1" and sorted(addresses[1:]) == ["192.0.2.1", "192.0.2.2"]
    canon = resolver.getaddrinfo("alias.example.test", 80, socket.AF_INET, socket.SOCK_STREAM,
                                 0, socket.AI_CANONNAME)
    assert canon[0][3] == "www.example.test"


def test_gethostbyname_and_aliases(resolver):
    assert resolver.gethostbyname("v4only.example.test") == "192.0.2.9"
    name, aliases, addresses = resolver.gethostbyname_ex("alias.example.test")
    assert (name, aliases, sorted(addresses)) == (
        "www.example.test", ["alias.example.test"], ["192.0.2.1", "192.0.2.2"])


def test_unknown_names_raise_gaierror(resolver):
    with pytest.raises(socket.gaierror) as info:
        resolver.getaddrinfo("nope.example.test", 80)
    assert info.value.errno == socket.EAI_NONAME


def test_reverse_lookups(resolver):
    assert resolver.gethostbyaddr("192.0.2.1") == ("www.example.test", [], ["192.0.2.1"])
    assert resolver.getnameinfo(("192.0.2.1", 80), 0) == ("www.example.test", "http")
    assert resolver.getnameinfo(("192.0.2.1", 80), socket.NI_NUMERICSERV) == (
        "www.example.test", "80")


def test_hosts_file_and_literals_equal_stdlib(resolver, server):
    for host in ("localhost", "127.0.0.1"):
        for family in (0, socket.AF_INET):
            assert resolver.getaddrinfo(host, 80, family, socket.SOCK_STREAM) == \
                stdsocket.getaddrinfo(host, 80, family, socket.SOCK_STREAM)
    assert resolver.gethostbyname_ex("localhost") == stdsocket.gethostbyname_ex("localhost")
    assert resolver.gethostbyaddr("127.0.0.1") == stdsocket.gethostbyaddr("127.0.0.1")
    assert server.queries == []


def test_timeout_is_honoured(resolver, server):
    server.silent = True
    resolver.lifetime = 0.2
    resolver.attempt_timeout = 0.1
    start = time.monotonic()
    with pytest.raises(socket.gaierror):
        resolver.getaddrinfo("www.example.test", 80, socket.AF_INET)
    assert time.monotonic() - start < 2


def test_lookups_run_concurrently(resolver):
    glets = [gevent.spawn(resolver.gethostbyname, "v4only.example.test") for _ in range(20)]
    gevent.joinall(glets, timeout=5, raise_error=True)
    assert {g.value for g in glets} == {"192.0.2.9"}


def test_environment_configures_the_dnspython_resolver():
    script = ("from gevent.resolver.dnspython import Resolver; r = Resolver(); "
              "print(r.nameservers, r.lifetime)")
    env = dict(os.environ, GEVENT_RESOLVER_NAMESERVERS="192.0.2.53,192.0.2.54",
               GEVENT_RESOLVER_TIMEOUT="3.5",
               PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            env=env, timeout=30)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "['192.0.2.53', '192.0.2.54'] 3.5"


def test_missing_dnspython_gives_a_clear_import_error():
    script = ("import sys; sys.modules['dns'] = None\n"
              "try:\n import gevent.resolver.dnspython\n"
              "except ImportError as ex:\n print(ex)")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            env=env, timeout=30)
    assert "pip install gevent[dnspython]" in result.stdout


@pytest.fixture
def ares_resolver(server):
    pytest.importorskip("pycares")
    from gevent.resolver.ares import Resolver

    res = Resolver(servers=["127.0.0.1"], udp_port=server.port, timeout=1, tries=1)
    yield res
    res.close()


def test_ares_lookups(ares_resolver, server):
    result = ares_resolver.getaddrinfo("www.example.test", 80, socket.AF_INET,
                                       socket.SOCK_STREAM)
    assert sorted(info[4] for info in result) == [("192.0.2.1", 80), ("192.0.2.2", 80)]
    name, aliases, addresses = ares_resolver.gethostbyname_ex("alias.example.test")
    assert (name, aliases, sorted(addresses)) == (
        "www.example.test", ["alias.example.test"], ["192.0.2.1", "192.0.2.2"])
    assert ares_resolver.gethostbyaddr("192.0.2.1")[0] == "www.example.test"
    with pytest.raises(socket.gaierror):
        ares_resolver.gethostbyname("nope.example.test")
    assert ares_resolver.getaddrinfo("localhost", 80, socket.AF_INET, socket.SOCK_STREAM) == \
        stdsocket.getaddrinfo("localhost", 80, socket.AF_INET, socket.SOCK_STREAM)
    glets = [gevent.spawn(ares_resolver.gethostbyname, "v4only.example.test")
             for _ in range(10)]
    gevent.joinall(glets, timeout=5, raise_error=True)
    assert {g.value for g in glets} == {"192.0.2.9"}


def test_ares_timeout(ares_resolver, server):
    server.silent = True
    start = time.monotonic()
    with pytest.raises(socket.gaierror):
        ares_resolver.gethostbyname("www.example.test")
    assert time.monotonic() - start < 5


def test_missing_pycares_gives_a_clear_import_error():
    script = ("import sys; sys.modules['pycares'] = None\n"
              "try:\n import gevent.resolver.ares\n"
              "except ImportError as ex:\n print(ex)")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            env=env, timeout=30)
    assert "gevent[ares]" in result.stdout


def test_ares_specific_settings_come_before_the_generic_ones(monkeypatch):
    pytest.importorskip("pycares")
    from gevent._config import config
    from gevent.resolver import ares

    monkeypatch.setattr(config, "resolver_nameservers", ["127.0.0.3"])
    resolver = ares.Resolver(hub=gevent.get_hub())
    try:
        assert [s.split(":")[0] for s in resolver.channel.servers] == ["127.0.0.3"]
    finally:
        resolver.close()
    monkeypatch.setattr(config, "ares_servers", ["127.0.0.2"])
    resolver = ares.Resolver(hub=gevent.get_hub())
    try:
        assert [s.split(":")[0] for s in resolver.channel.servers] == ["127.0.0.2"]
    finally:
        resolver.close()
