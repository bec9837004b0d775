"""What other code relies on in gevent.pywsgi: the WSGIHandler attributes gunicorn and
gevent-websocket use, the environ compared with wsgiref's, TLS, and the command line."""

from __future__ import annotations

import base64
import hashlib
import io
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from wsgiref.simple_server import WSGIRequestHandler, make_server

import pytest

import gevent
from gevent import socket
from gevent.pywsgi import WSGIHandler, WSGIServer
from test_pywsgi import Client, client_of, hello, serving

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# -- gunicorn's PyWSGIHandler ------------------------------------------------------------------


def test_gunicorn_style_handler_contract():
    seen = {}

    class Access:
        def access(self, response, request_headers, environ, request_time):
            seen["access"] = (response, list(request_headers), environ, request_time)

    class GunicornLikeHandler(WSGIHandler):
        def log_request(self):
            seen["status"] = self.status
            seen["code"] = int(self.status.split()[0])
            seen["response_headers"] = list(self.response_headers)
            seen["response_length"] = self.response_length
            seen["elapsed"] = self.time_finish - self.time_start
            self.server.log.access(None, self.headers.items(), self.environ, seen["elapsed"])

        def get_environ(self):
            env = super().get_environ()
            env["gunicorn.sock"] = self.socket
            env["RAW_URI"] = self.path
            return env

    def app(environ, start_response):
        seen["raw_uri"] = environ["RAW_URI"]
        seen["has_sock"] = environ["gunicorn.sock"] is not None
        return hello(environ, start_response)

    with serving(app, handler_class=GunicornLikeHandler, log=Access()) as server:
        with client_of(server) as client:
            assert client.request(path="/a%20b?x=1", headers=[("X-Req", "1")]).status == 200
    assert seen["status"] == "200 OK" and seen["code"] == 200
    assert ("Content-Type", "text/plain") in seen["response_headers"]
    assert seen["response_length"] > len(b"hello world")
    assert seen["elapsed"] >= 0
    assert seen["raw_uri"] == "/a%20b?x=1" and seen["has_sock"]
    assert ("X-Req", "1") in seen["access"][1]
    assert seen["access"][2]["PATH_INFO"] == "/a b"


def test_server_subclass_overriding_handle():
    handled = []

    class Server(WSGIServer):
        def handle(self, sock, address):
            handled.append(address)
            super().handle(sock, address)

    server = Server(("127.0.0.1", 0), hello, log=None)
    server.start()
    try:
        with client_of(server) as client:
            assert client.request().status == 200
    finally:
        server.stop()
    assert handled


# -- gevent-websocket's WebSocketHandler ---------------------------------------------------------

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


class EchoUpgradeHandler(WSGIHandler):
    """The moves gevent-websocket makes: override run_application, start_response and a
    _prepare_response of its own; 101 via start_response + write(''); then talk on
    rfile.read / socket.sendall."""

    def run_application(self):
        if self.environ.get("HTTP_UPGRADE", "").lower() != "echo":
            return super().run_application()
        key = self.environ["HTTP_SEC_KEY"]
        accept = base64.b64encode(hashlib.sha1((key + GUID).encode()).digest()).decode()
        self.result = None
        self.upgraded = True
        self.start_response("101 Switching Protocols",
                            [("Upgrade", "echo"), ("Connection", "Upgrade"),
                             ("Sec-Accept", accept)])
        if self.status and not self.headers_sent:
            self.write("")
        # Echo length-prefixed frames until a zero length.
        read, write = self.rfile.read, self.socket.sendall
        while True:
            size = read(1)
            if not size or size == b"\x00":
                break
            write(size + read(size[0]))

    def start_response(self, status, headers, exc_info=None):
        writer = super().start_response(status, headers, exc_info=exc_info)
        self._prepare_response()
        return writer

    def _prepare_response(self):
        assert not self.headers_sent
        if not getattr(self, "upgraded", False):
            return
        self.provided_content_length = False
        self.response_use_chunked = False
        self.close_connection = True
        self.provided_date = True

    def log_request(self):
        if "101" not in str(self.status):
            super().log_request()


def test_websocket_style_upgrade_and_echo():
    with serving(hello, handler_class=EchoUpgradeHandler) as server:
        with client_of(server) as client:
            # The first frame travels in the same packet as the upgrade request: it must
            # reach rfile.read, not be lost in the HTTP parser's buffer.
            client.send(b"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: echo\r\n"
                        b"Connection: Upgrade\r\nSec-Key: abc\r\n\r\n\x03hey")
            response = client.read_response()
            assert response.status == 101
            assert response.header("Date") is None
            assert response.header("Content-Length") is None
            assert response.header("Transfer-Encoding") is None
            assert response.header("Sec-Accept")
            assert client.read_exact(4) == b"\x03hey"
            client.send(b"\x02yo")
            assert client.read_exact(3) == b"\x02yo"
            client.send(b"\x00")
            assert client.is_closed()
        with client_of(server) as client:
            assert client.request().body == b"hello world"


def test_simple_websocket_reaches_the_socket_through_wsgi_input():
    found = []

    def app(environ, start_response):
        found.append(environ["wsgi.input"].rfile.raw._sock)
        return hello(environ, start_response)

    with serving(app) as server, client_of(server) as client:
        assert client.request().status == 200
    assert found and hasattr(found[0], "sendall")


# -- the environ against wsgiref -----------------------------------------------------------------

_COMPARED = ("REQUEST_METHOD", "SCRIPT_NAME", "PATH_INFO", "QUERY_STRING", "CONTENT_TYPE",
             "CONTENT_LENGTH", "SERVER_PROTOCOL", "wsgi.version", "wsgi.url_scheme",
             "wsgi.run_once", "REMOTE_ADDR")


def _snapshot(environ):
    body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
    data = {key: environ.get(key) for key in _COMPARED}
    data.update({key: value for key, value in environ.items() if key.startswith("HTTP_")})
    data["body"] = body
    # wsgiref leaves an empty CONTENT_LENGTH where the request had none, and invents a
    # CONTENT_TYPE of text/plain (http.server's default): PEP 3333 lets both be absent.
    if not data["CONTENT_LENGTH"]:
        data["CONTENT_LENGTH"] = None
    if "HTTP_CONTENT_TYPE" not in environ and environ.get("CONTENT_TYPE") == "text/plain":
        data["CONTENT_TYPE"] = None
    return data


REQUESTS = [
    b"GET /plain HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n",
    b"GET /a%20b/%C3%A9?x=1&y=%20 HTTP/1.1\r\nHost: h\r\nAccept: */*\r\n"
    b"Connection: close\r\n\r\n",
    b"POST /form HTTP/1.0\r\nHost: h\r\nContent-Type: application/x-www-form-urlencoded\r\n"
    b"Content-Length: 7\r\nX-Custom-Header: v1\r\nX-Custom-Header: v2\r\n\r\na=1&b=2",
    b"GET /?only=query HTTP/1.1\r\nHost: h\r\nCookie: a=b\r\nConnection: close\r\n\r\n",
]


@pytest.mark.parametrize("raw", REQUESTS)
def test_environ_matches_wsgiref(raw):
    ours, theirs = [], []

    def app_for(record):
        def app(environ, start_response):
            record.append(_snapshot(environ))
            start_response("200 OK", [("Content-Length", "0")])
            return [b""]
        return app

    class Quiet(WSGIRequestHandler):
        def log_message(self, *args):
            pass

    reference = make_server("127.0.0.1", 0, app_for(theirs), handler_class=Quiet)
    thread = threading.Thread(target=reference.handle_request, daemon=True)
    thread.start()
    try:
        with Client(reference.server_address) as client:
            client.send(raw)
            client.read_to_eof()
    finally:
        thread.join(5)
        reference.server_close()
    with serving(app_for(ours)) as server, client_of(server) as client:
        client.send(raw)
        client.read_response()
    assert ours and theirs
    ours_data, theirs_data = ours[0], theirs[0]
    # wsgiref joins repeated headers with ","; so do we.
    assert ours_data == theirs_data


def test_environ_extras():
    captured = {}

    def app(environ, start_response):
        captured.update(environ)
        return hello(environ, start_response)

    with serving(app, environ={"custom.key": "value"}) as server, client_of(server) as client:
        client.request(headers=[("X_Underscored", "spoof"), ("Content-Type", "text/x")])
        port = server.server_port
    assert captured["SERVER_SOFTWARE"].startswith("gevent/")
    assert captured["SERVER_PORT"] == str(port)
    assert captured["custom.key"] == "value"
    assert captured["wsgi.multithread"] is False and captured["wsgi.input_terminated"] is True
    assert captured["wsgi.errors"] is sys.stderr
    assert callable(captured["wsgi.file_wrapper"])
    assert "HTTP_X_UNDERSCORED" not in captured and "HTTP_CONTENT_TYPE" not in captured
    assert captured["CONTENT_TYPE"] == "text/x"
    assert int(captured["REMOTE_PORT"]) > 0


# -- TLS ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    directory = tmp_path_factory.mktemp("tls")
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=localhost", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    return str(cert), str(key)


def test_https_and_failed_handshakes_do_not_stop_the_server(certificate, capsys):
    from gevent import ssl

    cert, key = certificate
    captured = {}

    def app(environ, start_response):
        captured["scheme"] = environ["wsgi.url_scheme"]
        return hello(environ, start_response)

    with serving(app, certfile=cert, keyfile=key) as server:
        assert server.ssl_enabled
        with client_of(server) as plain:
            plain.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            assert plain.is_closed()
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        raw = socket.create_connection(server.address[:2])
        with context.wrap_socket(raw, server_hostname="localhost") as tls:
            tls.settimeout(5)
            tls.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            data = b""
            while True:
                chunk = tls.recv(65536)
                if not chunk:
                    break
                data += chunk
    assert data.startswith(b"HTTP/1.1 200 OK") and data.endswith(b"hello world")
    assert captured["scheme"] == "https"
    capsys.readouterr()


# -- the command line ----------------------------------------------------------------------------


def _start_cli(*args):
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [os.path.join(ROOT, "src")] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "gevent.pywsgi", "--host", "127.0.0.1", "--port", "0",
         "--no-access-log", *args, "examples.hello:application"],
        cwd=ROOT, env=env, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True,
        start_new_session=True,
    )
    # A reader thread, so that waiting for a line can be bounded (a bare readline could hang).
    process.lines = queue.Queue()

    def read_lines():
        try:
            for line in process.stderr:
                process.lines.put(line)
        except (ValueError, OSError):
            pass  # _cleanup closed the pipe under us: the test is over
        process.lines.put("")

    threading.Thread(target=read_lines, daemon=True).start()
    return process


def _cleanup(process):
    """Kill what is left of the command's own process group (workers included)."""
    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.wait()
    process.stderr.close()


def _wait_for_lines(process, count, timeout=20):
    """Read stderr until *count* 'serving' lines; return them."""
    lines = []
    deadline = time.monotonic() + timeout
    while len(lines) < count:
        remaining = deadline - time.monotonic()
        assert remaining > 0, f"server did not start: {lines}"
        try:
            line = process.lines.get(timeout=remaining)
        except queue.Empty:
            raise AssertionError(f"no output from the server within {timeout} s: {lines}")
        assert line, f"server exited: {process.wait()} {lines}"
        if " serving " in line:
            lines.append(line)
    return lines


def _get(port):
    with Client(("127.0.0.1", port)) as client:
        return client.request(headers=[("Connection", "close")])


def _port_and_pid(line):
    pid = int(re.search(r"pid (\d+)", line).group(1))
    port = int(line.rsplit(":", 1)[1])
    return port, pid


def test_cli_serves_and_stops_on_sigterm():
    process = _start_cli()
    try:
        (line,) = _wait_for_lines(process, 1)
        port, _ = _port_and_pid(line)
        response = _get(port)
        assert response.status == 200 and response.body == b"Hello, World!\n"
        process.send_signal(signal.SIGTERM)
        assert process.wait(10) == 0
    finally:
        _cleanup(process)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_cli_workers_restart_and_shut_down():
    process = _start_cli("--workers", "2", "--graceful-timeout", "2")
    try:
        lines = _wait_for_lines(process, 2)
        ports_pids = [_port_and_pid(line) for line in lines]
        port = ports_pids[0][0]
        assert all(p == port for p, _ in ports_pids)
        for _ in range(4):
            assert _get(port).status == 200
        os.kill(ports_pids[0][1], signal.SIGKILL)
        (line,) = _wait_for_lines(process, 1)
        assert _port_and_pid(line)[1] not in {pid for _, pid in ports_pids}
        assert _get(port).status == 200
        process.send_signal(signal.SIGINT)
        assert process.wait(15) == 0
    finally:
        _cleanup(process)


def test_cli_rejects_bad_arguments():
    result = subprocess.run([sys.executable, "-m", "gevent.pywsgi", "no_colon"], cwd=ROOT,
                            env={**os.environ, "PYTHONPATH": os.path.join(ROOT, "src")},
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 2 and "module:attribute" in result.stderr


def test_log_error_goes_to_error_log():
    errors = io.StringIO()
    with serving(hello, error_log=errors) as server, client_of(server) as client:
        client.send(b"BROKEN\r\n\r\n")
        assert client.read_response().status == 400
    assert "invalid request" in errors.getvalue()
    gevent.sleep(0)
