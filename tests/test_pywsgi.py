"""gevent.pywsgi on real sockets: the request/response cycle, PEP 3333, keep-alive, chunking.

Clients are green sockets in the test's own greenlet; the server runs in the same hub. The
helpers here (Client, serving) are shared with the other test_pywsgi_* files.
"""

from __future__ import annotations

import io
import logging
import re
from contextlib import contextmanager

import pytest

from gevent import socket
from gevent.pywsgi import (
    Environ,
    LoggingLogAdapter,
    SecureEnviron,
    WSGIHandler,
    WSGISecureEnviron,
    WSGIServer,
)

# -- helpers --------------------------------------------------------------------------------


class Response:
    def __init__(self, status, reason, headers, body, head):
        self.status = status
        self.reason = reason
        self.headers = headers
        self.body = body
        self.head = head

    def header(self, name, default=None):
        name = name.lower()
        for key, value in self.headers:
            if key.lower() == name:
                return value
        return default

    def __repr__(self):
        return f"<Response {self.status} {self.headers} {self.body[:60]!r}>"


class Client:
    """A minimal HTTP/1.1 client on a green socket that reads responses strictly."""

    def __init__(self, address, timeout=5.0):
        self.sock = socket.create_connection(address[:2])
        self.sock.settimeout(timeout)
        self.buffer = b""

    def send(self, data):
        self.sock.sendall(data)

    def _fill(self):
        data = self.sock.recv(65536)
        if not data:
            raise EOFError("server closed the connection")
        self.buffer += data

    def read_until(self, marker):
        while marker not in self.buffer:
            self._fill()
        data, _, self.buffer = self.buffer.partition(marker)
        return data

    def read_exact(self, size):
        while len(self.buffer) < size:
            self._fill()
        data, self.buffer = self.buffer[:size], self.buffer[size:]
        return data

    def read_to_eof(self):
        while True:
            try:
                self._fill()
            except EOFError:
                data, self.buffer = self.buffer, b""
                return data

    def read_response(self, method="GET"):
        head = self.read_until(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        _, status, reason = (lines[0].split(" ", 2) + [""])[:3]
        headers = [tuple(line.split(": ", 1)) for line in lines[1:]]
        response = Response(int(status), reason, headers, b"", head)
        code = response.status
        if method == "HEAD" or code in (204, 304) or code < 200:
            return response
        if (response.header("transfer-encoding") or "").lower() == "chunked":
            body = b""
            while True:
                size = int(self.read_until(b"\r\n").split(b";")[0], 16)
                if not size:
                    assert self.read_until(b"\r\n") == b""
                    break
                body += self.read_exact(size)
                assert self.read_exact(2) == b"\r\n"
            response.body = body
        elif response.header("content-length") is not None:
            response.body = self.read_exact(int(response.header("content-length")))
        else:
            response.body = self.read_to_eof()
        return response

    def request(self, method="GET", path="/", headers=(), body=b"", version="HTTP/1.1"):
        lines = [f"{method} {path} {version}", "Host: test"]
        lines += [f"{name}: {value}" for name, value in headers]
        framing = ("content-length", "transfer-encoding")
        if body and not any(name.lower() in framing for name, _ in headers):
            lines.append(f"Content-Length: {len(body)}")
        self.send(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
        return self.read_response(method)

    def is_closed(self):
        """True when the server has closed its side (EOF after any pending bytes)."""
        try:
            while True:
                data = self.sock.recv(65536)
                if not data:
                    return True
                self.buffer += data
        except ConnectionError:
            return True
        except socket.timeout:
            return False

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *args):
        self.close()


@contextmanager
def serving(application, log=None, error_log=None, **kwargs):
    server = WSGIServer(("127.0.0.1", 0), application, log=log,
                        error_log=error_log if error_log is not None else io.StringIO(),
                        **kwargs)
    server.start()
    try:
        yield server
    finally:
        server.stop(timeout=1)


@contextmanager
def client_of(server, timeout=5.0):
    client = Client(server.address, timeout)
    try:
        yield client
    finally:
        client.close()


def hello(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"hello world"]


def echo_environ(environ, start_response):
    body = environ["wsgi.input"].read()
    text = f"{environ['REQUEST_METHOD']} {environ['PATH_INFO']} {environ['QUERY_STRING']} "
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [text.encode("latin-1"), body]


# -- the basics -------------------------------------------------------------------------------


def test_hello_world_in_one_send():
    sends = []

    class CountingHandler(WSGIHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            real_sendall = self._sendall

            def sendall(data):
                sends.append(bytes(data))
                return real_sendall(data)

            self._sendall = sendall

    with serving(hello, handler_class=CountingHandler) as server, client_of(server) as client:
        response = client.request()
        assert (response.status, response.reason) == (200, "OK")
        assert response.body == b"hello world"
        assert response.header("Content-Length") == "11"
        assert response.header("Date")
        assert response.header("Connection") is None
    assert len(sends) == 1 and sends[0].endswith(b"\r\n\r\nhello world")


def test_accepted_sockets_have_tcp_nodelay():
    seen = []

    class Handler(WSGIHandler):
        def handle(self):
            seen.append(self.socket.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            super().handle()

    with serving(hello, handler_class=Handler) as server, client_of(server) as client:
        assert client.request().status == 200
    assert seen and seen[0] != 0


def test_keep_alive_and_pipelining():
    with serving(echo_environ) as server, client_of(server) as client:
        for i in range(3):
            assert client.request(path=f"/k{i}").body == f"GET /k{i}  ".encode()
        client.send(b"".join(b"GET /p%d?q HTTP/1.1\r\nHost: x\r\n\r\n" % i for i in range(5)))
        bodies = [client.read_response().body for _ in range(5)]
        assert bodies == [b"GET /p%d q " % i for i in range(5)]


def test_http10_closes_unless_keep_alive():
    with serving(hello) as server:
        with client_of(server) as client:
            response = client.request(version="HTTP/1.0")
            assert response.status == 200 and response.body == b"hello world"
            assert client.is_closed()
        with client_of(server) as client:
            response = client.request(version="HTTP/1.0", headers=[("Connection", "keep-alive")])
            assert response.header("Connection") == "keep-alive"
            assert client.request(version="HTTP/1.0").status == 200


def test_connection_close_from_client_and_from_app():
    def closing(environ, start_response):
        start_response("200 OK", [("Connection", "close"), ("Content-Length", "2")])
        return [b"ok"]

    with serving(hello) as server, client_of(server) as client:
        response = client.request(headers=[("Connection", "close")])
        assert response.header("Connection") == "close"
        assert client.is_closed()
    with serving(closing) as server, client_of(server) as client:
        assert client.request().body == b"ok"
        assert client.is_closed()


def test_generator_response_is_chunked_for_11_and_close_delimited_for_10():
    def generator(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain")])
        yield b"one "
        yield b""
        yield b"two"

    with serving(generator) as server:
        with client_of(server) as client:
            response = client.request()
            assert response.header("Transfer-Encoding") == "chunked"
            assert response.body == b"one two"
            assert client.request().body == b"one two"
        with client_of(server) as client:
            response = client.request(version="HTTP/1.0")
            assert response.header("Transfer-Encoding") is None
            assert response.body == b"one two"


def test_write_callable_and_empty_body():
    def writer(environ, start_response):
        write = start_response("200 OK", [])
        write(b"written ")
        return [b"returned"]

    def empty(environ, start_response):
        start_response("200 OK", [])
        return []

    with serving(writer) as server, client_of(server) as client:
        assert client.request().body == b"written returned"
    with serving(empty) as server, client_of(server) as client:
        response = client.request()
        assert response.header("Content-Length") == "0" and response.body == b""
        assert client.request().status == 200


def test_head_and_bodyless_statuses():
    def app(environ, start_response):
        status = environ["PATH_INFO"][1:]
        start_response(status, [])
        return [b"" if status[:3] in ("204", "304") else b"body"]

    with serving(app) as server, client_of(server) as client:
        response = client.request("HEAD", "/200%20OK")
        assert response.header("Content-Length") == "4" and response.body == b""
        for status in ("204 No Content", "304 Not Modified"):
            response = client.request("GET", "/" + status.replace(" ", "%20"))
            assert response.status == int(status[:3])
            assert response.header("Content-Length") is None
            assert response.header("Transfer-Encoding") is None
        assert client.request("GET", "/200%20OK").body == b"body"


def test_result_close_is_called_and_file_wrapper():
    closed = []

    class Result:
        def __iter__(self):
            yield b"abc"

        def close(self):
            closed.append(True)

    def app(environ, start_response):
        start_response("200 OK", [])
        if environ["PATH_INFO"] == "/file":
            return environ["wsgi.file_wrapper"](io.BytesIO(b"x" * 100000), 4096)
        return Result()

    with serving(app) as server, client_of(server) as client:
        assert client.request().body == b"abc"
        assert client.request(path="/file").body == b"x" * 100000
    assert closed == [True]


# -- request bodies ---------------------------------------------------------------------------


def test_request_bodies_stream():
    def app(environ, start_response):
        stream = environ["wsgi.input"]
        parts = [stream.read(3), stream.readline(), stream.readline(2)]
        parts.append(b"|".join(stream.readlines()))
        parts.append(stream.read())
        parts.append(stream.read(10))
        start_response("200 OK", [])
        return [repr(parts).encode()]

    body = b"abcdef\nghi\njkl\nmno"
    expected = repr([b"abc", b"def\n", b"gh", b"i\n|jkl\n|mno", b"", b""]).encode()
    with serving(app) as server, client_of(server) as client:
        assert client.request("POST", body=body).body == expected
        chunked = b"".join(b"%x\r\n%s\r\n" % (len(piece), piece)
                           for piece in (body[:4], body[4:5], body[5:])) + b"0\r\n\r\n"
        response = client.request("POST", headers=[("Transfer-Encoding", "chunked")],
                                  body=chunked)
        assert response.body == expected


def test_input_iteration_and_unread_body_is_discarded():
    def app(environ, start_response):
        start_response("200 OK", [])
        if environ["PATH_INFO"] == "/lines":
            return [b"%d" % len(list(environ["wsgi.input"]))]
        return [b"ignored the body"]

    with serving(app) as server, client_of(server) as client:
        assert client.request("POST", "/lines", body=b"a\nb\nc").body == b"3"
        # The body the app ignores is read and dropped; the next request parses cleanly.
        assert client.request("POST", "/skip", body=b"GET /evil HTTP/1.1\r\n\r\n").status == 200
        assert client.request("GET", "/lines").body == b"0"


def test_expect_100_continue_only_when_the_body_is_read():
    with serving(echo_environ) as server, client_of(server) as client:
        client.send(b"POST /r HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
                    b"Content-Length: 4\r\n\r\n")
        interim = client.read_response()
        assert interim.status == 100
        client.send(b"data")
        response = client.read_response()
        assert response.body == b"POST /r  data"
        assert client.request().status == 200

    with serving(hello) as server, client_of(server) as client:
        client.send(b"POST / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
                    b"Content-Length: 23\r\n\r\n")
        response = client.read_response()
        assert response.status == 200 and response.body == b"hello world"
        assert response.header("Connection") == "close"
        # No 100 was sent, so whatever comes next may be the body: the server must close
        # rather than parse it as a request (gevent #2075).
        client.send(b"GET /smuggled HTTP/1.1\r\n")
        assert client.is_closed()
        assert b"HTTP/1.1" not in client.buffer


# -- errors -----------------------------------------------------------------------------------


def test_application_error_gives_500_and_server_goes_on(capsys):
    def app(environ, start_response):
        if environ["PATH_INFO"] == "/boom":
            raise ValueError("boom")
        return hello(environ, start_response)

    with serving(app) as server:
        with client_of(server) as client:
            response = client.request(path="/boom")
            assert response.status == 500
            assert client.is_closed()
        with client_of(server) as client:
            assert client.request().status == 200
    assert "ValueError: boom" in capsys.readouterr().err


@pytest.mark.parametrize(
    "headers",
    [[("Location", "/x\r\nSet-Cookie: a=b")], [("X", "a\nb")], [("Bad Name", "v")],
     [("X", b"bytes")]],
)
def test_response_splitting_is_refused(headers, capsys):
    def app(environ, start_response):
        start_response("302 Found", headers)
        return [b""]

    with serving(app) as server, client_of(server) as client:
        response = client.request()
        assert response.status == 500
        assert b"Set-Cookie" not in response.head
    capsys.readouterr()


def test_start_response_exc_info_and_double_call(capsys):
    def replaced(environ, start_response):
        start_response("200 OK", [])
        try:
            raise KeyError("x")
        except KeyError:
            import sys

            start_response("503 Service Unavailable", [("Retry-After", "1")], sys.exc_info())
        return [b"later"]

    def twice(environ, start_response):
        start_response("200 OK", [])
        start_response("201 Created", [])
        return [b""]

    with serving(replaced) as server, client_of(server) as client:
        response = client.request()
        assert response.status == 503 and response.body == b"later"
    with serving(twice) as server, client_of(server) as client:
        assert client.request().status == 500
    assert "AssertionError" in capsys.readouterr().err


def test_content_length_shortfall_closes_and_excess_is_refused(capsys):
    def short(environ, start_response):
        start_response("200 OK", [("Content-Length", "10")])
        return [b"12345"]

    def excess(environ, start_response):
        start_response("200 OK", [("Content-Length", "2")])
        return [b"12345"]

    with serving(short) as server, client_of(server) as client:
        client.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        head = client.read_until(b"\r\n\r\n")
        assert b"Content-Length: 10" in head
        assert client.is_closed() and client.buffer == b"12345"
    with serving(excess) as server, client_of(server) as client:
        client.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        assert client.is_closed()
        assert b"12345" not in client.buffer
    capsys.readouterr()


# -- logging and environ classes --------------------------------------------------------------


def test_access_log_format():
    log = io.StringIO()
    with serving(hello, log=log) as server, client_of(server) as client:
        client.request(path="/logged?x=1")
    line = log.getvalue().splitlines()[0]
    assert re.fullmatch(
        r'127\.0\.0\.1 - - \[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\] "GET /logged\?x=1 HTTP/1\.1" '
        r"200 \d+ \d+\.\d{6}",
        line,
    ), line


def test_logging_log_adapter():
    records = []

    class Collect(logging.Handler):
        def emit(self, record):
            records.append((record.levelno, record.getMessage()))

    logger = logging.getLogger("test_pywsgi.adapter")
    logger.propagate = False
    logger.setLevel(logging.INFO)
    handler = Collect()
    logger.addHandler(handler)
    try:
        with serving(hello, log=logger) as server, client_of(server) as client:
            client.request()
        adapter = LoggingLogAdapter(logger, logging.WARNING)
        adapter.write("hello\n")
        assert adapter.name == "test_pywsgi.adapter"
    finally:
        logger.removeHandler(handler)
    assert records[0][0] == logging.INFO and '"GET / HTTP/1.1" 200' in records[0][1]
    assert records[-1] == (logging.WARNING, "hello")


def test_environ_classes_hide_secrets():
    environ = {"HTTP_AUTHORIZATION": "secret", "REMOTE_ADDR": "1.2.3.4", "PATH_INFO": "/"}
    assert isinstance(Environ(environ), dict) and Environ(environ) == environ
    assert "secret" not in repr(SecureEnviron(environ))
    shown = repr(WSGISecureEnviron(environ))
    assert "1.2.3.4" in shown and "secret" not in shown
    unmasked = SecureEnviron(environ)
    unmasked.secure_repr = False
    assert "secret" in repr(unmasked)
