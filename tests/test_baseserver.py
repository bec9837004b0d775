"""gevent.baseserver: listener parsing, configuration and the abstract contract."""

from __future__ import annotations

import socket as stdlib_socket

import pytest

from gevent.baseserver import BaseServer, _parse_address


@pytest.mark.parametrize(
    ("given", "family", "address"),
    [
        (("127.0.0.1", 80), stdlib_socket.AF_INET, ("127.0.0.1", 80)),
        (("", 80), stdlib_socket.AF_INET, ("", 80)),
        (("::1", 80), stdlib_socket.AF_INET6, ("::1", 80)),
        ("127.0.0.1:8000", stdlib_socket.AF_INET, ("127.0.0.1", 8000)),
        (":8000", stdlib_socket.AF_INET, ("", 8000)),
        ("*:8000", stdlib_socket.AF_INET, ("", 8000)),
        ("[::1]:8000", stdlib_socket.AF_INET6, ("::1", 8000)),
        ("8000", stdlib_socket.AF_INET, ("", 8000)),
        (8000, stdlib_socket.AF_INET, ("", 8000)),
    ],
)
def test_parse_address(given, family, address):
    assert _parse_address(given) == (family, address)


def test_parse_address_rejects_junk():
    with pytest.raises(TypeError):
        _parse_address(object())
    with pytest.raises(ValueError):
        _parse_address("host:notaport")


def test_handle_is_required():
    with pytest.raises(TypeError):
        BaseServer(("127.0.0.1", 0))


def test_configuration_without_starting():
    calls = []
    server = BaseServer(("127.0.0.1", 8123), handle=calls.append)
    assert not server.started
    assert server.server_host == "127.0.0.1" and server.server_port == 8123
    assert server.pool is None and not server.full()
    assert "127.0.0.1:8123" in repr(server)
    server.set_spawn(None)
    server.do_handle("direct")
    assert calls == ["direct"]
    if pytest.importorskip("gevent.pool"):
        server.set_spawn(2)
        assert server.pool.size == 2
    assert BaseServer.max_accept >= 1 and BaseServer.stop_timeout > 0
    assert server.is_fatal_error(OSError(9, "bad fd"))
    assert not server.is_fatal_error(OSError(104, "reset"))
    with pytest.raises(NotImplementedError):
        server.do_read()
    server.close()
    assert server.closed
