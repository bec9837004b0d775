"""The sans-IO HTTP/1.1 parser and writer (gevent._http).

Every parser case runs twice: the whole input in one feed, and one byte per feed, and both
must give the same events (or the same error status).
"""

from __future__ import annotations

import ast
import pathlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gevent._http import (
    CONNECTION_CLOSED,
    LAST_CHUNK,
    NEED_DATA,
    Data,
    EndOfMessage,
    HTTPProtocolError,
    InvalidResponseError,
    Request,
    RequestParser,
    check_header,
    check_status,
    encode_chunk,
    format_error_response,
    format_response_head,
)

MODES = ["whole", "bytewise"]


def _drain(parser: RequestParser, events: list) -> None:
    while True:
        event = parser.next_event()
        if event is NEED_DATA:
            return
        events.append(event)
        if event is CONNECTION_CLOSED:
            return


def _merge(events: list) -> list:
    """Join consecutive Data events: how the body is cut depends on how it was fed."""
    merged: list = []
    for event in events:
        if isinstance(event, Data) and merged and isinstance(merged[-1], Data):
            merged[-1] = Data(merged[-1].data + event.data)
        elif isinstance(event, Data) and not event.data:
            continue
        else:
            merged.append(event)
    return merged


def parse(data: bytes, mode: str, eof: bool = False, **limits) -> list:
    """All events for *data*; an HTTPProtocolError propagates."""
    parser = RequestParser(**limits)
    events: list = []
    if mode == "whole":
        parser.feed(data)
        _drain(parser, events)
    else:
        for i in range(len(data)):
            parser.feed(data[i : i + 1])
            _drain(parser, events)
    if eof:
        parser.feed_eof()
        _drain(parser, events)
    return _merge(events)


def reject(data: bytes, mode: str, eof: bool = False, **limits) -> HTTPProtocolError:
    with pytest.raises(HTTPProtocolError) as info:
        parse(data, mode, eof, **limits)
    return info.value


def summary(events: list) -> list:
    out = []
    for event in events:
        if isinstance(event, Request):
            out.append(("request", event.method, event.target, event.http_version))
        elif isinstance(event, Data):
            out.append(("data", event.data))
        elif isinstance(event, EndOfMessage):
            out.append(("end", event.trailers))
        else:
            out.append(event)
    return out


# -- requests that must parse -----------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_simple_get(mode):
    events = parse(b"GET /a/b?c=d HTTP/1.1\r\nHost: example\r\nX-Thing:  v a l  \r\n\r\n", mode)
    request, end = events
    assert isinstance(request, Request)
    assert (request.method, request.target, request.http_version) == ("GET", "/a/b?c=d", "HTTP/1.1")
    assert request.headers == [("Host", "example"), ("X-Thing", "v a l")]
    assert request.keep_alive and not request.chunked and request.content_length is None
    assert not request.has_body and not request.expect_continue
    assert request.request_line == "GET /a/b?c=d HTTP/1.1"
    assert request.get_header("x-thing") == "v a l"
    assert request.get_header("missing", "no") == "no"
    assert end == EndOfMessage()


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    ("version", "connection", "keep_alive"),
    [
        ("1.1", None, True),
        ("1.1", "close", False),
        ("1.1", "Keep-Alive, Close", False),
        ("1.0", None, False),
        ("1.0", "keep-alive", True),
        ("1.0", "Upgrade, KEEP-ALIVE", True),
    ],
)
def test_keep_alive(mode, version, connection, keep_alive):
    head = f"GET / HTTP/{version}\r\n"
    if connection:
        head += f"Connection: {connection}\r\n"
    request = parse((head + "\r\n").encode(), mode)[0]
    assert request.keep_alive is keep_alive
    assert request.http_version == f"HTTP/{version}"


@pytest.mark.parametrize("mode", MODES)
def test_pipelined_with_bodies(mode):
    data = (
        b"POST /one HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello"
        b"POST /two HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"3\r\nabc\r\n4;name=value;q=\"a \\\" b\"\r\ndefg\r\n0\r\n\r\n"
        b"\r\n"  # a stray CRLF between requests is allowed
        b"GET /three HTTP/1.0\r\n\r\n"
    )
    assert summary(parse(data, mode, eof=True)) == [
        ("request", "POST", "/one", "HTTP/1.1"),
        ("data", b"hello"),
        ("end", []),
        ("request", "POST", "/two", "HTTP/1.1"),
        ("data", b"abcdefg"),
        ("end", []),
        ("request", "GET", "/three", "HTTP/1.0"),
        ("end", []),
        CONNECTION_CLOSED,
    ]


@pytest.mark.parametrize("mode", MODES)
def test_chunked_with_trailers(mode):
    data = (
        b"POST / HTTP/1.1\r\nTransfer-Encoding: Chunked\r\n\r\n"
        b"A\r\n0123456789\r\n0\r\nChecksum: abc \r\nX-Other: 1\r\n\r\n"
        b"GET /next HTTP/1.1\r\n\r\n"
    )
    events = parse(data, mode)
    assert events[0].chunked and events[0].content_length is None
    assert summary(events[1:]) == [
        ("data", b"0123456789"),
        ("end", [("Checksum", "abc"), ("X-Other", "1")]),
        ("request", "GET", "/next", "HTTP/1.1"),
        ("end", []),
    ]


@pytest.mark.parametrize("mode", MODES)
def test_chunk_extension_with_whitespace_and_quoted_value(mode):
    data = (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"2 ; a = b ;c=\"x;y\"\r\nhi\r\n0\r\n\r\n")
    assert summary(parse(data, mode)[1:]) == [("data", b"hi"), ("end", [])]


@pytest.mark.parametrize("mode", MODES)
def test_zero_length_body_and_leading_crlf(mode):
    events = parse(b"\r\n\r\nPOST / HTTP/1.1\r\nContent-Length: 0\r\n\r\n", mode)
    assert events[0].content_length == 0 and not events[0].has_body
    assert events[1] == EndOfMessage()


@pytest.mark.parametrize("mode", MODES)
def test_expect_continue_only_with_a_body(mode):
    with_body = parse(b"PUT / HTTP/1.1\r\nExpect: 100-Continue\r\nContent-Length: 2\r\n\r\n", mode)
    assert with_body[0].expect_continue
    no_body = parse(b"GET / HTTP/1.1\r\nExpect: 100-continue\r\n\r\n", mode)
    assert not no_body[0].expect_continue


@pytest.mark.parametrize("mode", MODES)
def test_latin1_and_obs_text(mode):
    data = b"GET /caf\xc3\xa9 HTTP/1.1\r\nX-Name: \xe9t\xe9\tend\r\n\r\n"
    request = parse(data, mode)[0]
    assert request.target == "/caf\xc3\xa9"
    assert request.headers == [("X-Name", "\xe9t\xe9\tend")]


def test_clean_eof_and_need_data():
    parser = RequestParser()
    assert parser.next_event() is NEED_DATA
    parser.feed(b"GET / HTTP/1.1\r\n")
    assert parser.next_event() is NEED_DATA
    parser.feed(b"\r\n")
    assert isinstance(parser.next_event(), Request)
    assert parser.in_body
    assert parser.next_event() == EndOfMessage()
    assert not parser.in_body
    parser.feed_eof()
    assert parser.next_event() is CONNECTION_CLOSED
    with pytest.raises(RuntimeError):
        parser.feed(b"x")


def test_next_request_skips_unread_body_and_take_buffer():
    parser = RequestParser()
    parser.feed(b"POST / HTTP/1.1\r\nContent-Length: 4\r\n\r\nbodyGET /2 HTTP/1.1\r\n\r\n")
    first = parser.next_request()
    assert first.target == "/"
    assert parser.body_remaining == 4
    second = parser.next_request()
    assert second.target == "/2"
    parser.feed(b"\x81\x05hello")
    assert parser.next_event() == EndOfMessage()
    assert parser.take_buffer(2) == b"\x81\x05"
    assert parser.take_buffer() == b"hello"
    assert parser.buffered == 0


# -- requests that must be refused -------------------------------------------------------

BAD_REQUESTS = {
    # TE.TE obfuscation: every variant a lax proxy may read differently.
    "te-xchunked": (b"POST / HTTP/1.1\r\nTransfer-Encoding: xchunked\r\n\r\n", 400),
    "te-chunked-identity": (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked, identity\r\n\r\n",
                            400),
    "te-identity": (b"POST / HTTP/1.1\r\nTransfer-Encoding: identity\r\n\r\n", 400),
    "te-space-before-colon": (b"POST / HTTP/1.1\r\nTransfer-Encoding : chunked\r\n\r\n", 400),
    "te-vertical-tab": (b"POST / HTTP/1.1\r\nTransfer-Encoding:\x0bchunked\r\n\r\n", 400),
    "te-obs-fold": (b"POST / HTTP/1.1\r\nTransfer-Encoding:\r\n chunked\r\n\r\n", 400),
    "te-leading-space-name": (b"POST / HTTP/1.1\r\nHost: x\r\n Transfer-Encoding: chunked\r\n\r\n",
                              400),
    "te-twice": (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n"
                 b"Transfer-encoding: identity\r\n\r\n", 400),
    "te-chunked-chunked": (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked, chunked\r\n\r\n", 400),
    "te-gzip-chunked": (b"POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501),
    "te-http10": (b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400),
    "te-empty": (b"POST / HTTP/1.1\r\nTransfer-Encoding:\r\n\r\n", 400),
    # Content-Length.
    "cl-duplicate-same": (b"POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx",
                          400),
    "cl-duplicate-differ": (b"POST / HTTP/1.1\r\nContent-Length: 1\r\ncontent-length: 2\r\n\r\n",
                            400),
    "cl-list": (b"POST / HTTP/1.1\r\nContent-Length: 1, 1\r\n\r\n", 400),
    "cl-plus": (b"POST / HTTP/1.1\r\nContent-Length: +1\r\n\r\n", 400),
    "cl-negative": (b"POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400),
    "cl-hex": (b"POST / HTTP/1.1\r\nContent-Length: 0x10\r\n\r\n", 400),
    "cl-empty": (b"POST / HTTP/1.1\r\nContent-Length:\r\n\r\n", 400),
    "cl-unicode-digit": ("POST / HTTP/1.1\r\nContent-Length: \u0661\r\n\r\n".encode(), 400),
    "cl-huge": (b"POST / HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n", 413),
    # Line endings and folding.
    "bare-lf-request-line": (b"GET / HTTP/1.1\nHost: x\r\n\r\n", 400),
    "bare-lf-header": (b"GET / HTTP/1.1\r\nHost: x\nX: y\r\n\r\n", 400),
    "bare-lf-end": (b"GET / HTTP/1.1\r\nHost: x\n\n", 400),
    "bare-cr": (b"GET / HTTP/1.1\r\nHost: x\rX: y\r\n\r\n", 400),
    # Folding is unfolded in ordinary fields (below), never in framing or routing ones.
    "obs-fold-first-field": (b"GET / HTTP/1.1\r\n\tb\r\nX: y\r\n\r\n", 400),
    "obs-fold-host": (b"GET / HTTP/1.1\r\nHost: a\r\n b\r\n\r\n", 400),
    "obs-fold-cl": (b"POST / HTTP/1.1\r\nContent-Length:\r\n 5\r\n\r\nhello", 400),
    "obs-fold-connection": (b"GET / HTTP/1.1\r\nConnection: keep-alive,\r\n close\r\n\r\n", 400),
    "obs-fold-bad-continuation": (b"GET / HTTP/1.1\r\nX: a\r\n b\x01\r\n\r\n", 400),
    # Invalid bytes.
    "method-not-token": (b"G(T / HTTP/1.1\r\n\r\n", 400),
    "method-empty": (b" / HTTP/1.1\r\n\r\n", 400),
    "target-ctl": (b"GET /a\x01b HTTP/1.1\r\n\r\n", 400),
    "target-del": (b"GET /a\x7fb HTTP/1.1\r\n\r\n", 400),
    "target-space": (b"GET /a b HTTP/1.1\r\n\r\n", 400),
    "double-space": (b"GET  / HTTP/1.1\r\n\r\n", 400),
    "name-space": (b"GET / HTTP/1.1\r\nX Y: z\r\n\r\n", 400),
    "name-at": (b"GET / HTTP/1.1\r\nX@Y: z\r\n\r\n", 400),
    "name-empty": (b"GET / HTTP/1.1\r\n: z\r\n\r\n", 400),
    "name-nonascii": (b"GET / HTTP/1.1\r\nX\xe9: z\r\n\r\n", 400),
    "value-nul": (b"GET / HTTP/1.1\r\nX: a\x00b\r\n\r\n", 400),
    "value-ctl": (b"GET / HTTP/1.1\r\nX: a\x01b\r\n\r\n", 400),
    "value-del": (b"GET / HTTP/1.1\r\nX: a\x7fb\r\n\r\n", 400),
    "no-colon": (b"GET / HTTP/1.1\r\nX-No-Colon\r\n\r\n", 400),
    "two-hosts": (b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400),
    # Versions.
    "http2": (b"GET / HTTP/2.0\r\n\r\n", 505),
    "http12": (b"GET / HTTP/1.2\r\n\r\n", 505),
    "http09-like": (b"GET / HTTP/0.9\r\n\r\n", 505),
    "http-two-digits": (b"GET / HTTP/11.1\r\n\r\n", 505),
    "http-lowercase": (b"GET / http/1.1\r\n\r\n", 400),
    "no-version": (b"GET /\r\n\r\n", 400),
    "garbage": (b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n", 400),
    # Chunked framing.
    "chunk-not-hex": (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\ng\r\n", 400),
    "chunk-0x": (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0x5\r\nhello\r\n", 400),
    "chunk-negative": (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n-1\r\n", 400),
    "chunk-too-many-digits": (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                              b"00000000000000001\r\nx\r\n", 400),
    "chunk-overflow": (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                       b"ffffffffffffffff\r\n", 400),
    "chunk-empty-size": (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n\r\n", 400),
    "chunk-trailing-space": (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1 \r\nx\r\n",
                             400),
    "chunk-bare-lf-size": (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1\nx\r\n", 400),
    "chunk-data-no-crlf": (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                           b"1\r\nxy\r\n0\r\n\r\n", 400),
    "chunk-data-bare-lf": (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                           b"1\r\nx\n0\r\n\r\n", 400),
    # Chunk extensions (the request smuggling of RFC 9112 7.1.1 done wrong).
    "ext-no-name": (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1;\r\nx\r\n", 400),
    "ext-bare-lf": (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                    b"1;a=b\nGET /smuggled HTTP/1.1\r\n\r\n", 400),
    "ext-bare-lf-in-quotes": (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                              b"1;a=\"\nx\"\r\nx\r\n", 400),
    "ext-unterminated-quote": (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                               b"1;a=\"b\r\nx\r\n", 400),
    "ext-ctl": (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1;a=\x01\r\nx\r\n", 400),
    "ext-too-long": (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1;a="
                     + b"b" * 5000 + b"\r\nx\r\n", 400),
    # Trailers (CVE-2023-41419: gevent read trailers leniently, so a request hid in them).
    "trailer-bare-lf": (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                        b"0\r\nX: y\nGET /smuggled HTTP/1.1\r\n\r\n", 400),
    "trailer-request-line": (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                             b"0\r\nGET /smuggled HTTP/1.1\r\n\r\n", 400),
    "trailer-obs-fold": (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                         b"0\r\nX: y\r\n z\r\n\r\n", 400),
    "trailer-content-length": (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                               b"0\r\nContent-Length: 5\r\n\r\n", 400),
    "trailer-transfer-encoding": (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                                  b"0\r\nTransfer-Encoding: chunked\r\n\r\n", 400),
    "trailer-bare-cr": (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                        b"0\r\nX: y\rZ: w\r\n\r\n", 400),
    "trailer-too-large": (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                          b"0\r\nX: " + b"y" * 20000 + b"\r\n\r\n", 431),
    # Limits.
    "request-line-too-long": (b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\n\r\n", 414),
    "header-block-too-large": (b"GET / HTTP/1.1\r\n" + b"X: " + b"y" * 70000 + b"\r\n\r\n", 431),
    "too-many-headers": (b"GET / HTTP/1.1\r\n" + b"X: y\r\n" * 300 + b"\r\n", 431),
    "too-many-empty-lines": (b"\r\n" * 20 + b"GET / HTTP/1.1\r\n\r\n", 400),
}


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", sorted(BAD_REQUESTS))
def test_bad_request_is_refused(name, mode):
    data, status = BAD_REQUESTS[name]
    error = reject(data, mode, eof=True)
    assert error.status_code == status, error
    assert error.message and error.reason


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    "head",
    [b"POST / HTTP/1.1\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n",
     b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n"],
    ids=["cl-te", "te-cl"],
)
def test_both_framings_use_transfer_encoding_and_end_the_connection(head, mode):
    # RFC 9112 6.1 (and gevent): Transfer-Encoding frames the body, Content-Length is
    # ignored, and the connection must close after the response: whatever a front end
    # framed by Content-Length can never be read here as another request.
    events = parse(head + b"8\r\nSMUGGLED\r\n0\r\n\r\n", mode)
    request = events[0]
    assert request.chunked and request.content_length is None
    assert not request.keep_alive
    assert events[1:] == [Data(b"SMUGGLED"), EndOfMessage()]


@pytest.mark.parametrize("mode", MODES)
def test_obs_fold_in_an_ordinary_field_is_unfolded(mode):
    # RFC 9112 5.2 allows replacing each obs-fold with SP; gevent #116 (a SOAP client).
    events = parse(b"POST / HTTP/1.0\r\nHost: localhost\r\n"
                   b"Content-Type: multipart/related; boundary=\"XX\";  \r\n"
                   b' type="text/xml";start="test.submit"\r\n\tmore \r\n'
                   b"Content-Length: 0\r\n\r\n", mode)
    assert events[0].headers == [
        ("Host", "localhost"),
        ("Content-Type",
         'multipart/related; boundary="XX"; type="text/xml";start="test.submit" more'),
        ("Content-Length", "0"),
    ]


@pytest.mark.parametrize("mode", MODES)
def test_bad_request_line_is_refused_before_the_head_ends(mode):
    # gevent #1708: the request line alone is enough to answer 400 (no end of head here).
    error = reject(b"GET / HTTP %\r\nHost: x\r\n", mode)
    assert error.status_code == 400


def test_non_hex_chunk_size_is_refused_before_its_line_ends():
    parser = RequestParser()
    parser.feed(b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n{\"hi\": 1}")
    assert parser.next_event().chunked
    with pytest.raises(HTTPProtocolError):
        parser.next_event()


def test_unread_puts_a_request_line_back():
    parser = RequestParser()
    parser.feed(b"Host: x\r\n\r\n")
    parser.unread(b"GET /again HTTP/1.1\r\n")
    assert parser.next_event().target == "/again"


@pytest.mark.parametrize("mode", MODES)
def test_errors_are_final(mode):
    parser = RequestParser()
    parser.feed(b"GET / HTTP/1.1\r\nBad Header: x\r\n\r\nGET / HTTP/1.1\r\n\r\n")
    with pytest.raises(HTTPProtocolError) as first:
        parser.next_event()
    with pytest.raises(HTTPProtocolError) as second:
        parser.next_event()
    assert first.value is second.value


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    "data",
    [
        b"GET / HTTP/1.1\r\nHost: x\r\n",
        b"POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nabc",
        b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab",
        b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nabcde",
        b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX: y\r\n",
    ],
)
def test_eof_in_the_middle_is_an_error(data, mode):
    assert reject(data, mode, eof=True).status_code == 400


def test_missing_host_when_required():
    parser = RequestParser(require_host=True)
    parser.feed(b"GET / HTTP/1.1\r\n\r\n")
    with pytest.raises(HTTPProtocolError):
        parser.next_event()
    parser = RequestParser(require_host=True)
    parser.feed(b"GET / HTTP/1.0\r\n\r\n")
    assert isinstance(parser.next_event(), Request)


def test_incomplete_head_limits_apply_before_the_end_arrives():
    # A client that never sends CRLFCRLF must not make us buffer without bound.
    parser = RequestParser(max_request_line=100, max_header_size=1000)
    parser.feed(b"GET /" + b"a" * 200)
    with pytest.raises(HTTPProtocolError) as info:
        parser.next_event()
    assert info.value.status_code == 414
    parser = RequestParser(max_request_line=100, max_header_size=1000)
    parser.feed(b"GET / HTTP/1.1\r\n" + b"X: y\r\n" * 200)
    with pytest.raises(HTTPProtocolError) as info:
        parser.next_event()
    assert info.value.status_code == 431


def test_trickled_head_is_linear():
    # 60 KiB of headers one byte at a time: quadratic rescanning would take minutes.
    data = b"GET / HTTP/1.1\r\n" + b"X-Header: 0123456789abcdef\r\n" * 2000 + b"\r\n"
    parser = RequestParser(max_headers=5000)
    for i in range(len(data)):
        parser.feed(data[i : i + 1])
        if parser.next_event() is not NEED_DATA:
            break
    assert i == len(data) - 1


# -- smuggling regressions: what a request *looks* like inside a body stays body ----------


@pytest.mark.parametrize("mode", MODES)
def test_body_that_looks_like_a_request_stays_body(mode):
    # The 100-continue smuggle (gevent #2075): the client announces a body with Expect, the
    # server answers without reading it; the body bytes must never be parsed as a request.
    smuggled = b"GET /admin HTTP/1.1\r\n\r\n"
    data = (b"POST / HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: %d\r\n\r\n"
            % len(smuggled)) + smuggled
    events = parse(data, mode)
    assert events[0].expect_continue
    assert summary(events[1:]) == [("data", smuggled), ("end", [])]


@pytest.mark.parametrize("mode", MODES)
def test_chunked_body_that_looks_like_a_request_stays_body(mode):
    smuggled = b"GET /admin HTTP/1.1\r\n\r\n"
    data = (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n%x\r\n%s\r\n0\r\n\r\n"
            % (len(smuggled), smuggled))
    assert summary(parse(data, mode)[1:]) == [("data", smuggled), ("end", [])]


# -- property tests -------------------------------------------------------------------


def _outcome(data: bytes, mode: str):
    try:
        return summary(parse(data, mode, eof=True))
    except HTTPProtocolError as error:
        return ("error", error.status_code)


_VALID_PARTS = [
    b"GET / HTTP/1.1\r\n", b"POST /x HTTP/1.0\r\n", b"Host: a\r\n", b"Content-Length: 3\r\n",
    b"Transfer-Encoding: chunked\r\n", b"Connection: close\r\n", b"\r\n", b"abc", b"3\r\n",
    b"0\r\n", b"X: y\r\n", b"\n", b"\r", b" ", b";a=b", b"\x00", b"\xff",
]


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_random_bytes_only_raise_protocol_errors(data):
    assert _outcome(data, "whole") == _outcome(data, "bytewise")


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_VALID_PARTS), max_size=30))
def test_random_request_shaped_input_only_raise_protocol_errors(parts):
    data = b"".join(parts)
    assert _outcome(data, "whole") == _outcome(data, "bytewise")


# -- the writer -------------------------------------------------------------------------


def test_format_response_head():
    head = format_response_head("200 OK", [("Content-Type", "text/plain"), ("X-A", "\xe9")])
    assert head == b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-A: \xe9\r\n\r\n"
    assert format_response_head("404", [], "HTTP/1.0") == b"HTTP/1.0 404 Not Found\r\n\r\n"
    assert format_response_head("299 ", []) == b"HTTP/1.1 299 \r\n\r\n"


@pytest.mark.parametrize(
    "status", ["200\r\nX: y", "200 OK\r\n", "20 OK", "2000 OK", "OK", "", "200 O\x00K", "099 x"]
)
def test_bad_status_is_refused(status):
    with pytest.raises(InvalidResponseError):
        check_status(status)


def test_status_must_be_str():
    with pytest.raises(TypeError):
        check_status(b"200 OK")
    assert check_status("418 I'm a teapot") == 418


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("Location", "/a\r\nSet-Cookie: evil=1"),
        ("Location", "/a\nX: y"),
        ("Location", "/a\rX: y"),
        ("X", "a\x00b"),
        ("Bad Name", "v"),
        ("Bad:Name", "v"),
        ("X\r\nY", "v"),
        ("", "v"),
    ],
)
def test_response_splitting_is_refused(name, value):
    with pytest.raises(InvalidResponseError):
        check_header(name, value)
    with pytest.raises(InvalidResponseError):
        format_response_head("200 OK", [(name, value)])


def test_header_types():
    with pytest.raises(TypeError):
        check_header(b"X", "v")
    with pytest.raises(TypeError):
        check_header("X", b"v")
    with pytest.raises(TypeError):
        check_header("X", 3)
    with pytest.raises(UnicodeEncodeError):
        format_response_head("200 OK", [("X", "\u20ac")])


def test_chunks():
    assert encode_chunk(b"hello") == b"5\r\nhello\r\n"
    assert encode_chunk(b"x" * 300) == b"12c\r\n" + b"x" * 300 + b"\r\n"
    assert encode_chunk(b"") == b""
    assert LAST_CHUNK == b"0\r\n\r\n"
    # What we write, we read back.
    body = encode_chunk(b"abc") + encode_chunk(b"\r\n0\r\n\r\n") + LAST_CHUNK
    head = b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
    assert summary(parse(head + body, "whole")[1:]) == [("data", b"abc\r\n0\r\n\r\n"), ("end", [])]


def test_error_response():
    parser = RequestParser()
    parser.feed(b"GET / HTTP/9.9\r\n\r\n")
    with pytest.raises(HTTPProtocolError) as info:
        parser.next_event()
    response = format_error_response(info.value)
    head, _, body = response.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 505 HTTP Version Not Supported\r\n")
    assert b"Connection: close" in head
    assert b"Content-Length: %d" % len(body) in head
    assert format_error_response(431).startswith(b"HTTP/1.1 431 Request Header Fields Too Large")


def test_http_package_imports_no_io():
    # The sans-IO promise: only the stdlib's pure modules and our own siblings.
    allowed = {"__future__", "re", "http", "typing", "collections.abc"}
    package = pathlib.Path(__file__).parent.parent / "src" / "gevent" / "_http"
    files = sorted(package.glob("*.py"))
    assert files
    for path in files:
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    continue
                names = [node.module or ""]
            else:
                continue
            for name in names:
                assert name in allowed, f"{path.name} imports {name}"


def test_direct_body_reads():
    parser = RequestParser()
    parser.feed(b"POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc")
    assert isinstance(parser.next_event(), Request)
    assert parser.direct_body_budget() == 0  # bytes are buffered: take them first
    assert parser.next_event() == Data(b"abc")
    assert parser.direct_body_budget() == 7
    parser.consume_direct_body(4)
    assert parser.direct_body_budget() == 3
    with pytest.raises(RuntimeError):
        parser.consume_direct_body(4)
    parser.consume_direct_body(3)
    assert parser.direct_body_budget() == 0
    assert parser.next_event() == EndOfMessage()
    parser.feed(b"GET / HTTP/1.1\r\n\r\n")
    assert parser.next_event().method == "GET"
    assert parser.direct_body_budget() == 0
