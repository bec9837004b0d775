"""TCP and UDP servers: :class:`StreamServer` and :class:`DatagramServer`.

A :class:`StreamServer` calls ``handle(socket, address)`` in a new greenlet for every accepted
connection; with SSL arguments the socket is wrapped (and the handshake done) inside that
greenlet, so a client that fails its handshake is logged and dropped without touching the
accept loop. A :class:`DatagramServer` calls ``handle(data, address)`` for every datagram and
replies with :meth:`DatagramServer.sendto`.
"""

from __future__ import annotations

import os
import socket as _stdlib_socket
import ssl as _stdlib_ssl
import sys
from collections.abc import Callable
from typing import Any

from gevent import socket as _gsocket
from gevent.baseserver import BaseServer

__all__ = ["DatagramServer", "StreamServer"]

_DEFAULT_BACKLOG = 128
_DATAGRAM_SIZE = 65536


def _as_green_socket(sock: Any) -> Any:
    """Serve a stdlib (blocking) socket through a green duplicate of its descriptor; the
    caller keeps ownership of the object it passed."""
    if isinstance(sock, _gsocket.socket):
        return sock
    return _gsocket.socket(sock.family, sock.type, sock.proto, fileno=os.dup(sock.fileno()))


def _bind_error(error: OSError, address: Any) -> OSError:
    if error.strerror:
        error.strerror = f"{error.strerror}: {address!r}"
    return error


def _tcp_listener(address: Any, backlog: int = 50, reuse_addr: Any = None,
                  family: int = _stdlib_socket.AF_INET) -> Any:
    sock = _gsocket.socket(family, _stdlib_socket.SOCK_STREAM)
    try:
        if reuse_addr is not None:
            sock.setsockopt(_stdlib_socket.SOL_SOCKET, _stdlib_socket.SO_REUSEADDR, reuse_addr)
        try:
            sock.bind(address)
        except OSError as error:
            raise _bind_error(error, address) from None
        sock.listen(backlog)
    except BaseException:
        sock.close()
        raise
    return sock


def _udp_socket(address: Any, reuse_addr: Any = None, family: int = _stdlib_socket.AF_INET) -> Any:
    sock = _gsocket.socket(family, _stdlib_socket.SOCK_DGRAM)
    try:
        if reuse_addr is not None:
            sock.setsockopt(_stdlib_socket.SOL_SOCKET, _stdlib_socket.SO_REUSEADDR, reuse_addr)
        try:
            sock.bind(address)
        except OSError as error:
            raise _bind_error(error, address) from None
    except BaseException:
        sock.close()
        raise
    return sock


_WRAP_ARGS = ("do_handshake_on_connect", "suppress_ragged_eofs")


def _server_context(ssl_args: dict[str, Any]) -> Any:
    """An SSLContext from gevent's ``wrap_socket``-style arguments (keyfile, certfile,
    ca_certs, cert_reqs, ciphers). ``ssl_version`` is ignored: the context negotiates the
    best TLS version both sides have, as the deprecated constants no longer mean anything
    else."""
    from gevent import ssl

    context = ssl.SSLContext(_stdlib_ssl.PROTOCOL_TLS_SERVER)
    certfile = ssl_args.get("certfile")
    if certfile:
        context.load_cert_chain(certfile, ssl_args.get("keyfile"))
    if ssl_args.get("ca_certs"):
        context.load_verify_locations(ssl_args["ca_certs"])
    if ssl_args.get("cert_reqs") is not None:
        context.verify_mode = ssl_args["cert_reqs"]
    if ssl_args.get("ciphers"):
        context.set_ciphers(ssl_args["ciphers"])
    return context


class StreamServer(BaseServer):
    """A generic TCP server: ``StreamServer(("127.0.0.1", 0), handle).serve_forever()``.

    SSL: pass ``keyfile``/``certfile`` (and any other :func:`gevent.ssl.wrap_socket`
    argument), or ``ssl_context=`` an :class:`ssl.SSLContext`.
    """

    #: Listen backlog used when the server creates its own socket.
    backlog = _DEFAULT_BACKLOG
    #: SO_REUSEADDR for sockets the server creates (None leaves the OS default).
    reuse_addr: Any = 1

    def __init__(self, listener: Any, handle: Callable[..., Any] | None = None,
                 backlog: int | None = None, spawn: Any = "default", **ssl_args: Any) -> None:
        BaseServer.__init__(self, listener, handle=handle, spawn=spawn)
        try:
            self.ssl_args: dict[str, Any] | None
            if ssl_args:
                self.ssl_args = dict(ssl_args)
                ssl_args = dict(ssl_args)
                context = ssl_args.pop("ssl_context", None)
                if context is None:
                    context = _server_context(ssl_args)
                ssl_args.pop("server_side", None)
                self.ssl_context = context
                self._wrap_args = {key: ssl_args[key] for key in _WRAP_ARGS if key in ssl_args}
            else:
                self.ssl_args = None
            if backlog is not None:
                if self.socket is not None:
                    raise TypeError("backlog must be None when a socket instance is passed")
                self.backlog = backlog
        except BaseException:
            self.close()
            raise

    @property
    def ssl_enabled(self) -> bool:
        return self.ssl_args is not None

    def set_listener(self, listener: Any) -> None:
        BaseServer.set_listener(self, listener)
        if self.socket is not None:
            if hasattr(self.socket, "do_handshake"):
                raise TypeError("expected a plain listening socket, not an SSL socket")
            self.socket = _as_green_socket(self.socket)

    def init_socket(self) -> None:
        if self.socket is None:
            self.socket = self.get_listener(self.address, self.backlog, self.family)
            self.address = self.socket.getsockname()
        if self.ssl_args is not None:
            self._handle = self.wrap_socket_and_handle
        else:
            self._handle = self.handle

    @classmethod
    def get_listener(cls, address: Any, backlog: int | None = None,
                     family: int | None = None) -> Any:
        """A new listening green socket bound to *address*."""
        if backlog is None:
            backlog = cls.backlog
        return _tcp_listener(address, backlog=backlog, reuse_addr=cls.reuse_addr,
                             family=family if family is not None else _stdlib_socket.AF_INET)

    def do_read(self) -> Any:
        """Accept one connection (a switch point while none is pending)."""
        sock = self.socket
        if sock is None:
            return None
        try:
            client_socket, address = sock.accept()
        except BlockingIOError:
            return None
        return client_socket, address

    def do_close(self, sock: Any, *args: Any) -> None:
        sock.close()

    def wrap_socket(self, sock: Any) -> Any:
        """Wrap an accepted socket for TLS (the handshake runs here, in the handler's
        greenlet)."""
        return self.ssl_context.wrap_socket(sock, server_side=True, **self._wrap_args)

    def wrap_socket_and_handle(self, client_socket: Any, address: Any) -> Any:
        """Do the TLS handshake for *client_socket*, then call the handler. A failed
        handshake is reported and the connection dropped; the server carries on."""
        try:
            ssl_socket = self.wrap_socket(client_socket)
        except Exception as error:
            client_socket.close()
            # One line, not a traceback: scanners and plain-HTTP clients make these all day,
            # and a flood of them must not flood the logs (gevent #1671, #1295).
            stream = getattr(self, "error_log", None) or sys.stderr
            try:
                stream.write(f"TLS handshake with {address!r} failed: {error!r}\n")
            except Exception:  # a broken log must not take the server down
                pass
            return None
        return self.handle(ssl_socket, address)


class DatagramServer(BaseServer):
    """A UDP server: ``handle(data, address)`` runs for each datagram received."""

    reuse_addr: Any = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        BaseServer.__init__(self, *args, **kwargs)
        from gevent.lock import Semaphore

        self._writelock = Semaphore(1)

    def set_listener(self, listener: Any) -> None:
        BaseServer.set_listener(self, listener)
        if self.socket is not None:
            self.socket = _as_green_socket(self.socket)

    def init_socket(self) -> None:
        if self.socket is None:
            self.socket = self.get_listener(self.address, self.family)
            self.address = self.socket.getsockname()
        self._handle = self.handle

    @classmethod
    def get_listener(cls, address: Any, family: int | None = None) -> Any:
        return _udp_socket(address, reuse_addr=cls.reuse_addr,
                           family=family if family is not None else _stdlib_socket.AF_INET)

    def do_read(self) -> Any:
        """Receive one datagram (a switch point while none is pending)."""
        sock = self.socket
        if sock is None:
            return None
        try:
            data, address = sock.recvfrom(_DATAGRAM_SIZE)
        except BlockingIOError:
            return None
        return data, address

    def sendto(self, *args: Any) -> int:
        """Send a datagram from the server's socket (``sendto(data, address)``)."""
        with self._writelock:
            return self.socket.sendto(*args)
