"""pywsgi's reading side: the connection reader (``handler.rfile``) and ``wsgi.input``.

The parser (:mod:`gevent._http`) owns the bytes received and not yet consumed; the reader
feeds it from the socket, one ``recv`` at a time. ``wsgi.input`` pulls decoded body pieces
out of the parser, so Content-Length and chunked bodies stream the same way and the bytes of
the next pipelined request are never handed to the application.

After a protocol switch (101) code such as gevent-websocket reads ``handler.rfile`` directly:
it gets whatever the parser still holds, then the socket.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from gevent._http import NEED_DATA, Data, EndOfMessage, HTTPProtocolError

__all__ = ["Input"]

_RECV_SIZE = 65536
_CONTINUE_RESPONSE = b"HTTP/1.1 100 Continue\r\n\r\n"


class _InvalidClientInput(OSError):
    """The request body broke the protocol (bad chunk, connection closed early...)."""


class _SocketIOShim:
    """Stands in for ``socket.SocketIO``: libraries reach the socket as ``rfile.raw._sock``."""

    __slots__ = ("_sock",)

    def __init__(self, sock: Any) -> None:
        self._sock = sock

    def fileno(self) -> int:
        return self._sock.fileno()


class _ConnectionReader:
    """``handler.rfile``: a buffered binary reader whose buffer is the parser's."""

    def __init__(self, sock: Any, parser: Any, source: Any = None) -> None:
        self.raw = _SocketIOShim(sock)
        self.parser = parser
        self.closed = False
        if source is not None:
            # A caller-supplied file (tests, custom transports) instead of the socket.
            read = getattr(source, "read1", None) or source.read
            self._recv = read
        else:
            self._recv = sock.recv

    def fill(self) -> bool:
        """One read from the peer into the parser; False (and EOF fed) when it closed."""
        data = self._recv(_RECV_SIZE)
        if not data:
            self.parser.feed_eof()
            return False
        self.parser.feed(data)
        return True

    # The file API, for code that takes the stream over (websockets, CONNECT tunnels).

    def readable(self) -> bool:
        return True

    def read1(self, size: int = -1) -> bytes:
        if self.parser.buffered:
            return self.parser.take_buffer(size)
        return self._recv(size if size > 0 else _RECV_SIZE)

    def read(self, size: int | None = -1) -> bytes:
        if size is None or size < 0:
            chunks = [self.parser.take_buffer()]
            while True:
                data = self._recv(_RECV_SIZE)
                if not data:
                    return b"".join(chunks)
                chunks.append(data)
        data = self.parser.take_buffer(size) if self.parser.buffered else b""
        while len(data) < size:
            more = self._recv(size - len(data))
            if not more:
                break
            data += more
        return data

    def readinto(self, buffer: Any) -> int:
        data = self.read1(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def readline(self, size: int | None = -1) -> bytes:
        line = bytearray()
        while size is None or size < 0 or len(line) < size:
            byte = self.read(1)
            if not byte:
                break
            line += byte
            if byte == b"\n":
                break
        return bytes(line)

    def close(self) -> None:
        self.closed = True

    def fileno(self) -> int:
        return self.raw.fileno()


class Input:
    """``environ['wsgi.input']``: the request body as a readable, streaming file.

    Reads return at most what the body holds and ``b""`` after it; a body that breaks the
    protocol raises ``OSError``. When the request said ``Expect: 100-continue``, the interim
    ``100 Continue`` goes out on the first read (and only then, only once, and never after
    the response has started).
    """

    def __init__(self, rfile: Any, content_length: int | None, socket: Any = None,
                 chunked_input: bool = False) -> None:
        self.rfile = rfile
        self.content_length = content_length
        self.socket = socket
        self.chunked_input = chunked_input
        self.position = 0
        self._pending = b""
        self._done = not chunked_input and not content_length
        self._continue_socket = socket
        self._continue_refused = False

    # -- plumbing -------------------------------------------------------------------------

    def _send_100_continue(self) -> None:
        sock, self._continue_socket = self._continue_socket, None
        if sock is not None:
            sock.sendall(_CONTINUE_RESPONSE)

    def _pull(self) -> bytes:
        """The next piece of body; ``b""`` once the body is complete."""
        if self._done:
            return b""
        if self._continue_socket is not None:
            self._send_100_continue()
        rfile = self.rfile
        parser = rfile.parser
        budget = parser.direct_body_budget()
        if budget:
            # Straight from the socket: no copy into and out of the parser's buffer.
            data = rfile._recv(budget if budget < _RECV_SIZE else _RECV_SIZE)
            if not data:
                raise _InvalidClientInput("connection closed in the middle of the body")
            parser.consume_direct_body(len(data))
            return data
        while True:
            try:
                event = parser.next_event()
            except HTTPProtocolError as error:
                raise _InvalidClientInput(error.message) from None
            kind = type(event)
            if kind is Data:
                return event.data  # type: ignore[union-attr]
            if kind is EndOfMessage:
                self._done = True
                return b""
            if event is NEED_DATA:
                self.rfile.fill()
                continue
            raise _InvalidClientInput(f"unexpected {event!r} in the request body")

    def _discard(self, limit: int) -> bool:
        """Consume what the application left unread, up to *limit* bytes; True if the
        body is now complete (so the connection can serve another request)."""
        self._pending = b""
        while not self._done:
            if limit <= 0:
                return False
            data = self._pull()
            limit -= len(data)
        return True

    # -- the file API ---------------------------------------------------------------------

    def read(self, length: int | None = None) -> bytes:
        if length is not None and length >= 0:
            pending = self._pending
            if len(pending) < length and not self._done:
                chunks = [pending]
                have = len(pending)
                while have < length and not self._done:
                    piece = self._pull()
                    chunks.append(piece)
                    have += len(piece)
                pending = b"".join(chunks)
            if len(pending) <= length:
                data, self._pending = pending, b""
            else:
                data, self._pending = pending[:length], pending[length:]
        else:
            chunks = [self._pending]
            self._pending = b""
            while not self._done:
                chunks.append(self._pull())
            data = b"".join(chunks)
        self.position += len(data)
        return data

    def readline(self, size: int | None = None) -> bytes:
        pending = self._pending
        start = 0
        while True:
            index = pending.find(b"\n", start)
            if index >= 0:
                end = index + 1
                break
            if size is not None and 0 <= size <= len(pending):
                end = size
                break
            if self._done:
                end = len(pending)
                break
            start = len(pending)
            pending += self._pull()
        if size is not None and 0 <= size < end:
            end = size
        line, self._pending = pending[:end], pending[end:]
        self.position += len(line)
        return line

    def readlines(self, hint: int | None = None) -> list[bytes]:
        lines: list[bytes] = []
        total = 0
        while True:
            line = self.readline()
            if not line:
                return lines
            lines.append(line)
            total += len(line)
            if hint is not None and 0 < hint <= total:
                return lines

    def __iter__(self) -> Iterator[bytes]:
        return self

    def __next__(self) -> bytes:
        line = self.readline()
        if not line:
            raise StopIteration
        return line

    next = __next__

    def close(self) -> None:
        """Nothing to release: the connection outlives the request."""
