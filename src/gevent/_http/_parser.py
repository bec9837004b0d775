"""A strict, sans-IO HTTP/1.1 request parser.

Theory of operation: the caller feeds bytes (:meth:`RequestParser.feed`) and pulls events
(:meth:`RequestParser.next_event`): a :class:`Request` (the head), zero or more :class:`Data`
(the decoded body), then :class:`EndOfMessage`; then the next pipelined request. When more
bytes are needed the parser answers :data:`NEED_DATA`; after :meth:`feed_eof` on a clean
boundary it answers :data:`CONNECTION_CLOSED`. It never touches a socket.

Strictness is the point: request smuggling lives in the gap between two parsers that disagree
on where a message ends, so anything that a reasonable parser could read two ways is refused
with a :class:`HTTPProtocolError` carrying the status to answer with. Once an error has been
raised the parser is dead: every later call raises the same error (the connection must close).

Speed: the head is found with one ``find(b"\\r\\n\\r\\n")`` (resumed where the last search
stopped, so trickled bytes cost linear time) and split in one go; each line is checked by one
compiled regular expression.
"""

from __future__ import annotations

import re
from typing import Final

from ._errors import HTTPProtocolError

__all__ = [
    "CONNECTION_CLOSED",
    "NEED_DATA",
    "Data",
    "EndOfMessage",
    "Request",
    "RequestParser",
]


class _Sentinel:
    __slots__ = ("_name",)

    def __init__(self, name: str) -> None:
        self._name = name

    def __repr__(self) -> str:
        return self._name


#: More bytes are needed before the next event.
NEED_DATA: Final = _Sentinel("NEED_DATA")
#: The peer closed the connection between two requests.
CONNECTION_CLOSED: Final = _Sentinel("CONNECTION_CLOSED")


class Request:
    """The head of one request. Header names and values are ``str`` decoded as latin-1,
    in the order and case received; the framing facts are already worked out."""

    __slots__ = (
        "method",
        "target",
        "http_version",
        "headers",
        "content_length",
        "chunked",
        "keep_alive",
        "expect_continue",
        "request_line",
    )

    def __init__(
        self,
        method: str,
        target: str,
        http_version: str,
        headers: list[tuple[str, str]],
        content_length: int | None,
        chunked: bool,
        keep_alive: bool,
        expect_continue: bool,
        request_line: str,
    ) -> None:
        self.method = method
        self.target = target
        #: ``"HTTP/1.0"`` or ``"HTTP/1.1"``
        self.http_version = http_version
        self.headers = headers
        #: The declared length, or None (chunked, or no body at all).
        self.content_length = content_length
        self.chunked = chunked
        #: What the client asked for: HTTP/1.1 unless ``Connection: close``,
        #: HTTP/1.0 only with ``Connection: keep-alive``.
        self.keep_alive = keep_alive
        #: ``Expect: 100-continue`` on a request that has a body.
        self.expect_continue = expect_continue
        self.request_line = request_line

    @property
    def has_body(self) -> bool:
        return self.chunked or bool(self.content_length)

    def get_header(self, name: str, default: str | None = None) -> str | None:
        """The first value of header *name* (case-insensitive)."""
        name = name.lower()
        for key, value in self.headers:
            if key.lower() == name:
                return value
        return default

    def __repr__(self) -> str:
        return f"<Request {self.request_line!r} headers={self.headers!r}>"


class Data:
    """A piece of the decoded request body."""

    __slots__ = ("data",)

    def __init__(self, data: bytes) -> None:
        self.data = data

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Data) and other.data == self.data

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Data({self.data!r})"


class EndOfMessage:
    """The body is complete. ``trailers`` holds the trailer fields of a chunked body."""

    __slots__ = ("trailers",)

    def __init__(self, trailers: list[tuple[str, str]] | None = None) -> None:
        self.trailers = trailers if trailers is not None else []

    def __eq__(self, other: object) -> bool:
        return isinstance(other, EndOfMessage) and other.trailers == self.trailers

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"EndOfMessage({self.trailers!r})"


# RFC 9110 5.6.2: token = 1*tchar
_TOKEN = rb"[-!#$%&'*+.^_`|~0-9A-Za-z]+"
# method SP request-target SP HTTP-version. The target may hold any byte but controls,
# space and DEL: obs-text (0x80-0xFF) is tolerated because real clients send raw UTF-8 paths.
_TARGET = rb"[^\x00-\x20\x7f]+"
_REQUEST_LINE_RE = re.compile(rb"(" + _TOKEN + rb") (" + _TARGET + rb") HTTP/([0-9])\.([0-9])")
# Used only to tell a wrong version (505) from a malformed line (400).
_ANY_VERSION_RE = re.compile(_TOKEN + rb" " + _TARGET + rb" HTTP/[0-9]+\.[0-9]+")
# The head is decoded once (latin-1) and parsed as text with the same grammar: the request
# line by one match, the whole header block checked by one match and split into
# (name, value) pairs by one findall. Value characters exclude CR and LF, so every match
# is exactly one line and a bare CR or LF, an obs-fold or a bad name fails the block.
_TEXT_TOKEN = _TOKEN.decode("ascii")
_TEXT_REQUEST_LINE_RE = re.compile(
    "(" + _TEXT_TOKEN + ") (" + _TARGET.decode("ascii") + ") HTTP/([0-9])\\.([0-9])"
)
_TEXT_FIELD = "(" + _TEXT_TOKEN + "):[ \t]*([^\x00-\x08\x0a-\x1f\x7f]*)\r\n"
_TEXT_FIELD_RE = re.compile(_TEXT_FIELD)
_TEXT_BLOCK_RE = re.compile("(?:" + _TEXT_FIELD.replace("(", "(?:") + ")*")
# field-name ":" OWS field-value OWS; a value is VCHAR / obs-text / SP / HTAB, no other CTL.
_HEADER_RE = re.compile(rb"(" + _TOKEN + rb"):[ \t]*([^\x00-\x08\x0a-\x1f\x7f]*)")
# chunk-size [ chunk-ext ]: at most 16 hex digits, extensions per RFC 9112 7.1.1 with
# quoted-string values; no bare whitespace after the size.
_QUOTED_STRING = rb'"(?:[\t \x21\x23-\x5b\x5d-\x7e\x80-\xff]|\\[\t \x21-\x7e\x80-\xff])*"'
_CHUNK_EXT = (
    rb"(?:[ \t]*;[ \t]*" + _TOKEN + rb"(?:[ \t]*=[ \t]*(?:" + _TOKEN + rb"|" + _QUOTED_STRING
    + rb"))?)*"
)
_CHUNK_LINE_RE = re.compile(rb"([0-9A-Fa-f]{1,16})(" + _CHUNK_EXT + rb")")
_HEX_PREFIX_RE = re.compile(rb"[0-9A-Fa-f]*")
# What may follow the digits of a chunk size: an extension or the line's CR.
_AFTER_CHUNK_SIZE = frozenset(b"; \t\r")

_MAX_LEADING_CRLF = 8
_MAX_CONTENT_LENGTH = (1 << 63) - 1

# Header names that decide framing or connection handling; everything else passes through.
_CONTENT_LENGTH = b"content-length"
_TRANSFER_ENCODING = b"transfer-encoding"
_HOST = b"host"
_SPECIAL_TEXT = frozenset(("content-length", "transfer-encoding", "connection", "expect", "host"))
# Fields a trailer must never carry (RFC 9110 6.5.1): they would change framing or routing.
_FORBIDDEN_TRAILERS = frozenset((_CONTENT_LENGTH, _TRANSFER_ENCODING, _HOST, b"trailer"))

# Parser states.
_IDLE = 0  # waiting for a request head
_BODY = 1  # Content-Length body, _remaining bytes to go
_CHUNK_HEADER = 2  # waiting for a chunk-size line
_CHUNK_DATA = 3  # inside a chunk, _remaining bytes to go
_CHUNK_END = 4  # the CRLF after chunk data
_TRAILERS = 5  # after the last chunk: trailer fields and the final CRLF
_END = 6  # the body is complete; EndOfMessage is next
_ERROR = 7


def _bad_line_error(line: bytes, what: str) -> HTTPProtocolError:
    if b"\n" in line or b"\r" in line:
        return HTTPProtocolError(f"bare CR or LF in {what}")
    if line[:1] in (b" ", b"\t"):
        return HTTPProtocolError(f"obsolete line folding (obs-fold) in {what}")
    return HTTPProtocolError(f"malformed {what}: {line[:80]!r}")


# A CR not followed by LF (a CR at the very end may still get its LF) or an LF without CR.
_BARE_CR_OR_LF_RE = re.compile(rb"\r(?!\n|\Z)|(?<!\r)\n")


class RequestParser:
    """Parse the requests of one server-side connection. See the module docstring."""

    __slots__ = (
        "_buffer",
        "_state",
        "_remaining",
        "_eof",
        "_scan_from",
        "_empty_lines",
        "_line_checked",
        "_error",
        "max_request_line",
        "max_header_size",
        "max_headers",
        "max_chunk_line",
        "max_trailer_size",
        "require_host",
    )

    def __init__(
        self,
        max_request_line: int = 8192,
        max_header_size: int = 65536,
        max_headers: int = 256,
        max_chunk_line: int = 4096,
        max_trailer_size: int = 16384,
        require_host: bool = False,
    ) -> None:
        self._buffer = bytearray()
        self._state = _IDLE
        self._remaining = 0
        self._eof = False
        self._scan_from = 0
        self._empty_lines = 0
        self._line_checked = False
        self._error: HTTPProtocolError | None = None
        self.max_request_line = max_request_line
        self.max_header_size = max_header_size
        self.max_headers = max_headers
        self.max_chunk_line = max_chunk_line
        self.max_trailer_size = max_trailer_size
        #: RFC 9112 3.2 says an HTTP/1.1 request without Host gets a 400; off by default
        #: because gevent never enforced it and hand-written test clients omit it.
        self.require_host = require_host

    # -- input ---------------------------------------------------------------

    def feed(self, data: bytes | bytearray | memoryview) -> None:
        """Append bytes received from the peer."""
        if self._eof and data:
            raise RuntimeError("feed() after feed_eof()")
        self._buffer += data

    def feed_eof(self) -> None:
        """The peer closed its side: no more bytes will come."""
        self._eof = True

    @property
    def eof(self) -> bool:
        """True once :meth:`feed_eof` was called: the peer closed its side."""
        return self._eof

    @property
    def buffered(self) -> int:
        """How many received bytes have not been turned into events yet."""
        return len(self._buffer)

    def take_buffer(self, max_bytes: int = -1) -> bytes:
        """Remove and return up to *max_bytes* (all if negative) of the unparsed bytes (for a
        protocol switch: after a 101 response the rest of the stream belongs to the new
        protocol)."""
        buffer = self._buffer
        self._scan_from = 0
        if max_bytes < 0 or max_bytes >= len(buffer):
            data = bytes(buffer)
            buffer.clear()
        else:
            data = bytes(buffer[:max_bytes])
            del buffer[:max_bytes]
        return data

    @property
    def in_body(self) -> bool:
        """True between a Request event and its EndOfMessage."""
        return _BODY <= self._state <= _END

    @property
    def body_remaining(self) -> int | None:
        """Bytes of a Content-Length body still to come, None when chunked or idle."""
        if self._state == _BODY:
            return self._remaining
        if self._state == _END:
            return 0
        return None

    def direct_body_budget(self) -> int:
        """How many body bytes the caller may read straight from the peer, bypassing
        :meth:`feed` (then report them with :meth:`consume_direct_body`): the rest of a
        Content-Length body when nothing is buffered, else 0. Saves two copies per byte of
        a large upload."""
        if self._state == _BODY and not self._buffer:
            return self._remaining
        return 0

    def consume_direct_body(self, size: int) -> None:
        """*size* body bytes were read directly (see :meth:`direct_body_budget`)."""
        if self._state != _BODY or self._buffer or size > self._remaining:
            raise RuntimeError("consume_direct_body() outside a direct body read")
        self._remaining -= size
        if not self._remaining:
            self._state = _END

    # -- events --------------------------------------------------------------

    def next_event(self) -> Request | Data | EndOfMessage | _Sentinel:
        """The next event, or NEED_DATA, or CONNECTION_CLOSED. Raises HTTPProtocolError."""
        state = self._state
        try:
            if state == _IDLE:
                return self._next_request()
            if state == _BODY or state == _CHUNK_DATA:
                return self._next_data()
            if state == _END:
                self._state = _IDLE
                return EndOfMessage()
            if state == _CHUNK_HEADER:
                return self._next_chunk_header()
            if state == _CHUNK_END:
                return self._next_chunk_end()
            if state == _TRAILERS:
                return self._next_trailers()
        except HTTPProtocolError as error:
            self._state = _ERROR
            self._error = error
            raise
        assert self._error is not None
        raise self._error

    def unread(self, data: bytes) -> None:
        """Put *data* back in front of the unparsed bytes (a handler that read a request
        line itself hands it back to be parsed with its head). Only between requests."""
        if self._state != _IDLE:
            raise RuntimeError("unread() in the middle of a request")
        self._buffer[:0] = data
        self._scan_from = 0
        self._line_checked = False

    def start_body(self, content_length: int | None, chunked: bool) -> None:
        """Parse what follows as a request body framed by *content_length* or *chunked*,
        without a head (for a ``wsgi.input`` made over a plain file)."""
        if chunked:
            self._state = _CHUNK_HEADER
        elif content_length:
            self._state = _BODY
            self._remaining = content_length
        else:
            self._state = _END

    def finish_empty_body(self) -> None:
        """Skip the EndOfMessage that follows a Request without a body."""
        if self._state == _END:
            self._state = _IDLE

    def next_request(self) -> Request | _Sentinel:
        """Skip what is left of the current body and return the next Request event
        (or NEED_DATA / CONNECTION_CLOSED)."""
        if not self._buffer and self._state == _IDLE and not self._eof:
            return NEED_DATA
        while True:
            event = self.next_event()
            if type(event) is Request or event is NEED_DATA or event is CONNECTION_CLOSED:
                return event  # type: ignore[return-value]

    # -- the head ------------------------------------------------------------

    def _next_request(self) -> Request | _Sentinel:
        buffer = self._buffer
        if buffer.startswith(b"\r\n"):
            # RFC 9112 2.2: ignore at least one empty line before a request (some clients
            # send CRLF after a POST body). Bounded, so it cannot become a slow loris.
            while buffer.startswith(b"\r\n"):
                if self._empty_lines >= _MAX_LEADING_CRLF:
                    raise HTTPProtocolError("too many empty lines before the request")
                del buffer[:2]
                self._empty_lines += 1
            self._scan_from = 0
        end = buffer.find(b"\r\n\r\n", self._scan_from)
        if end < 0:
            return self._incomplete_head()
        self._scan_from = 0
        self._empty_lines = 0
        self._line_checked = False
        if end > self.max_header_size:
            raise HTTPProtocolError("request header block too large", 431)
        if end + 4 == len(buffer):
            # The usual case: the buffer holds exactly one head.
            head = buffer.decode("latin-1")
            buffer.clear()
        else:
            head = buffer[: end + 4].decode("latin-1")
            del buffer[: end + 4]
        return self._parse_head(head)

    def _incomplete_head(self) -> _Sentinel:
        buffer = self._buffer
        size = len(buffer)
        if not size:
            if self._eof:
                return CONNECTION_CLOSED
            return NEED_DATA
        line_end = buffer.find(b"\r\n", 0, self.max_request_line + 2)
        if (line_end < 0 and size > self.max_request_line) or line_end > self.max_request_line:
            raise HTTPProtocolError("request line too long", 414)
        if size > self.max_header_size:
            raise HTTPProtocolError("request header block too large", 431)
        if _BARE_CR_OR_LF_RE.search(buffer, self._scan_from):
            # Fail now rather than wait for a CRLFCRLF that a bare-LF client never sends.
            raise HTTPProtocolError("bare CR or LF in the request head")
        if line_end >= 0 and not self._line_checked:
            # The request line is complete: refuse a bad one now, not after the client
            # sends (or fails to send) the rest of the head.
            self._line_checked = True
            self._check_request_line(bytes(buffer[:line_end]))
        if self._eof:
            raise HTTPProtocolError("connection closed in the middle of the request head")
        # Resume the next search just before the end: the terminator may straddle feeds.
        self._scan_from = size - 3 if size > 3 else 0
        return NEED_DATA

    def _check_request_line(self, line: bytes) -> None:
        if _REQUEST_LINE_RE.fullmatch(line) is None:
            if _ANY_VERSION_RE.fullmatch(line):
                raise HTTPProtocolError("HTTP version not supported", 505)
            raise _bad_line_error(line, "request line")

    def _parse_head(self, head: str) -> Request:
        """*head*: the request line and header fields, latin-1 decoded, up to and including
        the final CRLFCRLF. The regular expressions work on it in place (pos, endpos)."""
        line_end = head.find("\r\n")
        if line_end > self.max_request_line:
            raise HTTPProtocolError("request line too long", 414)
        match = _TEXT_REQUEST_LINE_RE.fullmatch(head, 0, line_end)
        if match is None:
            raw_line = head[:line_end].encode("latin-1")
            if _ANY_VERSION_RE.fullmatch(raw_line):
                raise HTTPProtocolError("HTTP version not supported", 505)
            raise _bad_line_error(raw_line, "request line")
        method, target, major, minor = match.groups()
        if major != "1" or minor not in ("0", "1"):
            raise HTTPProtocolError("HTTP version not supported", 505)
        http11 = minor == "1"

        headers: list[tuple[str, str]]
        # The header block: from after the request line's CRLF to before the final CRLF,
        # each field ending with its own CRLF.
        block_start = line_end + 2
        block_end = len(head) - 2
        if block_start < block_end:
            if head.count("\r\n", block_start) > self.max_headers + 1:
                raise HTTPProtocolError("too many header fields", 431)
            if _TEXT_BLOCK_RE.fullmatch(head, block_start, block_end) is None:
                headers = _unfold(head[block_start:block_end])
            else:
                headers = _TEXT_FIELD_RE.findall(head, block_start, block_end)
                if (head.find(" \r\n", block_start) >= 0
                        or head.find("\t\r\n", block_start) >= 0):
                    headers = [(name, value.rstrip(" \t")) for name, value in headers]
        else:
            headers = []

        content_length: str | None = None
        transfer_encoding: str | None = None
        connection: list[str] = []
        expect_continue = False
        host_count = 0
        for name, value in headers:
            lowered = name.lower()
            if lowered in _SPECIAL_TEXT:
                if lowered == "content-length":
                    if content_length is not None:
                        raise HTTPProtocolError("more than one Content-Length")
                    content_length = value
                elif lowered == "transfer-encoding":
                    if transfer_encoding is not None:
                        raise HTTPProtocolError("more than one Transfer-Encoding")
                    transfer_encoding = value
                elif lowered == "connection":
                    connection.extend(value.lower().split(","))
                elif lowered == "expect":
                    expect_continue = value.lower() == "100-continue"
                else:
                    host_count += 1

        if host_count > 1:
            raise HTTPProtocolError("more than one Host")
        if http11 and not host_count and self.require_host:
            raise HTTPProtocolError("missing Host")

        length: int | None = None
        chunked = False
        framing_conflict = False
        if transfer_encoding is not None:
            if content_length is not None:
                # The classic CL.TE / TE.CL smuggling vector. RFC 9112 6.1: the body is
                # framed by Transfer-Encoding alone (as gevent does), and the server MUST
                # close the connection after responding, so that whatever a front end
                # framed differently can never be read as another request.
                framing_conflict = True
            if not http11:
                raise HTTPProtocolError("Transfer-Encoding in an HTTP/1.0 request")
            _check_transfer_encoding(transfer_encoding.encode("latin-1"))
            chunked = True
        elif content_length is not None:
            if not content_length.isdigit() or not content_length.isascii():
                raise HTTPProtocolError("invalid Content-Length")
            if len(content_length) > 18 or int(content_length) > _MAX_CONTENT_LENGTH:
                raise HTTPProtocolError("Content-Length too large", 413)
            length = int(content_length)

        if connection:
            tokens = [token.strip(" \t") for token in connection]
            if "close" in tokens:
                keep_alive = False
            else:
                keep_alive = http11 or "keep-alive" in tokens
        else:
            keep_alive = http11
        if framing_conflict:
            keep_alive = False

        if chunked:
            self._state = _CHUNK_HEADER
        elif length:
            self._state = _BODY
            self._remaining = length
        else:
            self._state = _END
            expect_continue = False
        return Request(
            method,
            target,
            "HTTP/1.1" if http11 else "HTTP/1.0",
            headers,
            length,
            chunked,
            keep_alive,
            expect_continue,
            match.group(0),
        )

    # -- the body ------------------------------------------------------------

    def _next_data(self) -> Data | _Sentinel:
        buffer = self._buffer
        if not buffer:
            if self._eof:
                raise HTTPProtocolError("connection closed in the middle of the body")
            return NEED_DATA
        remaining = self._remaining
        if len(buffer) <= remaining:
            data = bytes(buffer)
            buffer.clear()
        else:
            data = bytes(buffer[:remaining])
            del buffer[:remaining]
        remaining -= len(data)
        self._remaining = remaining
        if not remaining:
            self._state = _END if self._state == _BODY else _CHUNK_END
        return Data(data)

    def _next_chunk_header(self) -> Data | EndOfMessage | _Sentinel:
        buffer = self._buffer
        end = buffer.find(b"\r\n")
        if end < 0:
            if len(buffer) > self.max_chunk_line:
                raise HTTPProtocolError("chunk size line too long")
            if b"\n" in buffer or b"\r" in buffer[:-1]:
                raise HTTPProtocolError("bare CR or LF in a chunk size line")
            digits = _HEX_PREFIX_RE.match(buffer)
            size_end = digits.end() if digits is not None else 0
            if size_end > 16:
                raise HTTPProtocolError("chunk size has too many digits")
            if size_end < len(buffer) and (
                    not size_end or buffer[size_end] not in _AFTER_CHUNK_SIZE):
                # Not a chunk size: fail now, not when a CRLF that may never come arrives.
                raise HTTPProtocolError(f"malformed chunk size line: {bytes(buffer[:80])!r}")
            if self._eof:
                raise HTTPProtocolError("connection closed in the middle of the body")
            return NEED_DATA
        if end > self.max_chunk_line:
            raise HTTPProtocolError("chunk size line too long")
        line = bytes(buffer[:end])
        match = _CHUNK_LINE_RE.fullmatch(line)
        if match is None:
            if b"\n" in line or b"\r" in line:
                raise HTTPProtocolError("bare CR or LF in a chunk size line")
            digits = _HEX_PREFIX_RE.match(line)
            if digits is not None and digits.end() > 16:
                raise HTTPProtocolError("chunk size has too many digits")
            raise HTTPProtocolError(f"malformed chunk size line: {line[:80]!r}")
        del buffer[: end + 2]
        size = int(match.group(1), 16)
        if size > _MAX_CONTENT_LENGTH:
            raise HTTPProtocolError("chunk size too large")
        if size:
            self._state = _CHUNK_DATA
            self._remaining = size
            return self._next_data()
        self._state = _TRAILERS
        return self._next_trailers()

    def _next_chunk_end(self) -> Data | EndOfMessage | _Sentinel:
        buffer = self._buffer
        if len(buffer) < 2:
            if buffer and buffer != b"\r":
                raise HTTPProtocolError("chunk data not followed by CRLF")
            if self._eof:
                raise HTTPProtocolError("connection closed in the middle of the body")
            return NEED_DATA
        if buffer[:2] != b"\r\n":
            raise HTTPProtocolError("chunk data not followed by CRLF")
        del buffer[:2]
        self._state = _CHUNK_HEADER
        return self._next_chunk_header()

    def _next_trailers(self) -> EndOfMessage | _Sentinel:
        buffer = self._buffer
        if buffer[:2] == b"\r\n":
            del buffer[:2]
            self._state = _IDLE
            return EndOfMessage()
        end = buffer.find(b"\r\n\r\n", self._scan_from)
        if end < 0:
            size = len(buffer)
            if size > self.max_trailer_size:
                raise HTTPProtocolError("trailer section too large", 431)
            if (_BARE_CR_OR_LF_RE.search(buffer, self._scan_from)
                    or buffer[:1] in (b" ", b"\t")):
                raise HTTPProtocolError("malformed trailer section")
            if self._eof:
                raise HTTPProtocolError("connection closed in the trailer section")
            self._scan_from = size - 3 if size > 3 else 0
            return NEED_DATA
        self._scan_from = 0
        if end > self.max_trailer_size:
            raise HTTPProtocolError("trailer section too large", 431)
        block = bytes(buffer[:end])
        trailers: list[tuple[str, str]] = []
        lines = block.split(b"\r\n")
        if len(lines) > self.max_headers:
            raise HTTPProtocolError("too many trailer fields", 431)
        for line in lines:
            field = _HEADER_RE.fullmatch(line)
            if field is None:
                raise _bad_line_error(line, "trailer field")
            name, value = field.groups()
            if name.lower() in _FORBIDDEN_TRAILERS:
                raise HTTPProtocolError(f"{name.decode('ascii')} is not allowed in a trailer")
            trailers.append((name.decode("latin-1"), value.rstrip(b" \t").decode("latin-1")))
        del buffer[: end + 4]
        self._state = _IDLE
        return EndOfMessage(trailers)


_TEXT_CONTINUATION_RE = re.compile("[ \t]+([^\x00-\x08\x0a-\x1f\x7f]*)")


def _unfold(block: str) -> list[tuple[str, str]]:
    """The fields of a header *block* (ending with CRLF) that failed the one-match check
    because of obsolete line folding, each obs-fold replaced by a space (RFC 9112 5.2;
    gevent #116: real SOAP clients fold Content-Type). Only in fields that decide nothing
    about framing or routing: a fold in Content-Length, Transfer-Encoding, Host,
    Connection or Expect, or before the first field, is refused, since a front end may
    read it differently. Anything else wrong raises as before."""
    fields: list[tuple[str, str]] = []
    for line in block[:-2].split("\r\n"):
        if line[:1] in (" ", "\t"):
            continuation = _TEXT_CONTINUATION_RE.fullmatch(line)
            if not fields or continuation is None:
                _raise_bad_field(block)
            name, value = fields[-1]
            if name.lower() in _SPECIAL_TEXT:
                raise HTTPProtocolError(f"obsolete line folding (obs-fold) in {name}")
            more = continuation.group(1).rstrip(" \t")  # type: ignore[union-attr]
            fields[-1] = (name, f"{value} {more}" if value and more else value or more)
            continue
        field = _TEXT_FIELD_RE.fullmatch(line + "\r\n")
        if field is None:
            _raise_bad_field(block)
        name, value = field.groups()  # type: ignore[union-attr]
        fields.append((name, value.rstrip(" \t")))
    return fields


def _raise_bad_field(block: str) -> None:
    """The header block failed the one-match check: find the line and say what is wrong."""
    for line in block[:-2].split("\r\n"):
        raw_line = line.encode("latin-1")
        if _HEADER_RE.fullmatch(raw_line) is None:
            raise _bad_line_error(raw_line, "header field")
    raise HTTPProtocolError("malformed header section")


def _check_transfer_encoding(value: bytes) -> None:
    """Accept exactly ``chunked``; explain anything else (RFC 9112 6.1, 7)."""
    codings = [coding.strip(b" \t").lower() for coding in value.split(b",")]
    if codings == [b"chunked"]:
        return
    if not codings or codings[-1] != b"chunked":
        raise HTTPProtocolError(
            f"Transfer-Encoding must end with chunked, got {value[:80]!r}", 400
        )
    if any(not re.fullmatch(_TOKEN, coding) for coding in codings) or b"chunked" in codings[:-1]:
        raise HTTPProtocolError(f"malformed Transfer-Encoding {value[:80]!r}", 400)
    raise HTTPProtocolError(f"unsupported transfer coding in {value[:80]!r}", 501)
