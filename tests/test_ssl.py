"""gevent.ssl: a real TLS server and client on 127.0.0.1 with a certificate made for the tests."""

from __future__ import annotations

import os
import ssl as stdssl
import subprocess
import sys
import textwrap

import pytest

import gevent
from _net_helpers import make_certificate
from gevent import socket, ssl


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    return make_certificate(str(tmp_path_factory.mktemp("tls")))


@pytest.fixture
def contexts(certificate):
    certfile, keyfile = certificate
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(certfile, keyfile)
    client = ssl.create_default_context(cafile=certfile)
    return server, client


def listener():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    return sock


def tls_pair(contexts):
    server_context, client_context = contexts
    lst = listener()
    try:
        raw_client = socket.create_connection(lst.getsockname(), timeout=5)
        raw_server, _ = lst.accept()
    finally:
        lst.close()
    server_side = gevent.spawn(server_context.wrap_socket, raw_server, server_side=True)
    client = client_context.wrap_socket(raw_client, server_hostname="localhost")
    return client, server_side.get(timeout=5)


def test_types_and_isinstance(contexts):
    server_context, client_context = contexts
    assert isinstance(client_context, ssl.SSLContext)
    assert isinstance(client_context, stdssl.SSLContext)
    assert isinstance(ssl._create_unverified_context(), ssl.SSLContext)
    client, server = tls_pair(contexts)
    try:
        for sock in (client, server):
            assert isinstance(sock, ssl.SSLSocket)
            assert isinstance(sock, stdssl.SSLSocket)
            assert isinstance(sock, socket.socket)
        assert client.version().startswith("TLS")
        assert client.getpeercert()["subject"] == ((("commonName", "localhost"),),)
        assert server.server_side and not client.server_side
    finally:
        client.close()
        server.close()


def test_exchange_both_ways_and_sendall_large(contexts):
    client, server = tls_pair(contexts)
    payload = os.urandom(3 << 20)
    try:
        sender = gevent.spawn(client.sendall, payload)
        received = bytearray()
        buffer = bytearray(65536)
        while len(received) < len(payload):
            count = server.recv_into(buffer)
            assert count
            received += buffer[:count]
        sender.get(timeout=10)
        assert bytes(received) == payload
        server.sendall(b"back")
        assert client.recv(10) == b"back"
    finally:
        client.close()
        server.close()


def test_recv_and_handshake_timeouts(contexts):
    server_context, _client_context = contexts
    client, server = tls_pair(contexts)
    try:
        client.settimeout(0.05)
        with pytest.raises(socket.timeout):
            client.recv(10)
        with pytest.raises(socket.timeout):
            client.read(10)
    finally:
        client.close()
        server.close()
    # A server handshake with a client that never speaks times out.
    lst = listener()
    try:
        raw_client = socket.create_connection(lst.getsockname())
        raw_server, _ = lst.accept()
        raw_server.settimeout(0.05)
        with pytest.raises(socket.timeout):
            server_context.wrap_socket(raw_server, server_side=True).close()
        raw_server.close()
        raw_client.close()
    finally:
        lst.close()


def test_sendall_timeout(contexts):
    client, server = tls_pair(contexts)
    try:
        client.settimeout(0.2)
        with pytest.raises(socket.timeout):
            client.sendall(b"x" * (64 << 20))
    finally:
        client.close()
        server.close()


def test_send_takes_gevent_timeout_argument(contexts):
    client, server = tls_pair(contexts)
    try:
        client.setblocking(False)
        with pytest.raises(socket.timeout):
            while True:  # fill the buffers; then the explicit timeout makes send wait
                client.send(b"x" * 65536, timeout=0.05)
    finally:
        client.close()
        server.close()


def test_nonblocking_tls_socket_raises_want_read(contexts):
    client, server = tls_pair(contexts)
    try:
        client.setblocking(False)
        with pytest.raises(ssl.SSLWantReadError):
            client.recv(10)
    finally:
        client.close()
        server.close()


def test_accept_handshakes_and_errors_raise_per_connection(contexts):
    server_context, client_context = contexts
    lst = server_context.wrap_socket(listener(), server_side=True)
    try:
        def bad_client():
            with socket.create_connection(lst.getsockname(), timeout=5) as sock:
                sock.sendall(b"GET / HTTP/1.0\r\n\r\n")
                sock.recv(100)

        bad = gevent.spawn(bad_client)
        with pytest.raises(ssl.SSLError):
            lst.accept()
        bad.join(timeout=5)

        def good_client():
            raw = socket.create_connection(lst.getsockname(), timeout=5)
            with client_context.wrap_socket(raw, server_hostname="localhost") as sock:
                sock.sendall(b"hello")
                return sock.recv(10)

        good = gevent.spawn(good_client)
        conn, _ = lst.accept()
        assert isinstance(conn, ssl.SSLSocket)
        conn.sendall(conn.recv(10).upper())
        assert good.get(timeout=5) == b"HELLO"
        conn.close()
    finally:
        lst.close()


def test_connect_handshake_and_no_handshake_on_connect(contexts):
    server_context, client_context = contexts
    lst = server_context.wrap_socket(listener(), server_side=True,
                                     do_handshake_on_connect=False)
    try:
        def server():
            conn, _ = lst.accept()
            conn.settimeout(5)
            conn.do_handshake()
            conn.sendall(b"ok")
            conn.close()

        glet = gevent.spawn(server)
        client = client_context.wrap_socket(socket.socket(), server_hostname="localhost",
                                            do_handshake_on_connect=False)
        client.settimeout(5)
        client.connect(lst.getsockname())
        assert client.cipher() is None
        client.do_handshake()
        assert client.cipher() is not None
        assert client.recv(2) == b"ok"
        glet.get(timeout=5)
        client.close()
    finally:
        lst.close()


def test_unwrap_returns_plain_socket(contexts):
    client, server = tls_pair(contexts)
    unwrapped = gevent.spawn(server.unwrap)
    plain_client = client.unwrap()
    plain_server = unwrapped.get(timeout=5)
    try:
        plain_client.sendall(b"clear")
        assert plain_server.recv(5) == b"clear"
    finally:
        plain_client.close()
        plain_server.close()
        client.close()
        server.close()


def test_makefile(contexts):
    client, server = tls_pair(contexts)
    try:
        reader = server.makefile("rb")
        writer = client.makefile("wb")
        writer.write(b"one\ntwo\n")
        writer.flush()
        assert reader.readline() == b"one\n"
        assert reader.readline() == b"two\n"
        reader.close()
        writer.close()
    finally:
        client.close()
        server.close()


def test_sni_callback(certificate, contexts):
    server_context, client_context = contexts
    seen = []

    def callback(sslobj, name, context):
        seen.append((name, isinstance(sslobj, ssl.SSLSocket)))

    server_context.sni_callback = callback
    client, server = tls_pair(contexts)
    client.close()
    server.close()
    assert seen == [("localhost", True)]


def test_get_server_certificate(certificate, contexts):
    server_context, _ = contexts
    lst = server_context.wrap_socket(listener(), server_side=True)

    def serve():
        conn, _ = lst.accept()
        conn.close()

    glet = gevent.spawn(serve)
    try:
        pem = ssl.get_server_certificate(lst.getsockname(), timeout=5)
        with open(certificate[0]) as f:
            expected = stdssl.PEM_cert_to_DER_cert(f.read())
        assert stdssl.PEM_cert_to_DER_cert(pem) == expected
        glet.get(timeout=5)
    finally:
        lst.close()


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_wrap_socket_function(certificate):
    certfile, keyfile = certificate
    lst = listener()
    try:
        def serve():
            conn, _ = lst.accept()
            tls = ssl.wrap_socket(conn, keyfile, certfile, server_side=True)
            tls.sendall(b"legacy")
            tls.close()

        glet = gevent.spawn(serve)
        client_context = ssl._create_unverified_context()
        raw = socket.create_connection(lst.getsockname(), timeout=5)
        with client_context.wrap_socket(raw) as tls:
            assert tls.recv(6) == b"legacy"
        glet.get(timeout=5)
    finally:
        lst.close()


def test_declarations():
    for name in ssl.__implements__ + ssl.__imports__:
        assert hasattr(stdssl, name), name
    for name in ssl.__all__:
        assert hasattr(ssl, name), name
    for name in ("SSLError", "SSLZeroReturnError", "CertificateError", "SSLObject", "MemoryBIO",
                 "PROTOCOL_TLS_CLIENT", "CERT_REQUIRED", "OP_NO_SSLv3", "HAS_SNI"):
        assert getattr(ssl, name) is getattr(stdssl, name)


def test_many_tls_connections_do_not_leak(contexts):
    for _ in range(30):
        client, server = tls_pair(contexts)
        client.sendall(b"x")
        assert server.recv(1) == b"x"
        client.close()
        server.close()


def _run_script(script: str) -> subprocess.CompletedProcess:
    """Run *script* in a fresh interpreter that sees this test run's path; it must exit 0."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            timeout=30, env=env)
    assert result.returncode == 0, result.stderr
    return result


def test_contexts_made_before_patching_keep_working(certificate):
    """ssl imported and contexts created first, then patched: no RecursionError, cooperative."""
    certfile, keyfile = certificate
    script = textwrap.dedent(f"""
        import ssl
        early_client = ssl.create_default_context(cafile={certfile!r})
        early_server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        early_server.load_cert_chain({certfile!r}, {keyfile!r})
        import gevent.ssl
        gevent.ssl._gevent_did_monkey_patch(ssl)
        early_client.options |= ssl.OP_NO_COMPRESSION
        early_client.minimum_version = ssl.TLSVersion.TLSv1_2
        early_client.verify_mode = ssl.CERT_REQUIRED
        late = ssl.create_default_context(cafile={certfile!r})
        late.options |= ssl.OP_NO_COMPRESSION
        assert isinstance(late, ssl.SSLContext)
        import gevent
        from gevent import socket
        lst = socket.socket(); lst.bind(("127.0.0.1", 0)); lst.listen()
        def serve():
            conn, _ = lst.accept()
            tls = early_server.wrap_socket(conn, server_side=True)
            tls.sendall(tls.recv(5).upper()); tls.close()
        ticker = []
        def tick():
            while True:
                ticker.append(1); gevent.sleep(0.001)
        gevent.spawn(tick)
        glet = gevent.spawn(serve)
        for context in (early_client,):
            raw = socket.create_connection(lst.getsockname(), timeout=5)
            tls = context.wrap_socket(raw, server_hostname="localhost")
            assert isinstance(tls, gevent.ssl.SSLSocket), type(tls)
            assert isinstance(tls, ssl.SSLSocket)
            tls.sendall(b"hello"); assert tls.recv(5) == b"HELLO"; tls.close()
        glet.get(timeout=5)
        assert ticker
        print("OK")
    """)
    result = _run_script(script)
    assert result.stdout.strip() == "OK"


def test_monkey_patch_after_contexts_were_created(certificate):
    """The real patch_all() after ssl was imported and contexts made: cooperative, no recursion."""
    certfile, keyfile = certificate
    script = textwrap.dedent(f"""
        import ssl
        client = ssl.create_default_context(cafile={certfile!r})
        server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        server.load_cert_chain({certfile!r}, {keyfile!r})
        from gevent import monkey
        monkey.patch_all()
        import socket, threading
        client.options |= ssl.OP_NO_COMPRESSION
        client.verify_flags |= ssl.VERIFY_X509_STRICT
        server.maximum_version = ssl.TLSVersion.TLSv1_3
        lst = socket.socket(); lst.bind(("127.0.0.1", 0)); lst.listen()
        def serve():
            conn, _ = lst.accept()
            with server.wrap_socket(conn, server_side=True) as tls:
                tls.sendall(tls.recv(5)[::-1])
        thread = threading.Thread(target=serve); thread.start()
        raw = socket.create_connection(lst.getsockname(), timeout=5)
        with client.wrap_socket(raw, server_hostname="localhost") as tls:
            import gevent.ssl
            assert isinstance(tls, gevent.ssl.SSLSocket) and isinstance(tls, ssl.SSLSocket)
            tls.sendall(b"hello"); assert tls.recv(5) == b"olleh"
        thread.join(5)
        assert isinstance(ssl.create_default_context(), ssl.SSLContext)
        assert ssl.SSLContext is gevent.ssl.SSLContext  # "ours" after patching, like socket
        assert isinstance(client, gevent.ssl.SSLContext)
        assert isinstance(gevent.ssl.create_default_context(), ssl.SSLContext)
        print("OK")
    """)
    result = _run_script(script)
    assert result.stdout.strip().endswith("OK")
