"""Cooperative TLS: the standard library's ``ssl`` API over :mod:`gevent.socket`.

:class:`SSLSocket` is the standard library's own :class:`ssl.SSLSocket` placed on top of a
cooperative :class:`gevent.socket.socket`: the OS socket stays non-blocking, so OpenSSL reports
want-read/want-write and the greenlet waits on the hub for readiness (honouring the socket's
timeout) before retrying. Everything else (certificates, ``getpeercert``, ``unwrap``, SNI
callbacks, sessions) is the standard library's code, unchanged.

:class:`SSLContext` is a subclass of :class:`ssl.SSLContext` whose ``wrap_socket`` makes these
sockets. Monkey patching never replaces ``ssl.SSLContext`` itself (its property setters name the
module global, which is what made gevent recurse): it points the standard class's
``sslsocket_class`` at ours, so contexts created before patching work too and ``isinstance``
checks against ``ssl.SSLContext`` and ``ssl.SSLSocket`` hold for every socket and context.
"""

from __future__ import annotations

import ssl as __ssl__
import types

from . import socket as _gsocket
from ._socket_wait import _NONE
from .socket import create_connection

_StdSSLSocket = __ssl__.SSLSocket
_StdSSLContext = __ssl__.SSLContext
_SSLWantReadError = __ssl__.SSLWantReadError
_SSLWantWriteError = __ssl__.SSLWantWriteError
_std_read = _StdSSLSocket.read
_std_write = _StdSSLSocket.write
_std_send = _StdSSLSocket.send
_std_do_handshake = _StdSSLSocket.do_handshake
_std_unwrap = _StdSSLSocket.unwrap

#: Names replaced in the standard library's ``ssl`` when patched. ``SSLContext`` and
#: ``SSLSocket`` are deliberately absent: see :func:`_gevent_did_monkey_patch`.
__implements__ = ["get_server_certificate"]
if hasattr(__ssl__, "wrap_socket"):
    __implements__.append("wrap_socket")

__extensions__ = [] if "wrap_socket" in __implements__ else ["wrap_socket"]

_OWN = {
    "SSLContext",
    "SSLSocket",
    "create_default_context",
    "_create_unverified_context",
    "_create_default_https_context",
    "_create_stdlib_context",
    "socket",
    "create_connection",
}

#: The names copied unchanged from the standard library's ``ssl``.
__imports__ = [
    name
    for name in dir(__ssl__)
    if not name.startswith("__")
    and name not in _OWN
    and name not in __implements__
    and not isinstance(getattr(__ssl__, name), types.ModuleType)
]
for _name in __imports__:
    globals()[_name] = getattr(__ssl__, _name)
del _name

__all__ = sorted(
    {n for n in __imports__ if not n.startswith("_")}
    | set(__implements__)
    | set(__extensions__)
    | {"SSLContext", "SSLSocket", "create_default_context"}
)

socket = _gsocket.socket


class SSLSocket(_StdSSLSocket, _gsocket.socket):
    """A TLS socket whose blocking calls are switch points.

    Instances come from :meth:`SSLContext.wrap_socket`. The handshake, reads, writes and
    ``unwrap()`` wait for the hub on want-read/want-write and raise ``socket.timeout`` when the
    socket's timeout expires; with a timeout of 0 they raise ``SSLWantReadError`` /
    ``SSLWantWriteError`` like the standard library's non-blocking sockets.
    """

    def _wait_for(self, error, timeout=_NONE) -> None:
        if isinstance(error, _SSLWantReadError):
            self._wait_read(timeout)
        else:
            self._wait_write(timeout)

    def read(self, len=1024, buffer=None):  # noqa: A002 - the standard library's name
        """Read up to *len* decrypted bytes (into *buffer* if given). A switch point."""
        while True:
            try:
                return _std_read(self, len, buffer)
            except (_SSLWantReadError, _SSLWantWriteError) as ex:
                if self._timeout == 0.0:
                    raise
                self._wait_for(ex)

    def write(self, data) -> int:
        """Encrypt and send *data*; returns the number of bytes written. A switch point."""
        while True:
            try:
                return _std_write(self, data)
            except (_SSLWantReadError, _SSLWantWriteError) as ex:
                if self._timeout == 0.0:
                    raise
                self._wait_for(ex)

    def send(self, data, flags: int = 0, *, timeout=_NONE) -> int:  # type: ignore[override]
        """Send some of *data*; *timeout* (as gevent's) overrides the socket's for this call.
        A switch point."""
        while True:
            try:
                return _std_send(self, data, flags)
            except (_SSLWantReadError, _SSLWantWriteError) as ex:
                if (self._timeout if timeout is _NONE else timeout) == 0.0:
                    raise
                self._wait_for(ex, timeout)

    def do_handshake(self, block: bool = False) -> None:
        """Perform the TLS handshake. A switch point, bounded by the socket's timeout."""
        while True:
            try:
                return _std_do_handshake(self, block)
            except (_SSLWantReadError, _SSLWantWriteError) as ex:
                if self._timeout == 0.0 and not block:
                    raise
                self._wait_for(ex)

    def unwrap(self):
        """Shut TLS down and return the plain socket underneath. A switch point."""
        while True:
            try:
                return _std_unwrap(self)
            except (_SSLWantReadError, _SSLWantWriteError) as ex:
                if self._timeout == 0.0:
                    raise
                self._wait_for(ex)


class SSLContext(_StdSSLContext):
    """:class:`ssl.SSLContext` whose ``wrap_socket`` returns cooperative :class:`SSLSocket`."""

    sslsocket_class = SSLSocket


def _adopt(context: _StdSSLContext) -> SSLContext:
    # The standard library's factories build the context exactly as the running Python wants
    # (defaults change between versions); we only change which class it is.
    if type(context) is _StdSSLContext:
        context.__class__ = SSLContext
    return context  # type: ignore[return-value]  # its class was changed just above


def create_default_context(purpose=__ssl__.Purpose.SERVER_AUTH, *, cafile=None, capath=None,
                           cadata=None) -> SSLContext:
    """Like :func:`ssl.create_default_context`, returning a cooperative :class:`SSLContext`."""
    return _adopt(__ssl__.create_default_context(purpose, cafile=cafile, capath=capath,
                                                 cadata=cadata))


def _create_unverified_context(*args, **kwargs) -> SSLContext:
    """Like :func:`ssl._create_unverified_context` (no verification; locust uses it)."""
    return _adopt(__ssl__._create_unverified_context(*args, **kwargs))


def _create_stdlib_context(*args, **kwargs) -> SSLContext:
    return _adopt(__ssl__._create_unverified_context(*args, **kwargs))


_create_default_https_context = create_default_context


def wrap_socket(sock, keyfile=None, certfile=None, server_side=False,
                cert_reqs=__ssl__.CERT_NONE, ssl_version=__ssl__.PROTOCOL_TLS, ca_certs=None,
                do_handshake_on_connect=True, suppress_ragged_eofs=True, ciphers=None):
    """Wrap *sock* in TLS with a one-off context (the old module-level API). A switch point
    when it performs the handshake."""
    if server_side and not certfile:
        raise ValueError("certfile must be specified for server-side operations")
    if keyfile and not certfile:
        raise ValueError("certfile must be specified")
    context = SSLContext(ssl_version)
    context.verify_mode = cert_reqs
    if ca_certs:
        context.load_verify_locations(ca_certs)
    if certfile:
        context.load_cert_chain(certfile, keyfile)
    if ciphers:
        context.set_ciphers(ciphers)
    return context.wrap_socket(sock=sock, server_side=server_side,
                               do_handshake_on_connect=do_handshake_on_connect,
                               suppress_ragged_eofs=suppress_ragged_eofs)


def get_server_certificate(addr, ssl_version=__ssl__.PROTOCOL_TLS_CLIENT, ca_certs=None,
                           timeout=_gsocket._GLOBAL_DEFAULT_TIMEOUT) -> str:
    """The PEM certificate of the TLS server at ``(host, port)``, verified against *ca_certs*
    if given. A switch point."""
    host, _port = addr
    cert_reqs = __ssl__.CERT_REQUIRED if ca_certs is not None else __ssl__.CERT_NONE
    context = _create_stdlib_context(ssl_version, cert_reqs=cert_reqs, cafile=ca_certs)
    with create_connection(addr, timeout=timeout) as sock:
        with context.wrap_socket(sock, server_hostname=host) as tls:
            der = tls.getpeercert(True)
    # After a completed handshake a TLS server has always sent its certificate (not None).
    return __ssl__.DER_cert_to_PEM_cert(der)  # type: ignore[arg-type]


_GeventSSLContext = SSLContext


def _gevent_did_monkey_patch(target_module, *args, **kwargs) -> None:
    """Called by ``gevent.monkey`` after patching ``ssl``: make every context, including those
    created before patching, wrap sockets cooperatively.

    From then on the standard class behaves exactly as ours, so it *becomes* ours:
    ``ssl.SSLContext is gevent.ssl.SSLContext`` holds (as it does for socket.socket), every
    context made before or after patching is an instance of it, and nothing is ever subclassed
    under the module global the standard library's property setters name.
    """
    target_module.SSLContext.sslsocket_class = SSLSocket
    globals()["SSLContext"] = target_module.SSLContext


def _gevent_undo_monkey_patch(target_module) -> None:
    target_module.SSLContext.sslsocket_class = _StdSSLSocket
    globals()["SSLContext"] = _GeventSSLContext
