"""A fast, strict WSGI (PEP 3333) HTTP/1.1 server.

``WSGIServer(("127.0.0.1", 8000), application).serve_forever()``

Each connection gets a :class:`WSGIHandler` in its own greenlet. The handler parses requests
with the strict sans-IO parser of :mod:`gevent._http` (which refuses anything that could be
used to smuggle a request), runs the application, and writes the response: the status line,
the headers and a small body leave in a single ``send``, and accepted sockets get
``TCP_NODELAY``, so a keep-alive client never waits on a delayed ACK. Keep-alive, pipelining,
chunked bodies both ways and ``Expect: 100-continue`` (sent only when the application reads
the body) are handled here.

Run ``python -m gevent.pywsgi module:app`` to serve an application from the command line.
"""

from __future__ import annotations

import errno
import logging
import socket as _stdlib_socket
import sys
import time
import traceback
from typing import Any
from urllib.parse import unquote_to_bytes

from gevent import __version__ as _gevent_version
from gevent._http import (
    CONNECTION_CLOSED,
    NEED_DATA,
    HTTPProtocolError,
    RequestParser,
    format_error_response,
)
from gevent._pywsgi_environ import (
    Environ,
    FileWrapper,
    LoggingLogAdapter,
    RequestHeaders,
    SecureEnviron,
    WSGISecureEnviron,
    _default_log,
    _NoopLog,
)
from gevent._pywsgi_headers import (
    UNKNOWN,
    environ_key,
    environ_keys,
)
from gevent._pywsgi_input import Input, _c_send, _ConnectionReader, _InvalidClientInput
from gevent._pywsgi_response import ResponseWriter
from gevent.hub import get_hub
from gevent.server import StreamServer

__all__ = [
    "Environ",
    "LoggingLogAdapter",
    "SecureEnviron",
    "WSGIHandler",
    "WSGISecureEnviron",
    "WSGIServer",
]

#: The longest request line accepted (longer gets 414).
MAX_REQUEST_LINE = 8192
#: Unread request body the server will read and throw away to keep a connection alive.
_MAX_DISCARD = 256 * 1024
_COOKIE_KEYS = frozenset(("HTTP_COOKIE", "HTTP_COOKIE2"))
#: A keyword argument not given: the class attribute applies.
_CLASS_DEFAULT: Any = object()
_SOCKET_TIMEOUT = TimeoutError  # socket.timeout, in every Python we support


class WSGIHandler(ResponseWriter):
    """Serves the requests of one connection. Subclasses (gunicorn, gevent-websocket) read
    and override the attributes and methods below; they are part of the API."""

    protocol_version = "HTTP/1.1"
    #: Builds ``self.headers`` from the parsed header list.
    MessageClass = RequestHeaders
    #: errno values of a peer that went away; they end the connection silently.
    ignored_socket_errors = (errno.EPIPE, errno.ECONNRESET, errno.ENOTCONN, errno.ESHUTDOWN)
    #: What an application that misuses the WSGI protocol gets.
    ApplicationError = AssertionError

    # Per-request state, readable before the first request too.
    status: str | None = None
    code: int | None = None
    response_headers: list[tuple[str, str]] | None = None
    response_length = 0
    response_use_chunked = False
    provided_date: Any = None
    provided_content_length: Any = None
    headers_sent = False
    close_connection = False
    connection_upgraded = False
    time_start = 0.0
    time_finish = 0.0
    requestline: str | None = None
    command: str | None = None
    path: str | None = None
    request_version: str | None = None
    environ: dict[str, Any] | None = None
    application: Any = None
    result: Any = None
    wsgi_input: Input | None = None
    headers: Any = None
    _request: Any = None

    @property
    def content_length(self) -> int | None:
        """The request's Content-Length (None when chunked or absent)."""
        request = self._request
        return None if request is None else request.content_length

    def __init__(self, sock: Any, address: Any, server: Any, rfile: Any = None) -> None:
        self.socket = sock
        self.client_address = address
        self.server = server
        # Trailers get the request line's limit, as in gevent.
        self.parser = RequestParser(max_request_line=MAX_REQUEST_LINE,
                                    max_trailer_size=MAX_REQUEST_LINE)
        self.rfile = _ConnectionReader(sock, self.parser, rfile)
        self._expected_length: int | None = None
        self._body_written = 0

    # -- the connection -------------------------------------------------------------------

    def handle(self) -> None:
        """Serve requests until the connection closes, then close it."""
        connections = getattr(self.server, "_connections", None)
        if connections is not None:
            connections.add(self)
        try:
            while self.socket is not None:
                if self.handle_one_request() is None:
                    break
        finally:
            if connections is not None:
                connections.discard(self)
            self._close()

    def _sendall(self, data: bytes | memoryview) -> None:
        sock = self.socket
        if self.rfile.waitable is sock:
            # A plain green socket: the system call first; its sendall only for the rest.
            try:
                sent = _c_send(sock, data)
            except BlockingIOError:
                sent = 0
            if sent == len(data):
                return
            data = memoryview(data)[sent:]
        sock.sendall(data)

    def _close(self) -> None:
        sock = self.socket
        self.socket = None
        rfile = self.__dict__.get("rfile")
        if rfile is not None:
            rfile.close()
        if sock is not None:
            try:
                sock.close()
            except OSError:  # already gone: nothing more to release
                pass

    def _close_if_idle(self) -> None:
        """Called by the server when it stops: end this connection if it is waiting for a
        request. Shutting the socket down wakes the pending recv with EOF."""
        sock = self.socket
        # Idle: the previous request is released (or there was none) and no byte of the
        # next one has arrived.
        if self._request is None and sock is not None and not self.parser.buffered:
            try:
                sock.shutdown(_stdlib_socket.SHUT_RDWR)
            except OSError:  # the peer closed first: the handler ends on its own
                pass

    def _read_head(self) -> Any:
        """The next Request event; None when the connection should simply close."""
        event: Any = self.parser.next_request()
        if event is NEED_DATA:
            event = self._wait_for_head()
        return None if event is CONNECTION_CLOSED else event

    def _wait_for_head(self) -> Any:
        """Receive until a request head is complete: an idle connection waits at most the
        server's ``keepalive_timeout`` for its first byte; once the head has begun it must
        be complete within the slow-head allowance (:meth:`_head_time_left`). None when the
        connection should close."""
        server = self.server
        if getattr(server, "_stopping", False):
            return None
        # About to wait, maybe for long: let the previous request's objects go (an idle
        # keep-alive connection should cost as little memory as possible).
        self.environ = self.headers = self.result = self.wsgi_input = None
        self.response_headers = None
        self._request = None
        parser = self.parser
        rfile = self.rfile
        head_timeout = getattr(server, "header_timeout", None)
        idle = not parser.buffered
        started = None if idle else time.monotonic()
        timeout = getattr(server, "keepalive_timeout", None) if idle else head_timeout
        # After a response on this connection, wait before the first recv (see fill_within).
        wait_first = idle and self.time_start != 0.0
        try:
            while True:
                rfile.fill_within(timeout, wait_first)
                wait_first = False
                event = parser.next_event()
                if event is not NEED_DATA:
                    return event
                if head_timeout is None:
                    timeout = None
                    continue
                # A head in pieces: the slow path, where a client may be dribbling bytes.
                now = time.monotonic()
                if started is None:
                    started = now
                timeout = self._head_time_left(server, head_timeout, now - started,
                                               parser.buffered)
                if timeout <= 0:
                    return None
        except (_SOCKET_TIMEOUT, ConnectionError):
            return None

    @staticmethod
    def _head_time_left(server: Any, base: float, elapsed: float, received: int) -> float:
        """Seconds left for a begun request head: *base* (``header_timeout``), plus one
        second per ``header_min_rate`` bytes *received* so far, up to
        ``header_timeout_max`` in all; minus the *elapsed* time. A client that keeps
        sending at the minimum rate is never cut off before the cap, one that dribbles a
        byte at a time is closed soon after *base* (Apache's mod_reqtimeout
        ``header=20-40,MinRate=500``)."""
        allowed = base
        min_rate = getattr(server, "header_min_rate", None)
        if min_rate:
            allowed += received / min_rate
            cap = getattr(server, "header_timeout_max", None)
            if cap is not None and allowed > cap:
                allowed = max(cap, base)
        return allowed - elapsed

    def read_requestline(self) -> str | None:
        """Read the next request head (waiting for it, within the idle and head timeouts);
        return its request line, or None when the connection should close. Raises
        :class:`~gevent._http.HTTPProtocolError` for a request that breaks the protocol."""
        request = self._read_head()
        self._request = request
        return None if request is None else request.request_line

    def read_request(self, raw_requestline: str | bytes) -> bool:
        """Take in the request head read by :meth:`read_requestline`: set ``command``,
        ``path``, ``request_version``, ``headers``... and make ``wsgi.input``."""
        request = self._request
        if request is None:
            # A subclass's read_requestline read the line from rfile itself: parse it
            # with the rest of its head.
            if isinstance(raw_requestline, str):
                raw_requestline = raw_requestline.encode("latin-1")
            self.parser.unread(bytes(raw_requestline))
            request = self._request = self._read_head()
            if request is None:
                return False
        self.requestline = request.request_line
        self.command = request.method
        self.path = request.target
        self.request_version = request.http_version
        self.headers = self.MessageClass(request.headers)
        self.close_connection = not request.keep_alive
        if request.chunked or request.content_length:
            self.wsgi_input = Input(
                self.rfile,
                request.content_length,
                self.socket if request.expect_continue else None,
                request.chunked,
            )
        else:
            self.parser.finish_empty_body()
            self.wsgi_input = self.rfile.empty_input()
        return True

    def handle_one_request(self) -> Any:
        """Read one request and answer it. True to go on with the connection, None to
        close it."""
        # What an error answer or the access log of a bad request reads; the rest is reset
        # by handle_one_response.
        self.status = self.code = None
        self.headers_sent = False
        self.response_length = 0
        try:
            requestline = self.read_requestline()
            if not requestline or not self.read_request(requestline):
                return None
        except HTTPProtocolError as error:
            self._handle_client_error(error)
            return None
        except OSError as error:
            if error.errno not in self.ignored_socket_errors and error.errno is not None:
                self.log_error("error reading request: %s", error)
            return None
        self.environ = self.get_environ()
        self.application = self.server.application
        self.handle_one_response()
        if self.close_connection or self.socket is None:
            return None
        return True

    def _handle_client_error(self, error: HTTPProtocolError) -> None:
        """Answer a request that broke the protocol, then let the connection close."""
        self.close_connection = True
        if self.headers_sent:
            # The body broke the protocol after the response began: all we can do is close.
            self.log_error("invalid request body: %s", error.message)
            return
        self.status = f"{error.status_code} {error.reason}"
        self.log_error("invalid request: %s", error.message)
        response = format_error_response(error)
        self.response_length = len(response)
        try:
            self._sendall(response)
        except OSError:  # the client is gone already: nothing to tell it
            pass

    # -- the response ---------------------------------------------------------------------

    def _reset_response(self) -> None:
        self.status = None
        self.code = None
        self.headers_sent = False
        self.result = None
        self.response_use_chunked = False
        self.connection_upgraded = False
        self.response_length = 0
        self.provided_date = None
        self.provided_content_length = None
        self._expected_length = None
        self._body_written = 0

    def handle_one_response(self) -> None:
        self.time_start = time.time()
        self.time_finish = 0.0
        self._reset_response()
        try:
            try:
                self.run_application()
            finally:
                try:
                    close = getattr(self.result, "close", None)
                    if close is not None:
                        close()
                finally:
                    self._finish_request_body()
        except _InvalidClientInput as error:
            self._handle_client_error(HTTPProtocolError(str(error)))
        except OSError as error:
            self.close_connection = True
            if error.errno not in self.ignored_socket_errors:
                self.handle_error(*sys.exc_info())
        except Exception:
            self.handle_error(*sys.exc_info())
        finally:
            self.time_finish = time.time()
            self.log_request()

    def _finish_request_body(self) -> None:
        """Keep the stream in step after the response: read what the application left of
        the body, or close. With ``Expect: 100-continue`` and no ``100`` sent, the client
        may or may not send the body, so the bytes that follow cannot be trusted as the
        next request (gevent #2075): close."""
        wsgi_input = self.wsgi_input
        if wsgi_input is None or wsgi_input._done or self.close_connection:
            return
        if (wsgi_input._continue_socket is not None or wsgi_input._continue_refused
                or self.connection_upgraded):
            self.close_connection = True
            return
        try:
            if not wsgi_input._discard(_MAX_DISCARD):
                self.close_connection = True
        except (OSError, _SOCKET_TIMEOUT):
            self.close_connection = True

    def run_application(self) -> None:
        self.result = self.application(self.environ, self.start_response)
        self.process_result()

    # -- errors and logging ---------------------------------------------------------------

    def handle_error(self, t: Any, v: Any, tb: Any) -> None:
        """An exception escaped the application: report it (the environ is shown masked),
        answer 500 if nothing was sent yet, and close the connection."""
        self.close_connection = True
        context = WSGISecureEnviron(self.environ) if self.environ is not None else self
        try:
            get_hub().handle_error(context, t, v, tb)
        finally:
            t = v = tb = None
        if not self.headers_sent and self.socket is not None:
            self.status = "500 Internal Server Error"
            self.code = 500
            response = format_error_response(500, "Internal Server Error")
            self.response_length = len(response)
            self.headers_sent = True
            try:
                self._sendall(response)
            except OSError:  # the client left: nothing more to say
                pass

    def log_error(self, msg: str, *args: Any) -> None:
        try:
            message = msg % args if args else msg
        except (TypeError, ValueError):
            self._print_unexpected_exc()
            message = f"{msg!r} {args!r}"
        error_log = getattr(self.server, "error_log", None)
        if error_log is None:
            return
        try:
            error_log.write(f"{self.client_address!r}: {message}\n")
        except Exception:  # a broken log must not take the connection down: say so once
            self._print_unexpected_exc()

    # Compatibility (gevent's name, which its tests override to prove a path prints
    # nothing): reports an error of the error reporting itself (a bad format, a broken
    # log) on stderr.
    _print_unexpected_exc = staticmethod(traceback.print_exc)

    def log_request(self) -> None:
        log = getattr(self.server, "log", None)
        if log is not None and type(log) is not _NoopLog:  # no line to format for nobody
            log.write(self.format_request() + "\n")

    def format_request(self) -> str:
        """One access-log line, in gevent's format:
        ``client - - [date time] "request line" status length seconds``."""
        now = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime())
        length = self.response_length or "-"
        if self.time_finish:
            delta = f"{self.time_finish - self.time_start:.6f}"
        else:
            delta = "-"
        environ = self.environ or {}
        client = environ.get("HTTP_X_FORWARDED_FOR")
        if not client:
            address = self.client_address
            client = address[0] if isinstance(address, tuple) else address
        code = (self.status or "000").split(" ", 1)[0]
        return f'{client or "-"} - - [{now}] "{self.requestline or ""}" {code} {length} {delta}'

    # -- the environ ----------------------------------------------------------------------

    def get_environ(self) -> dict[str, Any]:
        """The PEP 3333 environ of the current request."""
        env = self.server.get_environ()
        target = self.path or ""
        if target[:1] != "/" and "://" in target:
            # absolute-form (RFC 9112 3.2.2): serve the path part.
            target = "/" + target.split("://", 1)[1].partition("/")[2]
        path, _, query = target.partition("?")
        env["REQUEST_METHOD"] = self.command
        env["PATH_INFO"] = unquote_to_bytes(path).decode("latin-1") if "%" in path else path
        env["QUERY_STRING"] = query
        env["SERVER_PROTOCOL"] = self.request_version
        address = self.client_address
        if isinstance(address, tuple):
            env["REMOTE_ADDR"] = str(address[0])
            env["REMOTE_PORT"] = str(address[1])
        else:
            env["REMOTE_ADDR"] = str(address or "")
        request = self._request
        keys = environ_keys
        for name, value in request.headers:
            key = keys.get(name, UNKNOWN)
            if key is UNKNOWN:
                key = environ_key(name)
            if key is None:
                continue
            if key in env and key.startswith("HTTP_"):
                # Repeated fields join with a comma, cookies with "; " (RFC 6265 5.4).
                env[key] += "; " + value if key in _COOKIE_KEYS else "," + value
            else:
                env[key] = value
        content_length = request.content_length
        if content_length is not None:
            env["CONTENT_LENGTH"] = str(content_length)
        env["wsgi.input"] = self.wsgi_input
        # An upgrade request's stream goes on past the (empty) body: the application must
        # not read wsgi.input to EOF expecting it to end (gevent says False here too).
        env["wsgi.input_terminated"] = not ("HTTP_UPGRADE" in env or (
            "HTTP_CONNECTION" in env and "upgrade" in env["HTTP_CONNECTION"].lower()))
        return env


class WSGIServer(StreamServer):
    """Serve a WSGI *application* on *listener*.

    *log* gets one access line per request (default ``sys.stderr``; ``None`` for none; a
    :class:`logging.Logger` is adapted), *error_log* gets client and protocol errors.
    *environ* is merged into every request's environ. *handler_class* (default
    :class:`WSGIHandler`) serves each connection. SSL arguments are as for
    :class:`~gevent.server.StreamServer`.

    Slow clients cannot pin the server (each a class attribute, or a keyword argument):
    ``keepalive_timeout`` is how long a keep-alive connection may sit idle between requests;
    a request head, once begun, must be complete within ``header_timeout`` seconds, extended
    by one second per ``header_min_rate`` bytes received, up to ``header_timeout_max`` in
    all (by default 20 s, 500 bytes/s, 40 s, like Apache's ``header=20-40,MinRate=500``).
    None disables a timeout, the cap or the extension.
    """

    handler_class: Any = WSGIHandler
    log: Any = None
    error_log: Any = None
    environ_class: Any = dict
    secure_environ_class: Any = WSGISecureEnviron
    base_env = {
        "GATEWAY_INTERFACE": "CGI/1.1",
        "SERVER_SOFTWARE": "gevent/{} Python/{}.{}".format(_gevent_version, *sys.version_info[:2]),
        "SCRIPT_NAME": "",
        "wsgi.version": (1, 0),
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
        "wsgi.file_wrapper": FileWrapper,
    }
    keepalive_timeout: float | None = 60.0
    header_timeout: float | None = 20.0
    header_min_rate: float | None = 500
    header_timeout_max: float | None = 40.0

    def __init__(self, listener: Any, application: Any = None, backlog: int | None = None,
                 spawn: Any = "default", log: Any = "default", error_log: Any = "default",
                 handler_class: Any = None, environ: Any = None, *,
                 keepalive_timeout: Any = _CLASS_DEFAULT, header_timeout: Any = _CLASS_DEFAULT,
                 header_min_rate: Any = _CLASS_DEFAULT, header_timeout_max: Any = _CLASS_DEFAULT,
                 **ssl_args: Any) -> None:
        self._connections: set[Any] = set()
        self._stopping = False
        for name, value in (("keepalive_timeout", keepalive_timeout),
                            ("header_timeout", header_timeout),
                            ("header_min_rate", header_min_rate),
                            ("header_timeout_max", header_timeout_max)):
            if value is not _CLASS_DEFAULT:
                setattr(self, name, value)
        StreamServer.__init__(self, listener, backlog=backlog, spawn=spawn, **ssl_args)
        if application is not None:
            self.application = application
        if handler_class is not None:
            self.handler_class = handler_class
        self.log = _default_log(log)
        self.error_log = _default_log(error_log, logging.ERROR)
        self.set_environ(environ)
        self.set_max_accept()

    def set_environ(self, environ: Any = None) -> None:
        if environ is not None:
            self.environ = environ
        environ_update = getattr(self, "environ", None)
        self.environ = self.environ_class(self.base_env)
        if self.ssl_enabled:
            self.environ["wsgi.url_scheme"] = "https"
        else:
            self.environ["wsgi.url_scheme"] = "http"
        if environ_update is not None:
            self.environ.update(environ_update)
        if self.environ.get("wsgi.errors") is None:
            self.environ["wsgi.errors"] = sys.stderr

    def set_max_accept(self) -> None:
        if self.environ.get("wsgi.multiprocess"):
            self.max_accept = 1

    def get_environ(self) -> dict[str, Any]:
        return self.environ_class(self.environ)

    def init_socket(self) -> None:
        StreamServer.init_socket(self)
        self.update_environ()

    def update_environ(self) -> None:
        """Fill SERVER_NAME and SERVER_PORT from the bound address."""
        address = self.address
        if isinstance(address, tuple):
            if "SERVER_NAME" not in self.environ:
                # The bound address, or the host name for a wildcard bind. No reverse DNS
                # lookup (gevent calls getfqdn): it can stall start-up for seconds, and
                # applications use SERVER_NAME only when a request has no Host.
                host = address[0]
                if host in ("", "0.0.0.0", "::"):
                    host = _stdlib_socket.gethostname()
                self.environ["SERVER_NAME"] = host
            self.environ.setdefault("SERVER_PORT", str(address[1]))
        else:
            self.environ.setdefault("SERVER_NAME", "")
            self.environ.setdefault("SERVER_PORT", "")

    def start(self) -> None:
        self._stopping = False
        StreamServer.start(self)

    def close(self) -> None:
        """Stop accepting; idle keep-alive connections are closed too, busy ones close
        after their current response."""
        self._stopping = True
        try:
            StreamServer.close(self)
        finally:
            self._close_idle_connections()

    def _close_idle_connections(self) -> None:
        for handler in list(getattr(self, "_connections", ())):
            handler._close_if_idle()

    def handle(self, sock: Any, address: Any) -> None:
        """Serve one connection with :attr:`handler_class`."""
        try:
            sock.setsockopt(_stdlib_socket.IPPROTO_TCP, _stdlib_socket.TCP_NODELAY, 1)
        except (OSError, AttributeError):  # not TCP (a unix socket): nothing to tune
            pass
        handler = self.handler_class(sock, address, self)
        handler.handle()


# Compatibility: names that gevent's users and tests reach.
# ``pywsgi._NoopLog`` (imported above) is the log of a server made with ``log=None``
# (gevent's tests pass one as ``log=``); ``WSGIHandler._print_unexpected_exc`` is in the
# class, beside log_error.

if __name__ == "__main__":
    from gevent._pywsgi_cli import main

    sys.exit(main())
