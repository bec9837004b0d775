"""gevent.pywsgi against hostile and slow clients: smuggling attempts on a live server, a
fuzzer, the head and idle timeouts, and graceful stop."""

from __future__ import annotations

import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import gevent
from gevent import socket
from gevent.event import Event
from gevent.pywsgi import WSGIServer
from test_pywsgi import Client, client_of, echo_environ, hello, serving

GOOD = b"GET /good HTTP/1.1\r\nHost: x\r\n\r\n"


def _assert_refused(server, raw, status=400):
    """*raw* gets one error response with *status*, then the connection closes; a fresh
    connection is still served."""
    with client_of(server) as client:
        client.send(raw)
        response = client.read_response()
        assert response.status == status, response
        assert response.header("Connection") == "close"
        assert client.is_closed()
        assert b"HTTP/1.1" not in client.buffer, "a second response was smuggled through"
    with client_of(server) as client:
        assert client.request(path="/after").status == 200


SMUGGLING = {
    "CL.TE": b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 13\r\n"
             b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\nSMUGGLED",
    "TE.CL": b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
             b"Content-Length: 3\r\n\r\n8\r\nSMUGGLED\r\n0\r\n\r\n",
    "TE.TE-xchunked": b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: xchunked\r\n\r\n",
    "TE.TE-space-before-colon": b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding : chunked\r\n"
                                b"\r\n0\r\n\r\n",
    "TE.TE-list": b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, identity\r\n\r\n",
    "TE.TE-fold": b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding:\r\n chunked\r\n\r\n",
    "CL.CL": b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nContent-Length: 30\r\n\r\n"
             b"GET /smuggled HTTP/1.1\r\n\r\n",
    "chunk-extension-lf": b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                          b"2;x\nGET /smuggled HTTP/1.1\r\n\r\nab\r\n0\r\n\r\n",
    "chunk-size-overflow": b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                           b"10000000000000002\r\nab\r\n0\r\n\r\n",
    # CVE-2023-41419: a request hidden behind a lenient trailer parser.
    "trailer-lf": b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                  b"0\r\nX: y\nGET /smuggled HTTP/1.1\r\n\r\n",
    "bare-lf-head": b"GET / HTTP/1.1\nHost: x\n\nGET /smuggled HTTP/1.1\r\n\r\n",
}


@pytest.mark.parametrize("name", sorted(SMUGGLING))
def test_smuggling_attempt_is_refused(name):
    def app(environ, start_response):
        environ["wsgi.input"].read()
        start_response("200 OK", [("Content-Length", "2")])
        return [b"ok"]

    with serving(app) as server:
        # Content-Length with Transfer-Encoding: framed by Transfer-Encoding alone (as
        # gevent), and the connection closes after the one response (RFC 9112 6.1).
        status = 200 if name in ("CL.TE", "TE.CL") else 400
        _assert_refused(server, SMUGGLING[name], status)


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        (b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\n\r\n", 414),
        (b"GET / HTTP/1.1\r\n" + b"X-Big: " + b"y" * 70000 + b"\r\n\r\n", 431),
        (b"GET / HTTP/2.0\r\n\r\n", 505),
        (b"G\x00T / HTTP/1.1\r\n\r\n", 400),
        (b"POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501),
    ],
)
def test_bad_heads_get_their_status(raw, status):
    with serving(hello) as server:
        _assert_refused(server, raw, status)


def test_bad_chunk_after_the_app_started_reading():
    seen = []

    def app(environ, start_response):
        try:
            environ["wsgi.input"].read()
        except OSError as error:
            seen.append(str(error))
            raise
        start_response("200 OK", [])
        return [b"unreachable"]

    with serving(app) as server:
        _assert_refused(server, b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                                b"\r\n3\r\nabc\r\nzz\r\n")
    assert seen and "chunk" in seen[0]


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.binary(min_size=1, max_size=200))
def test_fuzzed_bytes_never_break_the_server(data):
    with serving(echo_environ) as server:
        with client_of(server, timeout=0.5) as client:
            client.send(data)
            try:
                client.sock.shutdown(socket.SHUT_WR)
            except OSError:
                pass
            try:
                client.read_to_eof()
            except (ConnectionError, socket.timeout):
                pass
        with client_of(server) as client:
            client.send(GOOD)
            assert client.read_response().status == 200


# -- slow clients ------------------------------------------------------------------------------


def test_idle_keep_alive_connection_times_out():
    with serving(hello) as server:
        server.keepalive_timeout = 0.2
        with client_of(server) as client:
            assert client.request().status == 200
            start = time.monotonic()
            assert client.is_closed()
            assert 0.1 < time.monotonic() - start < 3


def test_slow_request_head_times_out():
    with serving(hello) as server:
        server.header_timeout = 0.2
        with client_of(server) as client:
            client.send(b"GET / HTTP/1.1\r\n")
            start = time.monotonic()
            assert client.is_closed()
            assert time.monotonic() - start < 3


def test_slow_head_policy_defaults():
    # Apache mod_reqtimeout header=20-40,MinRate=500.
    assert (WSGIServer.header_timeout, WSGIServer.header_min_rate,
            WSGIServer.header_timeout_max) == (20.0, 500, 40.0)


# The slow-head policy, scaled down from 20 s / 500 bytes/s / 40 s so that it runs in about
# a second: a head must be complete within 0.3 s of its first byte, plus 1 s per 500 bytes
# received, up to 1.2 s in all.
SLOW_HEAD = {"header_timeout": 0.3, "header_min_rate": 500, "header_timeout_max": 1.2}


def test_dribbling_head_is_closed_soon_after_header_timeout():
    with serving(hello, **SLOW_HEAD) as server, client_of(server) as client:
        def dribble():
            try:
                client.send(b"GET / HTTP/1.1\r\nX-Slow")
                while True:  # 100 bytes/s: far below the minimum rate
                    gevent.sleep(0.01)
                    client.send(b"w")
            except OSError:  # the server closed the connection
                pass

        start = time.monotonic()
        dribbler = gevent.spawn(dribble)
        try:
            assert client.is_closed()
            elapsed = time.monotonic() - start
        finally:
            dribbler.kill()
        # 0.3 s plus the little the dribbled bytes earned, well before the 1.2 s cap.
        assert 0.25 < elapsed < 0.9, elapsed


def test_slow_but_steady_head_is_served_past_header_timeout():
    with serving(hello, **SLOW_HEAD) as server, client_of(server) as client:
        start = time.monotonic()
        client.send(b"GET / HTTP/1.1\r\nHost: x\r\nX-Pad: ")
        for _ in range(30):  # 20 bytes every 20 ms: 1000 bytes/s, twice the minimum rate
            gevent.sleep(0.02)
            client.send(b"p" * 20)
        client.send(b"\r\n\r\n")
        assert time.monotonic() - start > 0.3  # longer than header_timeout alone allows
        assert client.read_response().status == 200


def test_slow_head_policy_keywords_and_none():
    server = WSGIServer(("127.0.0.1", 0), hello, log=None, header_timeout=None,
                        header_min_rate=None, header_timeout_max=None, keepalive_timeout=5)
    try:
        assert server.header_timeout is None
        assert server.keepalive_timeout == 5
        assert not server.ssl_enabled  # the options are not taken for TLS arguments
    finally:
        server.close()


# -- graceful stop -----------------------------------------------------------------------------


def test_stop_closes_idle_connections_and_finishes_busy_ones():
    started = Event()

    def slow(environ, start_response):
        if environ["PATH_INFO"] == "/slow":
            started.set()
            gevent.sleep(0.3)
        start_response("200 OK", [])
        return [b"done"]

    server = WSGIServer(("127.0.0.1", 0), slow, log=None)
    server.start()
    idle = Client(server.address)
    busy = Client(server.address)
    try:
        assert idle.request().status == 200
        busy.send(b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
        assert started.wait(5)
        start = time.monotonic()
        stopper = gevent.spawn(server.stop, timeout=5)
        assert idle.is_closed()
        response = busy.read_response()
        assert response.body == b"done" and response.header("Connection") == "close"
        assert busy.is_closed()
        stopper.join(5)
        assert stopper.dead and time.monotonic() - start < 3
        assert server.closed
    finally:
        idle.close()
        busy.close()


def test_stop_kills_handlers_that_outlive_the_timeout():
    def stuck(environ, start_response):
        gevent.sleep(30)

    server = WSGIServer(("127.0.0.1", 0), stuck, log=None)
    server.start()
    client = Client(server.address)
    try:
        client.send(GOOD)
        gevent.sleep(0.05)
        start = time.monotonic()
        server.stop(timeout=0.1)
        assert time.monotonic() - start < 3
        assert client.is_closed()
    finally:
        client.close()
