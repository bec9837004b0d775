"""The machinery shared by every gevent server: listening, accepting, spawning, stopping.

Theory of operation: a started server runs one *accept greenlet* that calls
:meth:`BaseServer.do_read` (a cooperative ``accept()`` or ``recvfrom()``) in a loop and hands
each result to :meth:`BaseServer.do_handle`, which spawns the handler (through the pool when
there is one). When the pool is full the accept greenlet waits for a
free slot instead of accepting, so the kernel's backlog absorbs the burst.

Every handler greenlet is remembered until it finishes, so :meth:`BaseServer.stop` can wait for
requests in flight and kill what is left after the timeout, pool or no pool.
"""

from __future__ import annotations

import errno
import sys
from collections.abc import Callable
from typing import Any

from greenlet import getcurrent

from gevent.event import Event
from gevent.greenlet import Greenlet
from gevent.hub import get_hub, sleep

__all__ = ["BaseServer"]


def _parse_address(address: Any) -> tuple[int, Any]:
    """``(family, sockaddr)`` for a listener given as a tuple, ``"host:port"``, ``":port"``
    or a bare port number."""
    import socket as _stdlib_socket

    if isinstance(address, tuple):
        if not address[0] or ":" not in address[0]:
            return _stdlib_socket.AF_INET, address
        return _stdlib_socket.AF_INET6, address
    if isinstance(address, int):
        return _stdlib_socket.AF_INET, ("", address)
    if isinstance(address, str):
        if ":" not in address:
            return _stdlib_socket.AF_INET, ("", int(address))
        host, port = address.rsplit(":", 1)
        family = _stdlib_socket.AF_INET
        if host.startswith("[") and host.endswith("]"):
            host = host[1:-1]
            family = _stdlib_socket.AF_INET6
        elif host == "*":
            host = ""
        return family, (host, int(port))
    raise TypeError(f"expected a socket, an address tuple or 'host:port', got {address!r}")


class BaseServer:
    """An abstract server: subclasses provide :meth:`init_socket`, :meth:`do_read` and
    :meth:`do_close` (see :class:`gevent.server.StreamServer`).

    *listener* is a bound socket, an address tuple or a ``"host:port"`` string. *handle* is
    called for every connection (or datagram); without it the subclass's ``handle`` method is.
    *spawn* decides how: ``"default"`` spawns a :class:`~gevent.Greenlet`, a
    :class:`~gevent.pool.Pool` (or anything with ``spawn``) spawns through it, an int makes a
    ``Pool`` of that size, ``None`` handles inline in the accept greenlet, and any other callable
    is called like ``spawn(handle, *args)``.
    """

    #: Pause between retries after an accept error, doubling up to max_delay.
    min_delay = 0.01
    max_delay = 1
    #: Kept for compatibility (gunicorn sets it): the accept greenlet takes one connection
    #: per wake-up, and a cooperative accept already yields when nothing is pending.
    max_accept = 100
    #: Seconds stop() waits for handlers when no timeout is given.
    stop_timeout = 1
    #: errno values that mean the listening socket itself is gone.
    fatal_errors = (errno.EBADF, errno.EINVAL, errno.ENOTSOCK)

    _spawn: Callable[..., Any] | None = Greenlet.spawn

    def __init__(self, listener: Any, handle: Callable[..., Any] | None = None,
                 spawn: Any = "default") -> None:
        self._stop_event = Event()
        self._stop_event.set()
        self._accept_greenlet: Greenlet | None = None
        self._handlers: set[Any] = set()
        self._handle: Callable[..., Any] | None = None
        self.pool: Any = None
        self.socket: Any = None
        self.delay = self.min_delay
        try:
            self.set_listener(listener)
            self.set_spawn(spawn)
            self.set_handle(handle)
        except BaseException:
            self.close()
            raise

    # -- configuration ------------------------------------------------------------------

    def set_listener(self, listener: Any) -> None:
        if hasattr(listener, "accept") or hasattr(listener, "recvfrom"):
            self.socket = listener
            self.address = listener.getsockname()
            self.family = listener.family
        else:
            self.family, self.address = _parse_address(listener)

    def set_spawn(self, spawn: Any) -> None:
        if spawn == "default":
            self.pool = None
            self._spawn = type(self)._spawn
        elif hasattr(spawn, "spawn"):
            self.pool = spawn
            self._spawn = spawn.spawn
        elif isinstance(spawn, int) and not isinstance(spawn, bool):
            from gevent.pool import Pool

            self.pool = Pool(spawn)
            self._spawn = self.pool.spawn
        else:
            self.pool = None
            self._spawn = spawn
        if hasattr(self.pool, "full"):
            self.full = self.pool.full  # type: ignore[method-assign]

    def set_handle(self, handle: Callable[..., Any] | None) -> None:
        if handle is not None:
            self.handle = handle
        if hasattr(self, "handle"):
            self._handle = self.handle
        else:
            raise TypeError("'handle' must be provided")

    # -- the accept loop ------------------------------------------------------------------

    def _start_accepting_if_started(self, _event: Any = None) -> None:
        if self.started:
            self.start_accepting()

    def start_accepting(self) -> None:
        if self._accept_greenlet is None:
            self._accept_greenlet = Greenlet.spawn(self._accept_forever)

    def stop_accepting(self) -> None:
        accept_greenlet, self._accept_greenlet = self._accept_greenlet, None
        if (accept_greenlet is not None and not accept_greenlet.dead
                and accept_greenlet is not getcurrent()):
            accept_greenlet.kill(block=False)

    def _accept_forever(self) -> None:
        stop_event = self._stop_event
        while not stop_event.is_set():
            if self.full():
                pool = self.pool
                if pool is not None and hasattr(pool, "wait_available"):
                    pool.wait_available()
                else:
                    sleep(self.min_delay)
                continue
            self._do_read()

    def _do_read(self) -> None:
        """Accept one connection (or datagram) and hand it to :meth:`do_handle`."""
        try:
            args = self.do_read()
            self.delay = self.min_delay
        except Exception as error:
            if self._stop_event.is_set():
                return
            if self.is_fatal_error(error):
                self.close()
                return
            # EMFILE, ECONNABORTED...: report, back off (doubling), retry.
            get_hub().handle_error(self, *sys.exc_info())
            sleep(self.delay)
            self.delay = min(self.max_delay, self.delay * 2)
            return
        if not args:
            return
        try:
            self.do_handle(*args)
        except Exception:
            get_hub().handle_error((args[1:], self), *sys.exc_info())
            self.do_close(*args)

    def do_handle(self, *args: Any) -> None:
        """Run the handler for one accepted connection, spawned per :meth:`set_spawn`."""
        spawn = self._spawn
        if spawn is None:
            self._run_handler(*args)
        else:
            spawn(self._run_handler, *args)

    def _run_handler(self, *args: Any) -> Any:
        handlers = self._handlers
        current = getcurrent()
        handlers.add(current)
        try:
            return self._handle(*args)  # type: ignore[misc]
        finally:
            handlers.discard(current)
            # Whatever happened (a handler that raised, or returned without closing), the
            # connection ends with its handler, as in gevent: the client sees EOF now, not
            # when the socket object happens to be collected.
            self.do_close(*args)

    def do_read(self) -> Any:
        """Accept (or receive) one thing to handle; return the handler's arguments or None."""
        raise NotImplementedError

    def do_close(self, *args: Any) -> None:
        """Dispose of what :meth:`do_read` returned, once handled (or when it could not be):
        a stream server closes the accepted socket."""

    def full(self) -> bool:
        return False

    def is_fatal_error(self, ex: BaseException) -> bool:
        return isinstance(ex, OSError) and ex.errno in self.fatal_errors

    # -- description ----------------------------------------------------------------------

    def __repr__(self) -> str:
        return f"<{type(self).__name__} at {hex(id(self))} {self._formatinfo()}>"

    def __str__(self) -> str:
        return f"<{type(self).__name__} {self._formatinfo()}>"

    def _formatinfo(self) -> str:
        if hasattr(self, "socket") and self.socket is not None:
            result = f"fileno={self.socket.fileno()} "
        else:
            result = ""
        try:
            if isinstance(self.address, tuple) and len(self.address) == 2:
                result += "address={}:{}".format(*self.address)
            else:
                result += f"address={self.address}"
        except Exception as error:  # a description must never fail
            result += str(error) or "<error>"
        handle = self.__dict__.get("handle")
        if handle is not None:
            if getattr(handle, "__self__", None) is self:
                # A bound method of this server: its repr would recurse into ours.
                name = getattr(handle, "__qualname__", None) or handle.__name__
                result += f" handle=<bound method {name} of self>"
            else:
                result += f" handle={handle!r}"
        return result

    @property
    def server_host(self) -> Any:
        """The host the server listens on (the first item of :attr:`address`)."""
        if isinstance(self.address, tuple):
            return self.address[0]
        return None

    @property
    def server_port(self) -> Any:
        """The port the server listens on (the second item of :attr:`address`)."""
        if isinstance(self.address, tuple):
            return self.address[1]
        return None

    # -- life cycle -----------------------------------------------------------------------

    def init_socket(self) -> None:
        """Create the listening socket if the server was given an address. Called by
        :meth:`start`; subclasses that own their socket override it."""

    @property
    def started(self) -> bool:
        return not self._stop_event.is_set()

    def start(self) -> None:
        """Start accepting in the background and return at once (a cooperative
        ``serve_forever`` runs nothing until the caller yields)."""
        assert not self.started, f"{self} already started"
        self._stop_event.clear()
        try:
            self.init_socket()
            self.start_accepting()
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        """Stop accepting and close the listening socket; handlers keep running."""
        self._stop_event.set()
        try:
            self.stop_accepting()
        finally:
            sock = self.socket
            if sock is not None:
                try:
                    sock.close()
                except Exception:  # already closed elsewhere: nothing left to release
                    pass
            self.socket = None

    @property
    def closed(self) -> bool:
        return self._stop_event.is_set() and self.socket is None

    def _close_idle_connections(self) -> None:
        """Hook for servers with keep-alive connections (pywsgi)."""

    def stop(self, timeout: float | None = None) -> None:
        """Stop accepting, let running handlers finish for up to *timeout* seconds
        (default :attr:`stop_timeout`), then kill those still running. Switch point."""
        self.close()
        if timeout is None:
            timeout = self.stop_timeout
        self._close_idle_connections()
        greenlets = list(self._handlers)
        if self.pool is not None and hasattr(self.pool, "join"):
            self.pool.join(timeout=timeout)
            if hasattr(self.pool, "kill"):
                self.pool.kill(block=True, timeout=1)
        if greenlets:
            from gevent.greenlet import joinall, killall

            joinall(greenlets, timeout=timeout)
            alive = [g for g in greenlets if not g.dead]
            if alive:
                killall(alive, block=True, timeout=1)

    def serve_forever(self, stop_timeout: float | None = None) -> None:
        """Start the server if needed and block (cooperatively) until :meth:`stop` or
        :meth:`close` is called from elsewhere, or this greenlet is killed."""
        if not self.started:
            self.start()
        try:
            self._stop_event.wait()
        finally:
            Greenlet.spawn(self.stop, timeout=stop_timeout).join()

    def __enter__(self) -> BaseServer:
        return self

    def __exit__(self, *args: Any) -> None:
        self.stop()
