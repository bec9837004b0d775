"""Cooperative sockets: the standard library's ``socket`` API, where blocking calls switch.

:class:`socket` is a subclass of the standard library's :class:`socket.socket` whose OS socket
is always non-blocking. Each call tries the system call first and parks the greenlet on the
hub only when the kernel says EAGAIN, so the fast path costs nothing. ``settimeout()`` is
emulated with a timer (``gettimeout()`` returns what was set) and raises ``socket.timeout``
(``TimeoutError``) on expiry. Closing a socket wakes the greenlets waiting on it with an
:class:`OSError` (EBADF).

Every other name of the standard library's ``socket`` module is re-exported unchanged; the DNS
functions go through ``get_hub().resolver`` (numeric hosts and ports never reach it).
"""

from __future__ import annotations

import _socket
import io as _io
import os as _os
import socket as __socket__
import sys as _sys
import typing as _typing
from errno import EAGAIN, EALREADY, EINPROGRESS, EISCONN, EWOULDBLOCK
from operator import index as _operator_index
from time import monotonic as _monotonic
from typing import Any as _Any

from ._socket_dns import (  # noqa: F401 - re-exported: see __all__
    _resolve_address,
    getaddrinfo,
    getfqdn,
    gethostbyaddr,
    gethostbyname,
    gethostbyname_ex,
    getnameinfo,
)
from ._socket_wait import (  # noqa: F401 - re-exported: see __all__
    _NONE,
    _slot_wait,
    _wait_on_watcher,
    cancel_wait,
    cancel_wait_ex,
    wait,
    wait_read,
    wait_readwrite,
    wait_write,
)
from ._socket_wait import cancel_slots as _cancel_slots
from ._socket_wait import forget_closing_fd as _forget_closing_fd
from .hub import _get_hub_noargs as _get_hub
from .hub import _threadlocal
from .hub import get_hub_if_exists as _get_hub_if_exists

#: The names this module replaces in the standard library's ``socket`` when patched.
__implements__ = [
    "socket",
    "socketpair",
    "fromfd",
    "create_connection",
    "create_server",
    "getaddrinfo",
    "gethostbyname",
    "gethostbyname_ex",
    "gethostbyaddr",
    "getnameinfo",
    "getfqdn",
]
if hasattr(_socket, "close"):
    __implements__.append("close")

#: gevent's own additions.
__extensions__ = [
    "wait",
    "wait_read",
    "wait_write",
    "wait_readwrite",
    "cancel_wait",
    "cancel_wait_ex",
]

_EXTRA_IMPORTS = [
    "_GLOBAL_DEFAULT_TIMEOUT",
    "SocketIO",
    "EBADF",
    "EAGAIN",
    "EWOULDBLOCK",
    "AddressInfo",
    "MsgFlag",
    "errorTab",
]

#: The names copied unchanged from the standard library's ``socket``.
__imports__ = [
    name
    for name in list(__socket__.__all__) + _EXTRA_IMPORTS
    if hasattr(__socket__, name) and name not in __implements__ and name != "SocketType"
]
__imports__ = list(dict.fromkeys(__imports__))

for _name in __imports__:
    globals()[_name] = getattr(__socket__, _name)
del _name

__all__ = __implements__ + __extensions__ + [n for n in __imports__ if not n.startswith("_")]
__all__.append("SocketType")

_c_socket = _socket.socket
_StdSocket = __socket__.socket
_GLOBAL_DEFAULT_TIMEOUT = __socket__._GLOBAL_DEFAULT_TIMEOUT  # type: ignore[attr-defined]
_GiveupOnSendfile = __socket__._GiveupOnSendfile  # type: ignore[attr-defined]
_c_recv = _c_socket.recv
_c_recv_into = _c_socket.recv_into
_c_send = _c_socket.send
_c_recvfrom = _c_socket.recvfrom
_c_recvfrom_into = _c_socket.recvfrom_into
_c_sendto = _c_socket.sendto
_c_fileno = _c_socket.fileno
_c_family = _c_socket.family.__get__  # type: ignore[attr-defined]
_c_type = _c_socket.type.__get__  # type: ignore[attr-defined]
_c_proto = _c_socket.proto.__get__  # type: ignore[attr-defined]
_getdefaulttimeout = __socket__.getdefaulttimeout
_MSG_DONTWAIT = getattr(__socket__, "MSG_DONTWAIT", 0)
error = OSError
timeout = TimeoutError


def _dontwait(args: tuple, index: int) -> bool:
    """True if the flags argument at *index* asks for MSG_DONTWAIT (never wait then)."""
    return len(args) > index and bool(args[index] & _MSG_DONTWAIT)


def _check_timeout(value):
    if value is None:
        return None
    if not isinstance(value, float):
        # Like the standard library: an int-like is accepted, anything else is a TypeError.
        value = float(_operator_index(value))
    if value != value:
        raise ValueError("Invalid value NaN (not a number)")
    if value < 0.0:
        raise ValueError("Timeout value out of range")
    return value



def _retrying(name: str, c_method, wait_method: str, flags_at, flags_only_with: int = 0):
    """A method calling *c_method* and, on EAGAIN, waiting (``self.<wait_method>()``) and retrying,
    unless the socket is non-blocking or the call passed MSG_DONTWAIT."""

    def method(self, *args, **kwargs):
        while True:
            try:
                return c_method(self, *args, **kwargs)
            except BlockingIOError:
                if self._timeout == 0.0:
                    raise
                if flags_at is not None and (not flags_only_with or len(args) == flags_only_with) \
                        and _dontwait(args, flags_at):
                    raise
                getattr(self, wait_method)()

    method.__name__ = method.__qualname__ = name
    method.__doc__ = getattr(c_method, "__doc__", None)
    return method

class socket(_StdSocket):
    """A cooperative socket, API-compatible with :class:`socket.socket`.

    Blocking methods are switch points: they wait for readiness on the hub and honour the
    timeout set with :meth:`settimeout` by raising ``socket.timeout``.
    """

    __slots__ = ("_timeout", "_read_watcher", "_write_watcher", "_hub", "_ref")

    def __init__(self, family=-1, type=-1, proto=-1, fileno=None) -> None:
        _StdSocket.__init__(self, family, type, proto, fileno)
        # What the standard library decided: the default timeout, or 0.0 for SOCK_NONBLOCK.
        self._timeout = _c_socket.gettimeout(self)
        self._read_watcher = None
        self._write_watcher = None
        self._hub: _Any = None  # the hub this socket last waited on
        self._ref = True
        _c_socket.setblocking(self, False)

    @property
    def ref(self) -> bool:
        """Whether a greenlet waiting on this socket keeps the hub's loop running (True by
        default). With False, a program whose only work left is that wait ends its loop."""
        return self._ref

    @ref.setter
    def ref(self, value: bool) -> None:
        self._ref = value = bool(value)
        for watcher in (self._read_watcher, self._write_watcher):
            if watcher is not None:
                watcher.ref = value

    # -- timeouts --------------------------------------------------------------------------

    @property
    def timeout(self) -> float | None:
        """The timeout set by the user (``None`` means blocking)."""
        return self._timeout

    def gettimeout(self) -> float | None:
        return self._timeout

    def settimeout(self, value: float | None) -> None:
        self._timeout = _check_timeout(value)

    def setblocking(self, flag: bool) -> None:
        # The OS socket stays non-blocking; the call still reports an invalid fd, as the
        # standard library's does.
        _c_socket.setblocking(self, False)
        self._timeout = None if flag else 0.0

    def getblocking(self) -> bool:
        return self._timeout != 0.0

    # -- waiting ---------------------------------------------------------------------------

    def _watchers(self, hub):
        loop = hub.loop
        fd = _c_fileno(self)
        if fd < 0:
            raise cancel_wait_ex()
        self._read_watcher = loop.io(fd, 1, self._ref)
        self._write_watcher = loop.io(fd, 2, self._ref)
        self._hub = hub

    # The waits park the greenlet in the loop's per-fd slot (no watcher objects: see
    # _slot_wait). self._hub: the hub this socket last waited on.

    def _wait_read(self, timeout=_NONE) -> None:
        hub = _threadlocal.hub
        if hub is None:
            hub = _get_hub()
        fd = _c_fileno(self)
        if fd < 0:
            raise cancel_wait_ex()
        first = hub is not self._hub
        if first:
            self._hub = hub
        _slot_wait(hub, fd, 1, self._timeout if timeout is _NONE else timeout, self._ref, first)

    def _wait_write(self, timeout=_NONE) -> None:
        hub = _threadlocal.hub
        if hub is None:
            hub = _get_hub()
        fd = _c_fileno(self)
        if fd < 0:
            raise cancel_wait_ex()
        first = hub is not self._hub
        if first:
            self._hub = hub
        _slot_wait(hub, fd, 2, self._timeout if timeout is _NONE else timeout, self._ref, first)

    def _drop_watchers(self, fd: int, closing: bool = True) -> None:
        """Wake whoever waits on this socket with :class:`cancel_wait_ex` (from any thread);
        when *closing*, make the loops forget *fd*."""
        hub = self._hub
        self._hub = None
        own = (self._read_watcher, self._write_watcher)
        if own[0] is not None:
            for watcher in own:
                if watcher.callback is not None and hub is not None and hub.loop is not None:
                    hub.loop.run_callback_threadsafe(hub._cancel_wait, watcher,
                                                     cancel_wait_ex(), False)
            self._read_watcher = self._write_watcher = None
        if fd < 0:
            return
        current = _threadlocal.hub
        for owner in (hub, current) if current is not hub else (hub,):
            if owner is not None and owner.loop is not None:
                if closing:
                    # Others watching the fd (select, poll) are woken to see it closed.
                    _forget_closing_fd(owner.loop, fd, own, True)
                else:
                    _cancel_slots(owner.loop, fd)

    # -- the blocking calls ----------------------------------------------------------------

    def recv(self, *args: _Any) -> bytes:
        while True:
            try:
                return _c_recv(self, *args)
            except BlockingIOError:
                if self._timeout == 0.0 or (len(args) > 1 and args[1] & _MSG_DONTWAIT):
                    raise
                self._wait_read()

    def recv_into(self, *args: _Any) -> int:
        while True:
            try:
                return _c_recv_into(self, *args)
            except BlockingIOError:
                if self._timeout == 0.0 or (len(args) > 2 and args[2] & _MSG_DONTWAIT):
                    raise
                self._wait_read()

    def send(self, *args: _Any, timeout=_NONE) -> int:
        """Send some of ``data``; ``send(data, flags=0, *, timeout)``. A switch point while
        there is no room. *timeout* (as gevent's) overrides the socket's for this call."""
        while True:
            try:
                return _c_send(self, *args)
            except BlockingIOError:
                if timeout is _NONE:
                    if self._timeout == 0.0 or _dontwait(args, 1):
                        raise
                elif timeout == 0.0 or _dontwait(args, 1):
                    raise
                self._wait_write(timeout)

    # The colder calls share one retry loop (recv, recv_into and send above stay spelled out:
    # they are the hot path). flags_at: where the flags argument sits, for MSG_DONTWAIT.
    recvfrom = _retrying("recvfrom", _c_recvfrom, "_wait_read", 1)
    recvfrom_into = _retrying("recvfrom_into", _c_recvfrom_into, "_wait_read", 2)
    if hasattr(_c_socket, "recvmsg"):
        recvmsg = _retrying("recvmsg", _c_socket.recvmsg, "_wait_read", 2)
        recvmsg_into = _retrying("recvmsg_into", _c_socket.recvmsg_into, "_wait_read", 2)
    # sendto(data, address) has no flags; sendto(data, flags, address) has them at 1.
    sendto = _retrying("sendto", _c_sendto, "_wait_write", 1, flags_only_with=3)
    if hasattr(_c_socket, "sendmsg"):
        sendmsg = _retrying("sendmsg", _c_socket.sendmsg, "_wait_write", 2)
    if hasattr(_c_socket, "sendmsg_afalg"):
        sendmsg_afalg = _retrying("sendmsg_afalg", _c_socket.sendmsg_afalg, "_wait_write", None)

    def sendall(self, data, flags: int = 0) -> None:
        """Send all of *data*. A switch point; the timeout bounds the whole call."""
        timeout = self._timeout
        if timeout == 0.0:
            return _c_socket.sendall(self, data, flags)
        try:
            sent = _c_send(self, data, flags)
        except BlockingIOError:
            sent = 0
        else:
            if type(data) is bytes and sent == len(data):
                return None  # the common case: all sent at once, no memoryview needed
        with memoryview(data) as view:
            total = view.nbytes
            if sent >= total:
                return None
            if view.ndim != 1 or view.itemsize != 1:
                view = view.cast("B")
            deadline = None if timeout is None else _monotonic() + timeout
            while sent < total:
                if deadline is None:
                    self._wait_write()
                else:
                    remaining = deadline - _monotonic()
                    if remaining <= 0.0:
                        raise TimeoutError("timed out")
                    self._wait_write(remaining)
                try:
                    sent += _c_send(self, view[sent:], flags)
                except BlockingIOError:
                    pass
        return None

    def _resolved(self, address, caller: str = "connect"):
        # Host names are resolved through the hub's resolver (the kernel call would block in
        # libc); resolution errors propagate from connect_ex() too, as in the standard library.
        if isinstance(address, tuple) and len(address) >= 2 and self.family in (
            __socket__.AF_INET,
            __socket__.AF_INET6,
        ):
            return _resolve_address(self, address, caller)
        return address

    def connect(self, address) -> None:
        """Connect to *address*. A switch point; host names go through the hub's resolver."""
        address = self._resolved(address)
        if self._timeout == 0.0:
            return _c_socket.connect(self, address)
        err = self._connect(address)
        if err:
            raise OSError(err, _os.strerror(err))
        return None

    def connect_ex(self, address) -> int:
        """Like :meth:`connect`, but return an errno instead of raising ``OSError``."""
        address = self._resolved(address, "connect_ex")
        if self._timeout == 0.0:
            return _c_socket.connect_ex(self, address)
        try:
            return self._connect(address)
        except TimeoutError:
            return EAGAIN

    def _connect(self, address) -> int:
        """Connect to a resolved *address*, waiting cooperatively; return an errno."""
        timeout = self._timeout
        deadline = None if timeout is None else _monotonic() + timeout
        while True:
            err = _c_socket.connect_ex(self, address)
            if err == 0 or err == EISCONN:
                return 0
            if err not in (EINPROGRESS, EAGAIN, EWOULDBLOCK, EALREADY):
                return err
            if deadline is None:
                self._wait_write()
            else:
                remaining = deadline - _monotonic()
                if remaining <= 0.0:
                    raise TimeoutError("timed out")
                self._wait_write(remaining)
            if err == EAGAIN:
                # A full AF_UNIX listen backlog: writable means "try again".
                continue
            return _c_socket.getsockopt(self, __socket__.SOL_SOCKET, __socket__.SO_ERROR)

    def _accept(self):
        while True:
            try:
                return _c_socket._accept(self)
            except BlockingIOError:
                if self._timeout == 0.0:
                    raise
                self._wait_read()

    # A gevent socket, typed as the standard one it is so ssl.SSLSocket.accept stays compatible.
    def accept(self) -> tuple[_StdSocket, _Any]:
        """Accept a connection: ``(socket, address)``. A switch point."""
        fd, address = self._accept()
        # The C getters: the properties' enum conversions cost more than the rest.
        sock = socket(_c_family(self), _c_type(self), _c_proto(self), fd)
        if _getdefaulttimeout() is None and self._timeout:
            sock._timeout = None
        return sock, address

    # -- sendfile --------------------------------------------------------------------------

    def _sendfile_use_sendfile(self, file, offset=0, count=None):
        self._check_sendfile_params(file, offset, count)
        try:
            in_fd = file.fileno()
        except (AttributeError, _io.UnsupportedOperation) as ex:
            raise _GiveupOnSendfile(ex)
        try:
            size = _os.fstat(in_fd).st_size
        except OSError as ex:
            raise _GiveupOnSendfile(ex)
        if not size:
            return 0
        if self._timeout == 0.0:
            raise ValueError("non-blocking sockets are not supported")
        blocksize = min(count or size, 0x40000000)
        total = 0
        try:
            while True:
                if count:
                    blocksize = min(count - total, blocksize)
                    if blocksize <= 0:
                        break
                try:
                    sent = _os.sendfile(self.fileno(), in_fd, offset, blocksize)
                except BlockingIOError:
                    self._wait_write()
                    continue
                except OSError as ex:
                    if total == 0:
                        # Not a file sendfile(2) can use: fall back to send().
                        raise _GiveupOnSendfile(ex)
                    raise ex from None
                if sent == 0:
                    break
                offset += sent
                total += sent
            return total
        finally:
            if total > 0 and hasattr(file, "seek"):
                file.seek(offset)

    def _sendfile_use_send(self, file, offset=0, count=None):
        self._check_sendfile_params(file, offset, count)
        if self._timeout == 0.0:
            raise ValueError("non-blocking sockets are not supported")
        if offset:
            file.seek(offset)
        blocksize = min(count, 8192) if count else 8192
        total = 0
        try:
            while True:
                if count:
                    blocksize = min(count - total, blocksize)
                    if blocksize <= 0:
                        break
                data = memoryview(file.read(blocksize))
                if not data:
                    break
                self.sendall(data)
                total += len(data)
            return total
        finally:
            if total > 0 and hasattr(file, "seek"):
                file.seek(offset + total)

    # -- closing ---------------------------------------------------------------------------

    def _real_close(self, _ss=_c_socket) -> None:
        fd = _c_fileno(self)
        if self._hub is not None:
            self._drop_watchers(fd)
        elif fd >= 0:
            # Never waited here: only others (select, poll, a loop.io) may know the number.
            current = _threadlocal.hub
            if current is not None:
                loop = current.loop
                if loop is not None and fd in loop._fds:
                    _forget_closing_fd(loop, fd, (), True)
        _ss.close(self)

    def detach(self) -> int:
        if self._hub is not None:
            self._drop_watchers(_c_fileno(self), False)
        return _StdSocket.detach(self)

    def __repr__(self) -> str:
        return _StdSocket.__repr__(self)

    # Compatibility: names that gevent's users and tests reach. gevent's sockets make their
    # two watchers at once; ours are made on the first wait, or here.

    @property
    def _read_event(self):
        if self._read_watcher is None:
            self._watchers(_get_hub())
        return self._read_watcher

    @property
    def _write_event(self):
        if self._write_watcher is None:
            self._watchers(_get_hub())
        return self._write_watcher


# As in gevent: our class. It is not patched into the standard module, whose SocketType (the
# C type) our sockets are instances of anyway.
SocketType = socket


def socketpair(family=None, type=__socket__.SOCK_STREAM, proto=0):
    """A connected pair of cooperative sockets (AF_UNIX where available)."""
    if family is None:
        family = getattr(__socket__, "AF_UNIX", __socket__.AF_INET)
    a, b = _socket.socketpair(family, type, proto)
    first = socket(family, type, proto, a.detach())
    second = socket(family, type, proto, b.detach())
    return first, second


def fromfd(fd, family, type, proto: int = 0) -> socket:
    """A cooperative socket on a duplicate of the file descriptor *fd*."""
    return socket(family, type, proto, _os.dup(fd))


def create_connection(address, timeout=_GLOBAL_DEFAULT_TIMEOUT, source_address=None, *,
                      all_errors: bool = False) -> socket:
    """Connect to ``(host, port)``, trying every address the host resolves to. A switch point.

    *timeout* applies to each connection attempt; *source_address* is bound first. With
    *all_errors* (Python 3.11+), an ``ExceptionGroup`` of every failure is raised.
    """
    host, port = address
    errors: list[OSError] = []
    for family, type_, proto, _canonname, sockaddr in getaddrinfo(
        host, port, 0, __socket__.SOCK_STREAM
    ):
        sock = None
        try:
            sock = socket(family, type_, proto)
            if timeout is not _GLOBAL_DEFAULT_TIMEOUT:
                sock.settimeout(timeout)
            if source_address:
                sock.bind(source_address)
            sock.connect(sockaddr)
            errors.clear()
            return sock
        except OSError as ex:
            errors.append(ex)
            if sock is not None:
                sock.close()
        except BaseException:
            if sock is not None:
                sock.close()
            raise
    if not errors:
        raise OSError("getaddrinfo returns an empty list")
    try:
        if all_errors and _sys.version_info >= (3, 11):
            raise ExceptionGroup(  # type: ignore[name-defined]  # noqa: F405,F821
                "create_connection failed", errors)
        raise errors[0]
    finally:
        errors = []


def create_server(address, *, family=__socket__.AF_INET, backlog=None, reuse_port=False,
                  dualstack_ipv6=False) -> socket:
    """A cooperative TCP server socket bound to *address* and listening."""
    if reuse_port and not hasattr(__socket__, "SO_REUSEPORT"):
        raise ValueError("SO_REUSEPORT not supported on this platform")
    if dualstack_ipv6:
        if not __socket__.has_dualstack_ipv6():
            raise ValueError("dualstack_ipv6 not supported on this platform")
        if family != __socket__.AF_INET6:
            raise ValueError("dualstack_ipv6 requires AF_INET6 family")
    sock = socket(family, __socket__.SOCK_STREAM)
    try:
        if _os.name not in ("nt", "cygwin") and hasattr(__socket__, "SO_REUSEADDR"):
            try:
                sock.setsockopt(__socket__.SOL_SOCKET, __socket__.SO_REUSEADDR, 1)
            except OSError:
                pass  # some platforms (e.g. AF_UNIX on some kernels) refuse it: harmless
        if reuse_port:
            sock.setsockopt(__socket__.SOL_SOCKET, __socket__.SO_REUSEPORT, 1)
        if __socket__.has_ipv6 and family == __socket__.AF_INET6:
            if dualstack_ipv6:
                sock.setsockopt(__socket__.IPPROTO_IPV6, __socket__.IPV6_V6ONLY, 0)
            elif hasattr(__socket__, "IPV6_V6ONLY") and hasattr(__socket__, "IPPROTO_IPV6"):
                sock.setsockopt(__socket__.IPPROTO_IPV6, __socket__.IPV6_V6ONLY, 1)
        try:
            sock.bind(address)
        except OSError as ex:
            raise OSError(ex.errno, f"{ex.strerror} (while attempting to bind on address "
                                    f"{address!r})") from None
        if backlog is None:
            sock.listen()
        else:
            sock.listen(backlog)
        return sock
    except BaseException:
        sock.close()
        raise


def close(fd: int) -> None:
    """Close the file descriptor *fd*, first dropping the hub's registration of it."""
    hub = _get_hub_if_exists()
    if hub is not None and hub.loop is not None:
        _forget_closing_fd(hub.loop, fd)
    _socket.close(fd)


if not hasattr(_socket, "close"):  # pragma: no cover - every supported platform has it
    del close


if _typing.TYPE_CHECKING:
    # The names the loop near the top copies from the standard library, as type checkers see
    # them. The names this module defines itself keep their own types: the conflicts ignored
    # here are exactly those.
    from socket import *  # type: ignore[assignment]  # noqa: F403
