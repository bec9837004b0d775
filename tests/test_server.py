"""gevent.server: StreamServer and DatagramServer on real sockets."""

from __future__ import annotations

import io
import time

import pytest

import gevent
from gevent import socket
from gevent.event import Event
from gevent.server import DatagramServer, StreamServer


def echo(sock, address):
    with sock:
        while True:
            data = sock.recv(1024)
            if not data:
                return
            sock.sendall(data)


def roundtrip(address, payload=b"ping", timeout=5.0):
    with socket.create_connection(address[:2]) as client:
        client.settimeout(timeout)
        client.sendall(payload)
        data = b""
        while len(data) < len(payload):
            chunk = client.recv(1024)
            if not chunk:
                break
            data += chunk
        return data


@pytest.mark.parametrize(
    "spawn", ["default", None, 3, "pool", "callable"], ids=["default", "inline", "int", "pool",
                                                           "callable"]
)
def test_echo_with_every_spawn_kind(spawn):
    spawned = []
    if spawn in ("pool", 3):
        Pool = pytest.importorskip("gevent.pool").Pool
    if spawn == "pool":
        spawn = Pool(5)
    elif spawn == "callable":
        def spawn(function, *args):
            spawned.append(args[1])
            return gevent.spawn(function, *args)
    server = StreamServer(("127.0.0.1", 0), echo, spawn=spawn)
    server.start()
    try:
        for i in range(3):
            assert roundtrip(server.address, b"hello %d" % i) == b"hello %d" % i
        if isinstance(spawn, int):
            assert server.pool.size == 3
    finally:
        server.stop()
    if callable(spawn) and not hasattr(spawn, "spawn"):
        assert len(spawned) == 3


def test_listener_forms_and_properties():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(5)
    port = listener.getsockname()[1]
    for given in (listener, f"127.0.0.1:{port + 0}"):
        if isinstance(given, str):
            listener.close()
        server = StreamServer(given, echo)
        assert not server.started
        server.start()
        try:
            assert server.started and not server.closed
            assert server.server_host == "127.0.0.1" and server.server_port == port
            assert server.address[:2] == ("127.0.0.1", port)
            assert server.socket is not None
            assert roundtrip(server.address) == b"ping"
            assert "127.0.0.1" in repr(server) and "127.0.0.1" in str(server)
        finally:
            server.stop()
        assert server.closed and not server.started
    with pytest.raises(TypeError):  # as gevent
        StreamServer(socket.socket(), echo, backlog=5).close()


def test_handle_method_subclass_and_set_handle():
    class Upper(StreamServer):
        def handle(self, sock, address):
            with sock:
                sock.sendall(sock.recv(100).upper())

    server = Upper(("127.0.0.1", 0))
    server.start()
    try:
        assert roundtrip(server.address, b"abc") == b"ABC"
        server.set_handle(echo)
        assert roundtrip(server.address, b"abc") == b"abc"
    finally:
        server.stop()


def test_serve_forever_until_stop_and_restart():
    server = StreamServer(("127.0.0.1", 0), echo)
    runner = gevent.spawn(server.serve_forever)
    gevent.sleep(0.01)
    try:
        assert server.started
        assert roundtrip(server.address) == b"ping"
    finally:
        server.stop()
    runner.join(5)
    assert runner.dead
    # A server built from an address can start again.
    server.start()
    try:
        assert roundtrip(server.address) == b"ping"
    finally:
        server.stop()


def test_context_manager_stops():
    with StreamServer(("127.0.0.1", 0), echo) as server:
        server.start()
        assert roundtrip(server.address) == b"ping"
    assert server.closed


def test_handler_error_is_reported_and_server_goes_on(capsys):
    def handle(sock, address):
        with sock:
            if sock.recv(10) == b"boom":
                raise ZeroDivisionError("handler failed")
            sock.sendall(b"fine")

    server = StreamServer(("127.0.0.1", 0), handle)
    server.start()
    try:
        with socket.create_connection(server.address[:2]) as client:
            client.sendall(b"boom")
            client.settimeout(5)
            assert client.recv(10) == b""
        assert roundtrip(server.address, b"okay") == b"fine"
    finally:
        server.stop()
    assert "ZeroDivisionError" in capsys.readouterr().err


def test_full_pool_pauses_accepting():
    pytest.importorskip("gevent.pool")
    release = Event()
    running = []

    def handle(sock, address):
        with sock:
            running.append(address)
            release.wait(5)
            sock.sendall(b"done")

    server = StreamServer(("127.0.0.1", 0), handle, spawn=1)
    server.start()
    clients = [socket.create_connection(server.address[:2]) for _ in range(2)]
    try:
        gevent.sleep(0.1)
        assert len(running) == 1 and server.full()
        release.set()
        for client in clients:
            client.settimeout(5)
            assert client.recv(10) == b"done"
        assert len(running) == 2
    finally:
        for client in clients:
            client.close()
        server.stop()


def test_stop_waits_then_kills():
    finished = []

    def handle(sock, address):
        with sock:
            gevent.sleep(0.1 if sock.recv(10) == b"fast" else 30)
            finished.append(True)

    server = StreamServer(("127.0.0.1", 0), handle)
    server.start()
    fast = socket.create_connection(server.address[:2])
    slow = socket.create_connection(server.address[:2])
    try:
        fast.sendall(b"fast")
        slow.sendall(b"slow")
        gevent.sleep(0.02)
        start = time.monotonic()
        server.stop(timeout=0.5)
        assert time.monotonic() - start < 3
        assert finished == [True]
    finally:
        fast.close()
        slow.close()


def test_tls_server_drops_bad_handshakes(tmp_path):
    import subprocess

    from gevent import ssl

    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=localhost", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(cert), str(key))
    server = StreamServer(("127.0.0.1", 0), echo, ssl_context=context)
    server.error_log = io.StringIO()
    server.start()
    try:
        assert server.ssl_enabled
        with socket.create_connection(server.address[:2]) as plain:
            plain.settimeout(5)
            plain.sendall(b"not a handshake at all\r\n")
            try:
                assert plain.recv(10) == b""
            except ConnectionResetError:
                pass
        client_context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        client_context.check_hostname = False
        client_context.verify_mode = ssl.CERT_NONE
        raw = socket.create_connection(server.address[:2])
        with client_context.wrap_socket(raw) as tls:
            tls.settimeout(5)
            tls.sendall(b"secret")
            assert tls.recv(10) == b"secret"
    finally:
        server.stop()
    assert "TLS handshake" in server.error_log.getvalue()


def test_datagram_server_echo():
    class Echo(DatagramServer):
        def handle(self, data, address):
            self.sendto(data.upper(), address)

    server = Echo(("127.0.0.1", 0))
    server.start()
    client = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        client.settimeout(5)
        for word in (b"one", b"two"):
            client.sendto(word, server.address)
            data, address = client.recvfrom(100)
            assert data == word.upper() and address == server.address
    finally:
        client.close()
        server.stop()
    assert server.closed


def test_stop_kills_handlers_and_releases_their_sockets():
    import os

    from gevent import socket as gsocket
    from gevent.server import StreamServer as Server

    def handle(sock, address):
        gevent.sleep(30)

    before = len(os.listdir("/proc/self/fd"))
    server = Server(("127.0.0.1", 0), handle)
    server.start()
    clients = [gsocket.create_connection(("127.0.0.1", server.server_port)) for _ in range(20)]
    deadline = time.monotonic() + 5
    while len(server._handlers) < 20 and time.monotonic() < deadline:
        gevent.sleep(0.01)
    server.stop(timeout=0.1)
    for client in clients:
        client.close()
    assert len(os.listdir("/proc/self/fd")) <= before


@pytest.mark.parametrize("outcome", ["raises", "returns"])
def test_client_socket_closed_when_handler_ends(outcome, capsys):
    # gevent closes the accepted socket when the handler ends, whatever happened: a handler
    # that raises (or simply returns without closing) must not leave the client waiting
    # until the socket object is garbage collected.
    kept = []

    def handle(sock, address):
        kept.append(sock)  # a live reference: only the server's close can end the connection
        sock.recv(10)
        if outcome == "raises":
            raise ZeroDivisionError("handler failed")

    server = StreamServer(("127.0.0.1", 0), handle)
    server.start()
    try:
        with socket.create_connection(server.address[:2]) as client:
            client.sendall(b"hello")
            client.settimeout(5)
            assert client.recv(10) == b""  # EOF, not a timeout
    finally:
        server.stop()
        kept.clear()
    if outcome == "raises":
        assert "ZeroDivisionError" in capsys.readouterr().err


def test_repr_with_a_handle_bound_to_the_server_does_not_recurse():
    class Server(StreamServer):
        def handle(self, sock, address):
            sock.close()

    server = Server(("127.0.0.1", 0))
    try:
        server.set_handle(server.handle)
        assert "handle=<bound method" in repr(server) and "of self>" in repr(server)
        server.set_handle(echo)
        assert "echo" in repr(server)
    finally:
        server.close()
