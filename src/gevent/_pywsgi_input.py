"""pywsgi's reading side: the connection reader (``handler.rfile``) and ``wsgi.input``.

The parser (:mod:`gevent._http`) owns the bytes received and not yet consumed; the reader
feeds it from the socket, one ``recv`` at a time. ``wsgi.input`` pulls decoded body pieces
out of the parser, so Content-Length and chunked bodies stream the same way and the bytes of
the next pipelined request are never handed to the application.

After a protocol switch (101) code such as gevent-websocket reads ``handler.rfile`` directly:
it gets whatever the parser still holds, then the socket.
"""

from __future__ import annotations

import io
import socket as _socket_module
import sys
from _socket import socket as _c_socket
from collections.abc import Iterator
from typing import Any

from gevent._http import NEED_DATA, Data, EndOfMessage, HTTPProtocolError, RequestParser
from gevent.socket import socket as _green_socket

__all__ = ["Input"]

_RECV_SIZE = 65536
_c_recv = _c_socket.recv
_c_send = _c_socket.send
# A plain green socket can be read with the system call first and waited on with a timeout
# of our choosing, without changing the timeout the application sees (settimeout() per
# request was a visible share of a keep-alive request's cost).
_WAITABLE_SOCKET = _green_socket if hasattr(_green_socket, "_wait_read") else None
_CONTINUE_RESPONSE = b"HTTP/1.1 100 Continue\r\n\r\n"
# Large bodies on Linux: SO_RCVLOWAT set to what is still to come makes the kernel report
# the socket readable once that much is queued (or its window fills), so a 1 MiB upload is
# a wake-up or two instead of one per segment burst. Linux only: there epoll honours it and
# the kernel caps the value and grows the receive buffer to fit.
_SO_RCVLOWAT = getattr(_socket_module, "SO_RCVLOWAT", None) if sys.platform == "linux" else None
_SOL_SOCKET = _socket_module.SOL_SOCKET
_LOWAT_MIN = 128 * 1024  # below this the extra system calls cost more than they save
_LOWAT_MAX = 4 * 1024 * 1024


class _InvalidClientInput(OSError):
    """The request body broke the protocol (a bad chunk, a bad trailer...)."""


class _IncompleteBody(OSError):
    """The client closed the connection before the end of the body. The application sees
    it as an ``OSError`` with gevent's message; one it lets escape is reported like any
    other error, as in gevent (not answered as a protocol error)."""


class _SocketIOShim:
    """Stands in for ``socket.SocketIO``: libraries reach the socket as ``rfile.raw._sock``."""

    __slots__ = ("_sock",)

    def __init__(self, sock: Any) -> None:
        self._sock = sock

    def fileno(self) -> int:
        return self._sock.fileno()


class _BodySource(io.RawIOBase):
    """The raw stream under :meth:`_ConnectionReader.read_body`: first *prefix* (body bytes
    received before), then the socket, never more than *limit* bytes in all, so that the
    buffered reader on top never takes a byte past the body (or past what was asked)."""

    def __init__(self, recv_into: Any, lowat_socket: Any = None) -> None:
        self._recv_into = recv_into
        self.prefix: Any = None
        self.limit = 0
        self.received = 0
        #: The socket whose SO_RCVLOWAT follows what is left of a large body, else None.
        self.lowat_socket = lowat_socket
        self.lowat = 1

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        limit = self.limit
        if limit <= 0:
            return 0
        if len(buffer) > limit:
            buffer = buffer[:limit]
        prefix = self.prefix
        if prefix is not None:
            size = len(buffer)
            if len(prefix) > size:
                buffer[:] = prefix[:size]
                self.prefix = prefix[size:]
            else:
                size = len(prefix)
                buffer[:size] = prefix
                self.prefix = None
        else:
            if self.lowat > limit:
                self.set_lowat(limit)  # never wait for more than the body has left
            size = self._recv_into(buffer)
            self.received += size
        self.limit = limit - size
        return size

    def set_lowat(self, value: int) -> None:
        try:
            self.lowat_socket.setsockopt(_SOL_SOCKET, _SO_RCVLOWAT, value)
        except OSError:  # closed under us: the next recv reports it
            pass
        self.lowat = value


class _ConnectionReader:
    """``handler.rfile``: a buffered binary reader whose buffer is the parser's."""

    def __init__(self, sock: Any, parser: Any, source: Any = None) -> None:
        self.raw = _SocketIOShim(sock)
        self.parser = parser
        self.closed = False
        self._body_reader: Any = None
        self._empty_input: Input | None = None
        #: The socket when it is a plain green socket (see :meth:`fill_within`), else None.
        self.waitable: Any = None
        if source is not None:
            # A caller-supplied file (tests, custom transports) instead of the socket.
            read = getattr(source, "read1", None) or source.read
            self._recv = read
            self._recv_into = None
        else:
            self._recv = sock.recv
            self._recv_into = sock.recv_into
            if type(sock) is _WAITABLE_SOCKET:
                self.waitable = sock

    def empty_input(self) -> Input:
        """The ``wsgi.input`` of a request without a body. It never changes state, so one
        per connection will do (kept here: the handler's instance dict stays under the
        size where CPython stops sharing keys between instances, ~1.3 KiB a connection)."""
        empty = self._empty_input
        if empty is None:
            empty = self._empty_input = Input(self, 0)
        return empty

    def fill_within(self, timeout: float | None, wait_first: bool = False) -> bool:
        """:meth:`fill`, waiting at most *timeout* seconds (``TimeoutError``; None: the
        socket's own timeout). A switch point.

        On a :attr:`waitable` socket the socket's timeout is left alone, and *wait_first*
        waits for readability before the first ``recv``: right after a response the client
        cannot have sent its next request yet (unless it pipelines), so trying first would
        only cost a failing system call. Other sockets (SSL, custom) go through
        ``settimeout``."""
        sock = self.waitable
        if sock is None:
            sock = self.raw._sock
            if timeout is None or not hasattr(sock, "settimeout"):
                return self.fill()
            previous = sock.gettimeout()
            sock.settimeout(timeout)
            try:
                return self.fill()
            finally:
                try:
                    sock.settimeout(previous)
                except OSError:  # closed under us by stop(): the caller sees EOF next
                    pass
        if wait_first:
            if timeout is None:
                sock._wait_read()
            else:
                sock._wait_read(timeout)
        while True:
            try:
                data = _c_recv(sock, _RECV_SIZE)
                break
            except BlockingIOError:
                if timeout is None:
                    sock._wait_read()
                else:
                    sock._wait_read(timeout)
        if not data:
            self.parser.feed_eof()
            return False
        self.parser.feed(data)
        return True

    def read_body(self, prefix: bytes, size: int) -> bytes:
        """*prefix* followed by body bytes straight from the socket, *size* bytes in all
        (fewer only if the peer closed). The parser must have no bytes buffered; it is told
        how many were read (see ``direct_body_budget``).

        The bytes are received straight into the ``bytes`` object returned: a buffered
        reader over :class:`_BodySource` allocates it once and fills it with ``recv_into``
        of everything the kernel holds, so a large upload costs a few system calls and no
        copy (a loop of ``recv`` and a join cost many calls and two copies per byte)."""
        reader = self._body_reader
        if reader is None:
            # A buffer of one byte makes every read go straight into the result: the
            # source never gives more than asked, so nothing is left buffered here.
            lowat_socket = self.waitable if _SO_RCVLOWAT is not None else None
            source = _BodySource(self._recv_into, lowat_socket)
            reader = self._body_reader = io.BufferedReader(source, 1)
        source = reader.raw
        source.prefix = memoryview(prefix) if prefix else None
        source.limit = size
        source.received = 0
        # Not under a socket timeout: that bounds each wait, and with a low-water mark one
        # wait would have to cover the whole body.
        lowat_socket = source.lowat_socket
        if (lowat_socket is not None and size - len(prefix) >= _LOWAT_MIN
                and lowat_socket.timeout is None):
            source.set_lowat(min(size - len(prefix), _LOWAT_MAX))
        try:
            return reader.read(size)
        finally:
            self.parser.consume_direct_body(source.received)
            source.prefix = None
            source.limit = 0
            if source.lowat != 1:
                source.set_lowat(1)

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
        # Buffered, like the file gevent's handlers read: receive what the peer has sent
        # (not just the bytes asked for), so that a handler that stops reading early
        # closes a drained socket, with a FIN and not a reset that loses its last reply.
        parser = self.parser
        while parser.buffered < size:
            if not self.fill():
                break
        return parser.take_buffer(size)

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
        if type(rfile) is not _ConnectionReader:
            # A plain binary file holding the body (as gevent allows): parse it with a
            # parser of its own, set straight to the body.
            parser = RequestParser()
            parser.start_body(content_length, chunked_input)
            rfile = _ConnectionReader(None, parser, rfile)
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
                raise self._incomplete()
            parser.consume_direct_body(len(data))
            return data
        while True:
            try:
                event = parser.next_event()
            except HTTPProtocolError as error:
                if parser.eof:
                    raise self._incomplete() from None
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

    def _incomplete(self) -> _IncompleteBody:
        if self.chunked_input:
            return _IncompleteBody("unexpected end of file while parsing chunked data")
        remaining = self.rfile.parser.body_remaining
        received = self.content_length - remaining if remaining and self.content_length else 0
        return _IncompleteBody(
            f"unexpected end of file while reading request at position {received}")

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

    def _read_content(self, length: int | None) -> bytes | None:
        """The fast path of :meth:`read` for a Content-Length body that needs bytes from the
        socket: one allocation, ``recv_into`` of whatever the kernel holds. None when it does
        not apply."""
        rfile = self.rfile
        if rfile._recv_into is None:
            return None
        parser = rfile.parser
        remaining = parser.body_remaining
        if not remaining:
            return None
        pending = self._pending
        available = len(pending) + remaining
        size = available if length is None or length < 0 or length > available else length
        if size - len(pending) - parser.buffered < _RECV_SIZE:
            # Everything is here already, or little is missing: the ordinary path reads
            # ahead in _RECV_SIZE pieces, which serves a loop of small reads in fewer calls.
            return None
        if self._continue_socket is not None:
            self._send_100_continue()
        prefix = pending
        have = len(pending)
        if parser.buffered:
            pieces = [pending] if pending else []
            while parser.buffered and have < size:
                piece = self._pull()
                pieces.append(piece)
                have += len(piece)
            prefix = pieces[0] if len(pieces) == 1 else b"".join(pieces)
        if have >= size:  # only when the pulled piece overshot the length asked for
            data, self._pending = prefix[:size], prefix[size:]
        else:
            self._pending = b""
            data = rfile.read_body(prefix, size)
            if len(data) < size:
                raise self._incomplete()
        if parser.body_remaining == 0:
            parser.next_event()  # EndOfMessage
            self._done = True
        self.position += len(data)
        return data

    def read(self, length: int | None = None) -> bytes:
        if not self.chunked_input and not self._done:
            data = self._read_content(length)
            if data is not None:
                return data
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
