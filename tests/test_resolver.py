"""gevent.resolver: results equal the unpatched standard library's; numbers never reach it."""

from __future__ import annotations

import os
import socket as stdsocket
import subprocess
import sys

import pytest

import gevent
from _net_helpers import ensure_threadpool
from gevent import socket
from gevent.hub import get_hub
from gevent.resolver import AbstractResolver
from gevent.resolver import blocking as blocking_resolver
from gevent.resolver import thread as thread_resolver


def hosts_file_names() -> list[str]:
    names = []
    try:
        with open("/etc/hosts") as f:
            for line in f:
                fields = line.split("#", 1)[0].split()
                names.extend(fields[1:])
    except OSError:
        pass
    return sorted(set(names))[:5]


NAMES = ["localhost", *[n for n in hosts_file_names() if n != "localhost"]]
LITERALS = ["127.0.0.1", "::1", "0.0.0.0", "127.1"]
QUERIES = [
    (0, 0, 0, 0),
    (stdsocket.AF_INET, stdsocket.SOCK_STREAM, 0, 0),
    (stdsocket.AF_INET, stdsocket.SOCK_DGRAM, 0, stdsocket.AI_CANONNAME),
    (0, stdsocket.SOCK_STREAM, 0, stdsocket.AI_PASSIVE),
]


def stdlib_result(func, *args):
    try:
        return ("ok", func(*args))
    except OSError as ex:
        return ("error", type(ex), ex.args[0] if ex.args else None)


@pytest.fixture(params=["thread", "blocking"])
def resolver(request):
    hub = get_hub()
    old = hub._resolver
    if request.param == "thread":
        ensure_threadpool()
        hub.resolver = thread_resolver.Resolver(hub=hub)
    else:
        hub.resolver = blocking_resolver.Resolver(hub=hub)
    yield hub.resolver
    hub.resolver.close()
    hub.resolver = old


@pytest.mark.parametrize("host", NAMES + LITERALS)
@pytest.mark.parametrize("query", QUERIES)
def test_getaddrinfo_equals_stdlib(resolver, host, query):
    for port in (80, "http", None, 0):
        if port is None and host is None:
            continue
        expected = stdlib_result(stdsocket.getaddrinfo, host, port, *query)
        assert stdlib_result(socket.getaddrinfo, host, port, *query) == expected
        assert stdlib_result(resolver.getaddrinfo, host, port, *query) == expected


@pytest.mark.parametrize("host", NAMES + LITERALS)
def test_gethostbyname_equals_stdlib(resolver, host):
    assert stdlib_result(socket.gethostbyname, host) == stdlib_result(stdsocket.gethostbyname,
                                                                      host)
    assert stdlib_result(socket.gethostbyname_ex, host) == stdlib_result(
        stdsocket.gethostbyname_ex, host)


@pytest.mark.parametrize("address", ["127.0.0.1", "localhost"])
def test_gethostbyaddr_and_getfqdn_equal_stdlib(resolver, address):
    assert stdlib_result(socket.gethostbyaddr, address) == stdlib_result(
        stdsocket.gethostbyaddr, address)
    assert socket.getfqdn(address) == stdsocket.getfqdn(address)
    assert socket.getfqdn() == stdsocket.getfqdn()


@pytest.mark.parametrize("flags", [0, stdsocket.NI_NUMERICHOST, stdsocket.NI_NUMERICSERV,
                                   stdsocket.NI_NUMERICHOST | stdsocket.NI_NUMERICSERV,
                                   stdsocket.NI_DGRAM])
def test_getnameinfo_equals_stdlib(resolver, flags):
    for sockaddr in [("127.0.0.1", 80), ("::1", 443, 0, 0), ("localhost", 22)]:
        assert stdlib_result(socket.getnameinfo, sockaddr, flags) == stdlib_result(
            stdsocket.getnameinfo, sockaddr, flags)


def test_errors_equal_stdlib(resolver):
    for args in [("no-such-host.invalid", 80), ("localhost", "no-such-service"),
                 (None, None), ("127.0.0.1", 80, 12345)]:
        assert stdlib_result(socket.getaddrinfo, *args) == stdlib_result(stdsocket.getaddrinfo,
                                                                        *args)


class Recording(AbstractResolver):
    def __init__(self) -> None:
        super().__init__()
        self.calls = []

    def _getaddrinfo(self, *args):
        self.calls.append(args)
        return []

    def _gethostbyname_ex(self, hostname):
        self.calls.append(hostname)
        return (hostname, [], [])


def test_numeric_hosts_and_ports_never_reach_the_resolver():
    hub = get_hub()
    old = hub._resolver
    recording = hub.resolver = Recording()
    try:
        socket.getaddrinfo("127.0.0.1", 80)
        socket.getaddrinfo("::1", "443", socket.AF_INET6)
        socket.getaddrinfo(None, 8080, flags=socket.AI_PASSIVE)
        socket.getaddrinfo("10.1.2.3", "http")
        socket.gethostbyname("192.168.0.1")
        socket.gethostbyname_ex("127.0.0.1")
        recording.getaddrinfo("127.0.0.1", 0)
        assert recording.calls == []
        socket.getaddrinfo("localhost", 80)
        assert recording.calls == [("localhost", 80, 0, 0, 0, 0)]
    finally:
        hub.resolver = old


def test_thread_resolver_does_not_block_other_greenlets():
    ensure_threadpool()
    hub = get_hub()
    old = hub._resolver
    hub.resolver = thread_resolver.Resolver(hub=hub)
    ticks = []

    def ticker():
        for _ in range(3):
            ticks.append(1)
            gevent.sleep(0)

    try:
        glet = gevent.spawn(ticker)
        assert socket.getaddrinfo("localhost", 80) == stdsocket.getaddrinfo("localhost", 80)
        glet.join(timeout=5)
        assert ticks
    finally:
        hub.resolver = old


@pytest.mark.parametrize("name,expected", [
    ("block", "gevent.resolver.blocking.Resolver"),
    ("thread", "gevent.resolver.thread.Resolver"),
])
def test_gevent_resolver_environment_variable(name, expected):
    script = ("from gevent._config import config; r = config.resolver; "
              "print(r.__module__ + '.' + r.__name__)")
    env = dict(os.environ, GEVENT_RESOLVER=name,
               PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            env=env, timeout=30)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == expected
