"""gevent.pywsgi where gevent 26.9.0's answer is observable: each test pins what the real
gevent does (checked by running the same request on it)."""

from __future__ import annotations

import io
import logging
import pickle

import pytest

from gevent import pywsgi
from gevent.event import Event
from gevent.pywsgi import Input, SecureEnviron, WSGISecureEnviron, WSGIServer
from test_pywsgi import client_of, hello, serving


def _raw(server, data: bytes) -> bytes:
    with client_of(server) as client:
        client.send(data)
        return client.read_to_eof()


def test_log_none_is_a_noop_file_and_loggers_are_adapted_by_level():
    server = WSGIServer(("127.0.0.1", 0), hello, log=None, error_log=logging.getLogger("e"))
    try:
        server.log.write("discarded")
        server.log.writelines(["discarded"])
        server.log.flush()
        assert isinstance(server.log, pywsgi._NoopLog)
        assert isinstance(server.error_log, pywsgi.LoggingLogAdapter)
        assert server.error_log._level == logging.ERROR
    finally:
        server.close()


def test_a_broken_error_log_is_reported_through_print_unexpected_exc():
    reported = []

    class BrokenLog:
        def write(self, text):
            raise OSError("disk full")

    class Handler(pywsgi.WSGIHandler):
        def _print_unexpected_exc(self):
            reported.append(True)

    with serving(hello, error_log=BrokenLog(), handler_class=Handler) as server:
        assert _raw(server, b"GET / HTTP %\r\n").startswith(b"HTTP/1.1 400 ")
    assert reported == [True]


def test_no_start_response_means_no_response_and_a_closed_connection():
    errors = io.StringIO()
    with serving(lambda environ, start_response: [], error_log=errors) as server:
        assert _raw(server, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n") == b""
    assert "start_response" in errors.getvalue()


def test_internal_error_body_is_exactly_the_reason():
    def app(environ, start_response):
        raise ZeroDivisionError

    with serving(app) as server:
        response = _raw(server, b"GET / HTTP/1.0\r\n\r\n")
    assert response.startswith(b"HTTP/1.1 500 Internal Server Error\r\n")
    assert response.endswith(b"\r\n\r\nInternal Server Error")


def test_repeated_cookies_join_with_semicolons_other_fields_with_commas():
    def app(environ, start_response):
        start_response("200 OK", [])
        return [f"{environ['HTTP_COOKIE']}|{environ['HTTP_X_A']}".encode()]

    with serving(app) as server, client_of(server) as client:
        response = client.request(headers=[("Cookie", "a=1"), ("Cookie", "b=2"),
                                           ("X-A", "1"), ("X-A", "2")])
    assert response.body == b"a=1; b=2|1,2"


@pytest.mark.parametrize("code", [204, 304])
def test_no_body_statuses_refuse_content(code):
    seen = []

    def app(environ, start_response):
        path = environ["PATH_INFO"]
        if path == "/length":
            try:
                start_response(f"{code} X", [("Content-Length", "100")])
            except AssertionError as error:
                start_response("200 Raised", [])
                return error.args  # gevent's message is bytes, ready to send back
        write = start_response(f"{code} X", [])
        if path == "/write-str":
            try:
                write("body")
            except AssertionError as error:
                seen.append(str(error))
                raise
        return [b"body"]

    with serving(app) as server:
        for path in ("/body", "/write-str"):
            response = _raw(server, f"GET {path} HTTP/1.0\r\n\r\n".encode())
            assert response.startswith(b"HTTP/1.1 500 "), response
        response = _raw(server, b"GET /length HTTP/1.0\r\n\r\n")
    assert seen == [f"The {code} response must have no body"]
    assert response.endswith(
        f"Invalid Content-Length for {code} response: '100' (must be absent or zero)".encode())


def test_http10_response_says_connection_close():
    with serving(hello) as server, client_of(server) as client:
        response = client.request(version="HTTP/1.0")
    assert response.header("Connection") == "close"


@pytest.mark.parametrize(("headers", "terminated"), [
    ([], True),
    ([("Upgrade", "websocket"), ("Connection", "Upgrade")], False),
    ([("Connection", "upgrade")], False),
])
def test_input_terminated_is_false_for_upgrade_requests(headers, terminated):
    seen = []

    def app(environ, start_response):
        seen.append(environ["wsgi.input_terminated"])
        start_response("200 OK", [("Connection", "close")])
        return [b"x"]

    with serving(app) as server, client_of(server) as client:
        client.request(headers=headers)
    assert seen == [terminated]


@pytest.mark.parametrize("value", [b"\xe1\xbd\x8a3", "\u1f4a3"])
def test_header_values_that_are_not_latin1_text_raise_unicode_error(value):
    errors = []

    def app(environ, start_response):
        try:
            start_response("200 OK", [("Custom", value)])
        except Exception as error:
            errors.append(error)
            raise
        return [b"x"]

    with serving(app) as server:
        response = _raw(server, b"GET / HTTP/1.0\r\n\r\n")
    assert response.startswith(b"HTTP/1.1 500 ")
    assert len(errors) == 1 and isinstance(errors[0], UnicodeError)


@pytest.mark.parametrize(("status", "headers", "message"), [
    ("200 OK\r\nX: y", [], "carriage return or newline in status"),
    ("200 OK", [("Test", "Hi\r\nConnection: close")], "carriage return or newline in header value"),
    ("200 OK", [("Test\r\n", "Hi")], "carriage return or newline in header name"),
])
def test_response_splitting_is_refused_with_gevents_words(status, headers, message):
    errors = []

    def app(environ, start_response):
        try:
            start_response(status, headers)
        except ValueError as error:
            errors.append(error)
        return []

    with serving(app) as server:
        assert b"Connection: close\r\nContent-Length: 0" not in _raw(
            server, b"GET / HTTP/1.0\r\n\r\n")
    assert errors[0].args[0] == message


def test_secure_environ_repr_and_pickle():
    environ = SecureEnviron(a=1, REMOTE_ADDR="x")
    assert repr(environ).startswith("<pywsgi.SecureEnviron dict (keys: 2) at ")
    assert str(environ) == repr(environ)
    environ.whitelist_keys = ("a",)
    assert repr(environ) == "{'a': 1, 'REMOTE_ADDR': '<MASKED>'}"
    environ.print_masked_keys = False
    assert repr(environ) == "{'a': 1, (hidden keys: 1)}"
    environ.secure_repr = False
    assert repr(environ) == "{'a': 1, 'REMOTE_ADDR': 'x'}"
    wsgi = WSGISecureEnviron(a=1, REMOTE_ADDR="x")
    assert repr(wsgi) == "{'REMOTE_ADDR': 'x', (hidden keys: 1)}"
    for cls in (pywsgi.Environ, SecureEnviron):
        dump = pickle.dumps(cls(k="v"), 0)
        assert b"Environ" not in dump
        assert type(pickle.loads(dump)) is dict


def test_input_reads_a_plain_file():
    assert Input(io.BytesIO(b"hello world"), 11).read() == b"hello world"
    chunked = Input(io.BytesIO(b"2\r\nab\r\n3\r\ncd\n\r\n2\r\nef\r\n0\r\n\r\n"), None,
                    chunked_input=True)
    assert chunked.readline() == b"abcd\n"
    assert chunked.read() == b"ef"
    with pytest.raises(OSError):
        Input(io.BytesIO(b"1"), 2).read()
    with pytest.raises(OSError):
        Input(io.BytesIO(b"1\r\n1\r\n"), None, chunked_input=True).read()


def test_subclass_may_read_the_request_line_itself():
    class PolicyHandler(pywsgi.WSGIHandler):
        def read_requestline(self):
            data = self.rfile.read(7)
            if data[:1] == b"<":
                data += self.rfile.read(15)
                if data == b"<policy-file-request/>":
                    self.socket.sendall(b"HELLO")
                return None
            return data + self.rfile.readline()

    with serving(hello, handler_class=PolicyHandler) as server:
        # The unread NUL must not turn the close into a reset that loses HELLO.
        assert _raw(server, b"<policy-file-request/>\x00") == b"HELLO"
        with client_of(server) as client:
            assert client.request().status == 200


def test_oversize_trailer_closes_the_connection_after_the_response():
    def app(environ, start_response):
        start_response("200 OK", [])
        return [environ["wsgi.input"].read(6)]

    with serving(app) as server:
        response = _raw(server, b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                                b"2\r\noh\r\n4\r\n hai\r\n0\r\ntrailer: "
                                + b"t" * pywsgi.MAX_REQUEST_LINE)
    assert response.startswith(b"HTTP/1.1 200 OK") and response.endswith(b"\r\n\r\noh hai")


@pytest.mark.parametrize(("framing", "body", "message"), [
    ("Transfer-Encoding: chunked", b"4\r\nthi",
     "unexpected end of file while parsing chunked data"),
    ("Content-Length: 10", b"thi", "unexpected end of file while reading request at position 3"),
])
def test_client_closing_mid_body_is_an_oserror_reported_like_any_other(framing, body, message,
                                                                       capsys):
    seen = []
    done = Event()

    def app(environ, start_response):
        try:
            environ["wsgi.input"].read()
        except OSError as error:
            seen.append(str(error))
            raise
        finally:
            done.set()

    with serving(app) as server:
        with client_of(server) as client:
            client.send(f"POST / HTTP/1.1\r\nHost: x\r\n{framing}\r\n\r\n".encode() + body)
        assert done.wait(5)
    assert seen == [message]
    assert message in capsys.readouterr().err  # through Hub.handle_error, as in gevent
