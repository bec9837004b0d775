"""gevent.pywsgi's fast paths: large request and response bodies (request bodies received
straight into the bytes handed to the application, responses sent without joining headers
and body), and the keep-alive loop (timeouts applied without touching the socket's own
timeout, the wait before the next request)."""

from __future__ import annotations

import gevent
from gevent import socket
from gevent.event import Event
from test_pywsgi import client_of, serving

BIG = bytes(range(256)) * 4096  # 1 MiB, every byte value, so a misplaced slice shows


def _head(length, extra=b""):
    return (b"POST /up HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\n" % length) + extra + b"\r\n"


def _upload_in_two(client, body, first):
    """Send a POST of *body*: the head with its first *first* bytes, a pause, the rest."""
    client.send(_head(len(body)) + body[:first])
    gevent.sleep(0.01)
    client.send(body[first:])


def recording_app(record, reads=None):
    """Reads the body as *reads* says (None: one read()), records the pieces, answers
    with their lengths."""

    def app(environ, start_response):
        stream = environ["wsgi.input"]
        if reads is None:
            pieces = [stream.read()]
        else:
            pieces = [stream.read(size) for size in reads]
        pieces.append(stream.read())
        record.append(pieces)
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b",".join(b"%d" % len(piece) for piece in pieces)]

    return app


def test_large_body_in_one_send_then_a_pipelined_request():
    record = []
    with serving(recording_app(record)) as server, client_of(server) as client:
        client.send(_head(len(BIG)) + BIG + b"GET /next HTTP/1.1\r\nHost: t\r\n\r\n")
        assert client.read_response().body == b"%d,0" % len(BIG)
        assert client.read_response().status == 200
    assert record[0][0] == BIG
    assert type(record[0][0]) is bytes


def test_large_body_trickling_in():
    record = []
    received = Event()

    def app(environ, start_response):
        stream = environ["wsgi.input"]
        first = stream.read(10)  # from the bytes that came with the head
        received.set()
        rest = stream.read()
        record.append((first, rest, stream.position))
        start_response("200 OK", [])
        return [b"ok"]

    with serving(app) as server, client_of(server) as client:
        client.send(_head(len(BIG)) + BIG[:1000])
        assert received.wait(5)
        for start in range(1000, len(BIG), 100_000):
            client.send(BIG[start:start + 100_000])
            gevent.sleep(0.001)
        assert client.read_response().body == b"ok"
        assert client.request("GET", "/again").status == 200
    first, rest, position = record[0]
    assert first + rest == BIG
    assert position == len(BIG)


def test_sized_reads_of_a_large_body_keep_the_stream_in_step():
    record = []
    sizes = [1, 70_000, 300_000, 0, 500_000]
    with serving(recording_app(record, sizes)) as server, client_of(server) as client:
        client.send(_head(len(BIG)) + BIG[:5000])
        gevent.sleep(0.01)
        client.send(BIG[5000:] + b"POST /two HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nabc")
        first = client.read_response()
        second = client.read_response()
    expected = sizes + [len(BIG) - sum(sizes)]
    assert first.body == b",".join(b"%d" % size for size in expected)
    assert b"".join(record[0]) == BIG
    assert record[1] == [b"a", b"bc", b"", b"", b"", b""]
    assert second.body == b"1,2,0,0,0,0"


def test_readline_then_large_read():
    record = []

    def app(environ, start_response):
        stream = environ["wsgi.input"]
        line = stream.readline()
        record.append((line, stream.read(200_000), stream.read()))
        start_response("200 OK", [])
        return [b"ok"]

    body = b"first line\n" + BIG
    with serving(app) as server, client_of(server) as client:
        client.send(_head(len(body)) + body[:30])
        gevent.sleep(0.01)
        client.send(body[30:])
        assert client.read_response().body == b"ok"
    line, middle, rest = record[0]
    assert line == b"first line\n"
    assert middle + rest == BIG and len(middle) == 200_000


def test_large_body_with_expect_100_continue():
    record = []
    with serving(recording_app(record)) as server, client_of(server) as client:
        client.send(_head(len(BIG), b"Expect: 100-continue\r\n"))
        assert client.read_response().status == 100
        client.send(BIG)
        assert client.read_response().body == b"%d,0" % len(BIG)
        assert client.request("GET").status == 200
    assert record[0][0] == BIG


def test_client_closing_in_the_middle_of_a_large_body():
    record = []
    errors = []

    def app(environ, start_response):
        try:
            environ["wsgi.input"].read()
        except OSError as error:
            errors.append(error)
            raise
        start_response("200 OK", [])
        return [b"unreachable"]

    with serving(app) as server:
        with client_of(server) as client:
            client.send(_head(len(BIG)) + BIG[:200_000])
            client.sock.shutdown(socket.SHUT_WR)
            assert client.is_closed()
        with client_of(server) as client:  # the server is still serving
            client.send(_head(len(BIG)) + BIG)
            assert client.read_response().status == 200
    assert errors and not record


def test_unread_large_body_is_discarded_or_the_connection_closed():
    def app(environ, start_response):
        start_response("200 OK", [])
        return [b"ignored"]

    with serving(app) as server, client_of(server) as client:
        client.send(_head(100_000) + b"x" * 100_000)
        assert client.read_response().body == b"ignored"
        assert client.request("GET").body == b"ignored"  # kept alive: body was skipped


def test_large_response_body_arrives_whole():
    def app(environ, start_response):
        start_response("200 OK", [("Content-Length", str(len(BIG)))])
        return [BIG]

    with serving(app) as server, client_of(server) as client:
        assert client.request("GET").body == BIG
        assert client.request("GET").body == BIG


def test_keep_alive_waits_leave_the_socket_timeout_alone():
    seen = []

    def app(environ, start_response):
        sock = environ["wsgi.input"].rfile.raw._sock
        seen.append(sock.gettimeout())
        if environ["PATH_INFO"] == "/set":
            sock.settimeout(7.5)
        start_response("200 OK", [])
        return [b"ok"]

    # The default keepalive_timeout and header_timeout apply to every wait.
    with serving(app) as server, client_of(server) as client:
        for path in ("/", "/set", "/", "/"):
            assert client.request("GET", path).body == b"ok"
            gevent.sleep(0.01)  # the server parks on the idle wait between requests
    assert seen == [None, None, 7.5, 7.5]


def test_pipelined_requests_in_separate_segments():
    with serving(recording_app([])) as server, client_of(server) as client:
        client.send(b"GET /1 HTTP/1.1\r\nHost: t\r\n\r\n")
        client.send(b"GET /2 HTTP/1.1\r\nHost: t\r\n\r\n")
        client.send(b"GET /3 HTTP/1.1\r\nHost: t\r\n")
        gevent.sleep(0.01)
        client.send(b"\r\n")
        assert [client.read_response().status for _ in range(3)] == [200, 200, 200]


def test_idle_handler_stays_small():
    # CPython shares one key table between instances whose __dict__ has at most 30 keys;
    # past that every idle keep-alive connection pays ~1.3 KiB more for its handler.
    # Per-connection caches belong on smaller objects (the rfile), not on the handler.
    from gevent.pywsgi import WSGIHandler

    handlers = []

    class Handler(WSGIHandler):
        def handle(self):
            handlers.append(self)
            super().handle()

    with serving(recording_app([]), handler_class=Handler) as server, \
            client_of(server) as client:
        assert client.request("GET").status == 200
        assert client.request("POST", body=b"x" * 10).status == 200
        gevent.sleep(0.01)
        handler = handlers[0]
        assert len(handler.__dict__) <= 30, sorted(handler.__dict__)
        # Waiting for the next request, it holds nothing of the last one.
        assert handler.environ is None and handler.wsgi_input is None


def test_small_reads_of_a_large_body():
    record = []

    def app(environ, start_response):
        stream = environ["wsgi.input"]
        pieces = []
        while True:
            piece = stream.read(8192)
            if not piece:
                break
            pieces.append(piece)
        record.append(pieces)
        start_response("200 OK", [])
        return [b"%d" % len(pieces)]

    with serving(app) as server, client_of(server) as client:
        _upload_in_two(client, BIG, 3000)
        assert client.read_response().body == b"128"
    assert b"".join(record[0]) == BIG
    assert all(len(piece) == 8192 for piece in record[0])


def test_receive_low_water_mark_is_back_to_one_after_a_large_body():
    # A large body is received with SO_RCVLOWAT raised to what is left of it (Linux), so
    # the server wakes once or twice per upload; the next request head must wake it again
    # on its first byte.
    lowat = getattr(socket, "SO_RCVLOWAT", None)
    seen = []

    def app(environ, start_response):
        sock = environ["wsgi.input"].rfile.raw._sock
        body = environ["wsgi.input"].read()
        if lowat is not None:
            seen.append(sock.getsockopt(socket.SOL_SOCKET, lowat))
        start_response("200 OK", [])
        return [b"%d" % len(body)]

    with serving(app) as server, client_of(server) as client:
        _upload_in_two(client, BIG, 1000)
        assert client.read_response().body == b"%d" % len(BIG)
        client.send(b"GET /next HTTP/1.1\r\nHost: t\r\n")
        gevent.sleep(0.01)
        client.send(b"\r\n")
        assert client.read_response().body == b"0"
    if lowat is not None:
        assert seen == [1, 1]
