"""How :class:`gevent.pywsgi.WSGIHandler` writes a response: ``start_response`` (which
validates everything the application gives), the framing (Content-Length, chunked, or the
close), and the sends (headers and a small body in one ``send``, a large body gathered into
one ``sendmsg``). A base class of ``WSGIHandler``, in a module of its own only to keep the
handler's module readable; the methods are the handler's API (gunicorn overrides some)."""

from __future__ import annotations

import socket as _stdlib_socket
from typing import Any

from gevent._http import LAST_CHUNK, check_header, encode_chunk, reason_phrase
from gevent._pywsgi_environ import http_date
from gevent._pywsgi_headers import (
    has_connection,
    header_kind,
    header_kinds,
    status_code,
    status_codes,
)

__all__: list[str] = []

#: Bodies up to this size returned as a list are joined and sent with the headers at once.
_JOIN_LIMIT = 64 * 1024
_NO_BODY_CODES = frozenset((204, 304))
_c_sendmsg = getattr(_stdlib_socket.socket, "sendmsg", None)


class ResponseWriter:
    """The response half of :class:`gevent.pywsgi.WSGIHandler` (see the module docstring).
    Reads and sets the handler's per-request attributes (``status``, ``code``,
    ``response_headers``, ``headers_sent``...) declared there."""

    # Declared (and documented) on WSGIHandler; here for the type checker.
    status: Any
    code: Any
    result: Any
    headers_sent: bool
    response_headers: Any
    response_length: int
    response_use_chunked: bool
    provided_date: Any
    provided_content_length: Any
    close_connection: bool
    connection_upgraded: bool
    command: Any
    request_version: Any
    wsgi_input: Any
    socket: Any
    rfile: Any
    server: Any
    ApplicationError: Any
    _expected_length: int | None
    _body_written: int

    def _sendall(self, data: bytes | memoryview) -> None:
        raise NotImplementedError

    def log_error(self, msg: str, *args: Any) -> None:
        raise NotImplementedError

    def process_result(self) -> None:
        result = self.result
        if (not self.headers_sent and type(result) in (list, tuple) and len(result) > 1
                and self.status is not None):
            total = 0
            for chunk in result:
                total += len(chunk)
            if total <= _JOIN_LIMIT:
                # One send for the headers and the whole small body.
                result = [b"".join(result)]
        write = self.write
        for data in result:
            if data:
                write(data)
        if self.status is None:
            # Nothing to answer with: as gevent, no response and no traceback; unlike
            # gevent, the connection closes rather than waiting for a next request that
            # the client, still waiting for this response, will never send.
            self.close_connection = True
            self.log_error("the application returned without calling start_response()")
            return
        if not self.headers_sent:
            write(b"")
        if self.response_use_chunked:
            self._sendall(LAST_CHUNK)
            self.response_length += len(LAST_CHUNK)
        expected = self._expected_length
        if expected is not None and self._body_written < expected and self._body_allowed():
            self.log_error("application sent %d of %d bytes of Content-Length",
                           self._body_written, expected)
            self.close_connection = True

    def _body_allowed(self) -> bool:
        code = self.code or 200
        return not (code in _NO_BODY_CODES or code < 200 or self.command == "HEAD")

    def start_response(self, status: str, headers: list[tuple[str, str]],
                       exc_info: Any = None) -> Any:
        """The WSGI ``start_response``: validates everything (a CR or LF in a header
        raises, no response splitting) and returns :meth:`write`."""
        if exc_info:
            try:
                if self.headers_sent:
                    raise exc_info[1].with_traceback(exc_info[2])
            finally:
                exc_info = None
        elif self.status is not None:
            raise self.ApplicationError("start_response() called a second time without exc_info")
        code = status_codes.get(status)
        if code is None:
            code = status_code(status)
        provided_content_length = provided_date = provided_connection = None
        for name, value in headers:
            kind = header_kinds.get(name)
            if kind is None:
                kind = header_kind(name, value)
            if type(value) is not str or not (value.isascii() and value.isprintable()):
                check_header(name, value)
            if kind:
                if kind == 1:
                    provided_content_length = value
                elif kind == 2:
                    provided_date = value
                else:
                    provided_connection = value
        if provided_content_length is not None:
            if not (provided_content_length.isascii() and provided_content_length.isdigit()):
                raise self.ApplicationError(
                    f"invalid Content-Length {provided_content_length!r}")
            self._expected_length = int(provided_content_length)
            if code in _NO_BODY_CODES and self._expected_length:
                # gevent's message, and as bytes: applications (and gevent's tests) answer
                # with the exception's args.
                raise self.ApplicationError(
                    f"Invalid Content-Length for {code} response: {provided_content_length!r}"
                    " (must be absent or zero)".encode("latin-1"))
        else:
            self._expected_length = None
        if provided_connection is not None and "close" in provided_connection.lower():
            self.close_connection = True
        self.status = status
        self.code = code
        self.response_headers = list(headers)
        self.provided_content_length = provided_content_length
        self.provided_date = provided_date
        return self.write

    def finalize_headers(self) -> None:
        """Add Date, the framing (Content-Length or chunked) and Connection to the
        response headers, just before they are sent."""
        headers = self.response_headers
        assert headers is not None
        if self.provided_date is None:
            headers.append(("Date", http_date()))
        code = self.code or 200
        if code == 101:
            self.connection_upgraded = True
        elif self.provided_content_length is None and (
                self._body_allowed() or self.command == "HEAD"):
            result = self.result
            if hasattr(result, "__len__") and not isinstance(result, (str, bytes)):
                total = sum(len(chunk) for chunk in result)
                headers.append(("Content-Length", str(total)))
                self.provided_content_length = str(total)
                self._expected_length = total
            elif self.command == "HEAD":
                pass
            elif self.request_version == "HTTP/1.1":
                self.response_use_chunked = True
                headers.append(("Transfer-Encoding", "chunked"))
            else:
                # HTTP/1.0 without a length: the end of the body is the close.
                self.close_connection = True
        if getattr(self.server, "_stopping", False):
            self.close_connection = True
        if not self.connection_upgraded:
            # Say what we do, unless the application already did.
            if self.close_connection:
                if not has_connection(headers):
                    headers.append(("Connection", "close"))
            elif self.request_version == "HTTP/1.0" and not has_connection(headers):
                headers.append(("Connection", "keep-alive"))

    def write(self, data: bytes) -> None:
        """The WSGI ``write`` callable (and how the result is sent)."""
        if self.status is None:
            raise self.ApplicationError("write() before start_response()")
        if not data:
            if self.headers_sent:
                return
            data = b""
        elif type(data) is not bytes:
            if not isinstance(data, (bytes, bytearray, memoryview)):
                self._refuse_body(data)
                raise TypeError(f"the application must write bytes, not {type(data).__name__}")
            data = bytes(data)
        if self.headers_sent:
            self._write(data)
        else:
            self._write_with_headers(data)

    def _refuse_body(self, data: Any) -> None:
        """Content for a 204 or 304 response is an application error (as in gevent); the
        body of a response to HEAD is dropped silently."""
        code = self.code
        if data and code in _NO_BODY_CODES:
            raise self.ApplicationError(f"The {code} response must have no body")

    def _write(self, data: bytes) -> None:
        if not self._body_allowed():
            self._refuse_body(data)
            return
        self._count_body(data)
        if self.response_use_chunked:
            if len(data) > _JOIN_LIMIT:
                self._send_parts([b"%x\r\n" % len(data), data, b"\r\n"])
                return
            data = encode_chunk(data)
        self._sendall(data)
        self.response_length += len(data)

    def _send_parts(self, parts: list[bytes]) -> None:
        """Send *parts* in order: one ``sendmsg`` (gather write) on a plain socket, so a
        large body is neither copied nor sent in a segment of its own."""
        total = 0
        for part in parts:
            total += len(part)
        sock = self.socket
        if self.rfile.waitable is sock and _c_sendmsg is not None:
            try:
                sent = _c_sendmsg(sock, parts)
            except BlockingIOError:
                sent = 0
            self.response_length += total
            if sent == total:
                return
            for part in parts:
                size = len(part)
                if sent >= size:
                    sent -= size
                    continue
                self._sendall(memoryview(part)[sent:] if sent else part)
                sent = 0
            return
        for part in parts:
            self._sendall(part)
            self.response_length += len(part)

    def _count_body(self, data: bytes) -> None:
        written = self._body_written + len(data)
        expected = self._expected_length
        if expected is not None and written > expected:
            self.close_connection = True
            raise self.ApplicationError(
                f"the application wrote {written} bytes, more than Content-Length {expected}")
        self._body_written = written

    def _write_with_headers(self, data: bytes) -> None:
        if data and self.code in _NO_BODY_CODES:
            self._refuse_body(data)
        self.headers_sent = True
        wsgi_input = self.wsgi_input
        if wsgi_input is not None and wsgi_input._continue_socket is not None:
            # The final response begins before the body was asked for: no interim 100 may
            # follow it, and the client may or may not send the body, so the bytes after this
            # response cannot be trusted as the next request (gevent #2075): close.
            wsgi_input._continue_socket = None
            wsgi_input._continue_refused = True
            self.close_connection = True
        self.finalize_headers()
        status = self.status
        if len(status) == 3:  # type: ignore[arg-type]
            status = f"{status} {reason_phrase(int(status))}"  # type: ignore[arg-type]
        # Always our own version in the status line (RFC 9110 2.5), even to 1.0 clients.
        # Names and values were checked by start_response; ": ".join formats each pair.
        headers = self.response_headers
        if headers:
            lines = "\r\n".join(map(": ".join, headers))
            head = f"HTTP/1.1 {status}\r\n{lines}\r\n\r\n".encode("latin-1")
        else:
            head = f"HTTP/1.1 {status}\r\n\r\n".encode("latin-1")
        if data and self._body_allowed():
            self._count_body(data)
            if len(data) > _JOIN_LIMIT:
                # Large: gather the pieces into one sendmsg rather than copy the body.
                if self.response_use_chunked:
                    self._send_parts([head, b"%x\r\n" % len(data), data, b"\r\n"])
                else:
                    self._send_parts([head, data])
                return
            if self.response_use_chunked:
                data = encode_chunk(data)
            head += data
        self._sendall(head)
        self.response_length += len(head)
