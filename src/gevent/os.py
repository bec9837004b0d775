"""Cooperative versions of some :mod:`os` functions, and the rest of :mod:`os` unchanged.

Descriptor I/O: :func:`nb_read` / :func:`nb_write` wait on the hub for a non-blocking descriptor
(see :func:`make_nonblocking`); :func:`tp_read` / :func:`tp_write` run the call in the hub's
thread pool and work on any descriptor. None of these is monkey patched in.

Child processes: :func:`fork` (:func:`fork_and_watch`) forks and watches the child with the
loop, so :func:`waitpid` can wait for it cooperatively; the child process continues with a fresh
loop and thread pool (greenlets that were scheduled in the parent's hub are still scheduled in
the child). :func:`posix_spawn` / :func:`posix_spawnp` watch their child the same way.
Watching uses one pidfd per child where the kernel has them: no SIGCHLD handler, and no other
code's children are ever reaped. Setting ``GEVENT_NOWAITPID`` (``config.disable_watch_children``)
turns the watching off: :func:`fork` is then :func:`fork_gevent` and :func:`waitpid` the
standard one.
"""

from __future__ import annotations

import errno as _errno
import os as _os
import typing as _typing
from os import *  # noqa: F401,F403  (this module stands in for os)
from time import monotonic as _monotonic

from ._core import READ as _READ
from ._core import WRITE as _WRITE
from ._core import _child
from ._core import _fork as _fork_hooks
from ._linkable import AbstractLinkable as _AbstractLinkable
from ._socket_wait import forget_closing_fd as _forget_closing_fd
from .hub import _get_hub_noargs as _get_hub
from .hub import get_hub_if_exists as _get_hub_if_exists
from .hub import reinit as _reinit
from .hub import sleep as _sleep

if _typing.TYPE_CHECKING:
    from collections.abc import Callable as _Callable

# The real system calls, bound before monkey patching can replace the os module's attributes.
_read = _os.read
_write = _os.write
_close = _os.close
_waitpid = _os.waitpid
# None where the platform lacks them; the functions that call them exist only where they do.
_fork: _Callable[[], int] | None = getattr(_os, "fork", None)
_forkpty: _Callable[[], tuple[int, int]] | None = getattr(_os, "forkpty", None)
_posix_spawn: _Callable[..., int] | None = getattr(_os, "posix_spawn", None)
_posix_spawnp: _Callable[..., int] | None = getattr(_os, "posix_spawnp", None)
_WNOHANG = getattr(_os, "WNOHANG", 1)

__implements__ = [
    name for name in ("fork", "close", "forkpty", "waitpid", "posix_spawn", "posix_spawnp")
    if hasattr(_os, name)
]
__extensions__ = [
    "tp_read",
    "tp_write",
    "make_nonblocking",
    "nb_read",
    "nb_write",
    "fork_gevent",
    "fork_and_watch",
] + (["forkpty_gevent", "forkpty_and_watch"] if _forkpty is not None else [])
#: Names this module re-exports from :mod:`os` unchanged.
__imports__ = [name for name in _os.__all__ if name not in __implements__]
__all__ = __implements__ + __extensions__

#: How long the status of a watched child nobody waited for is kept.
_STATUS_TTL = 60.0


# -- descriptor I/O ------------------------------------------------------------------------

# Errors after which the call is retried once the descriptor is ready. EINTR is here for a
# raw OSError carrying it (PEP 475 retries the system call itself otherwise).
_RETRY_ERRNOS = frozenset({_errno.EAGAIN, _errno.EWOULDBLOCK, _errno.EINTR})


def nb_read(fd: int, n: int) -> bytes:
    """Read up to *n* bytes from non-blocking descriptor *fd*; b'' at end of file.

    A switch point while nothing is available. No timeout of its own: use
    :class:`gevent.Timeout`.
    """
    return _nb_call(_read, fd, n, _READ)


def nb_write(fd: int, buf) -> int:
    """Write some of *buf* to non-blocking descriptor *fd*; returns how many bytes were written.

    A switch point while there is no room. No timeout of its own: use :class:`gevent.Timeout`.
    """
    return _nb_call(_write, fd, buf, _WRITE)


def _nb_call(call, fd: int, argument, event: int):
    """``call(fd, argument)``, waiting for *event* on *fd* and retrying while it would block."""
    watcher = None
    try:
        while True:
            try:
                return call(fd, argument)
            except OSError as error:
                if error.errno not in _RETRY_ERRNOS:
                    raise
            if watcher is None:
                hub = get_hub()  # by this module-level name: see the end of the module
                watcher = hub.loop.io(fd, event)
            hub.wait(watcher)
    finally:
        if watcher is not None:
            watcher.close()


def tp_read(fd: int, n: int) -> bytes:
    """Read up to *n* bytes from *fd* in the hub's thread pool. A switch point."""
    return _get_hub().threadpool.apply(_read, (fd, n))


def tp_write(fd: int, buf) -> int:
    """Write *buf* to *fd* in the hub's thread pool; returns the bytes written. A switch point."""
    return _get_hub().threadpool.apply(_write, (fd, buf))


def make_nonblocking(fd: int) -> bool | None:
    """Put *fd* in non-blocking mode. True if that changed it, None if it already was."""
    if _os.get_blocking(fd):
        _os.set_blocking(fd, False)
        return True
    return None


def close(fd: int) -> None:  # type: ignore[no-redef]
    """:func:`os.close` that first tells the current thread's loop, so the number's reuse
    starts clean.

    Greenlets parked on the descriptor get ``OSError(EBADF)``; it is closed once they have
    been woken, so its number cannot be reused under them.
    """
    hub = _get_hub_if_exists()
    loop = hub.loop if hub is not None else None
    if loop is None or fd not in getattr(loop, "_fds", ()):
        _close(fd)
        return
    # Greenlets parked in a read or write get the error; other watchers (select, poll, a
    # user's loop.io) fire once after the close, to see the descriptor gone.
    parked = tuple(w for w in loop._fds[fd].watchers if _is_greenlet_switch(w.callback))
    if not parked:
        _close_watched(loop, fd)
        return
    hub.cancel_waits_close_and_then(parked, _closed_error(), _close_watched, loop, fd, parked)


def _close_watched(loop, fd: int, parked: tuple = ()) -> None:
    _forget_closing_fd(loop, fd, parked)
    _close(fd)


def _closed_error() -> OSError:
    return OSError(_errno.EBADF, "File descriptor was closed in another greenlet")


def _is_greenlet_switch(callback) -> bool:
    owner = getattr(callback, "__self__", None)
    return owner is not None and hasattr(owner, "throw") and hasattr(owner, "switch")


# -- watched children ----------------------------------------------------------------------

class _WatchedChild(_AbstractLinkable):
    """A child forked or spawned here, watched by the loop; ready once it has exited."""

    __slots__ = ("pid", "watcher", "callback", "status", "exited_at")

    def __init__(self, pid: int, watcher, callback) -> None:
        super().__init__()
        self.pid = pid
        self.watcher = watcher
        self.callback = callback
        self.status: int | None = None
        self.exited_at = 0.0

    def ready(self) -> bool:
        return self.status is not None

    def on_exit(self) -> None:
        # The watcher reaped the child; its status is on the watcher, so the shared table's
        # copy is not needed.
        _child.reaped.pop(self.pid, None)
        self._finish(self.watcher.rstatus)

    def reaped_directly(self, status: int) -> None:
        """We reaped the child with a real waitpid: tell the watcher's side what happened."""
        watcher = self.watcher
        watcher.stop()
        watcher.rpid = self.pid
        watcher.rstatus = status
        self._finish(status)

    def _finish(self, status: int) -> None:
        if self.status is not None:
            return
        self.status = status
        self.exited_at = _monotonic()
        self._check_and_notify()
        _any_exit._check_and_notify()
        callback = self.callback
        if callback is not None:
            callback(self.watcher)


class _AnyExit(_AbstractLinkable):
    """Ready while some watched child has exited and not been waited for."""

    __slots__ = ()

    def ready(self) -> bool:
        return any(record.status is not None for record in _watched.values())


_watched: dict[int, _WatchedChild] = {}
_any_exit = _AnyExit()


def _purge_expired(ttl: float = _STATUS_TTL) -> None:
    """Forget the statuses of watched children that exited over *ttl* seconds ago."""
    if not _watched:
        return
    deadline = _monotonic() - ttl
    for pid, record in list(_watched.items()):
        if record.status is not None and record.exited_at < deadline:
            _watched.pop(pid, None)


def _watch(pid: int, callback=None, loop=None, ref: bool = False) -> _WatchedChild:
    _purge_expired()
    # A status still recorded under this pid belongs to an earlier process that had it.
    _child.reaped.pop(pid, None)
    old = _watched.pop(pid, None)
    if old is not None:
        old.watcher.stop()
    if loop is None:
        loop = _get_hub().loop
    _fork_hooks.add_child_hook(_reset_after_fork)
    watcher = loop.child(pid, ref=ref)
    record = _watched[pid] = _WatchedChild(pid, watcher, callback)
    watcher.start(record.on_exit)
    return record


def _forget_child(pid: int) -> None:
    """Stop watching *pid*: someone else (gevent.subprocess.Popen) watches it from now on."""
    record = _watched.pop(pid, None)
    if record is not None:
        record.watcher.stop()


class _RefHeld:
    """Make the watchers keep their loop running while someone waits on them."""

    def __init__(self, records) -> None:
        self._changed = [r.watcher for r in records if not r.watcher.ref]

    def __enter__(self):
        for watcher in self._changed:
            watcher.ref = True
        return self

    def __exit__(self, *exc_info) -> None:
        for watcher in self._changed:
            watcher.ref = False


def _collect(record: _WatchedChild) -> tuple[int, int]:
    if _watched.get(record.pid) is record:
        del _watched[record.pid]
    assert record.status is not None
    return record.pid, record.status


def _wait_record(record: _WatchedChild) -> None:
    with _RefHeld([record]):
        while record.status is None:
            record._wait_core(None)


def _first_exited():
    for record in _watched.values():
        if record.status is not None:
            return record
    return None


def waitpid(pid: int, options: int) -> tuple[int, int]:  # type: ignore[no-redef]
    """:func:`os.waitpid`, cooperative where it can be. A switch point when it waits.

    Children started by :func:`fork` / :func:`posix_spawn` here are waited for through their
    loop watcher (*pid* -1 waits for the first of them to exit). Other children of *pid* > 0 are
    waited for with a temporary watcher, and -1 without watched children polls. Options other
    than ``WNOHANG`` (``WUNTRACED``...) and process-group waits (*pid* 0 or < -1) use the
    blocking system call.
    """
    from ._config import config

    if config.disable_watch_children:
        return _waitpid(pid, options)
    _purge_expired()
    nohang = bool(options & _WNOHANG)
    if pid > 0:
        record = _watched.get(pid)
        if record is not None:
            if record.status is None and not nohang:
                _wait_record(record)
            if record.status is not None:
                return _collect(record)
            rpid, status = _waitpid(pid, options)
            if rpid:
                record.reaped_directly(status)
                return _collect(record)
            return rpid, status
        kept_status = _child.reaped.pop(pid, None)
        if kept_status is not None:
            # Reaped by another watcher (a gevent.subprocess.Popen's): its status is kept here.
            return pid, kept_status
        if options & ~_WNOHANG:
            return _waitpid(pid, options)
        rpid, status = _waitpid(pid, options | _WNOHANG)
        if rpid or nohang:
            return rpid, status
        return _wait_unwatched(pid)
    if pid == -1:
        record = _first_exited()
        if record is not None:
            return _collect(record)
        if nohang or options & ~_WNOHANG:
            rpid, status = _waitpid(pid, options)
            record = _watched.get(rpid) if rpid else None
            if record is not None:
                record.reaped_directly(status)
                _collect(record)
            return rpid, status
        return _wait_any()
    return _waitpid(pid, options)


def _wait_unwatched(pid: int) -> tuple[int, int]:
    hub = _get_hub()
    watcher = hub.loop.child(pid)
    try:
        hub.wait(watcher)
    finally:
        watcher.close()
    _child.reaped.pop(pid, None)
    return pid, watcher.rstatus


def _wait_any() -> tuple[int, int]:
    delay = 0.001
    while True:
        record = _first_exited()
        if record is not None:
            return _collect(record)
        pending = [r for r in _watched.values() if r.status is None]
        if pending:
            with _RefHeld(pending):
                _any_exit._wait_core(None)
            continue
        # No watched children: poll for any other child (ChildProcessError if there is none).
        rpid, status = _waitpid(-1, _WNOHANG)
        if rpid:
            return rpid, status
        _sleep(delay)
        delay = min(delay * 2, 0.05)


# -- fork ----------------------------------------------------------------------------------

if _fork is not None:

    def fork_gevent() -> int:  # type: ignore[no-redef,misc]
        """:func:`os.fork`, leaving the child ready to use gevent (a fresh loop and pool).

        The child is not watched: prefer :func:`fork`.
        """
        assert _fork is not None
        pid = _fork()
        if pid == 0:
            _reinit()
        return pid

    def fork_and_watch(callback=None, loop=None, ref: bool = False, fork=fork_gevent) -> int:
        """Fork, and in the parent watch the child with *loop* (the current hub's by default).

        ``callback(watcher)`` runs in the loop when the child exits; :func:`waitpid` can wait
        for it cooperatively. With *ref* false the watcher alone does not keep the loop
        running. *fork* is the function that forks (:func:`fork_gevent` by default).
        """
        pid = fork()
        if pid:
            _watch(pid, callback, loop, ref)
        return pid

    def fork(*args, **kwargs) -> int:  # type: ignore[no-redef,misc]
        """Fork a child process, watched so that :func:`waitpid` cooperates (see
        :func:`fork_and_watch`); just :func:`fork_gevent` when ``GEVENT_NOWAITPID`` is set."""
        from ._config import config

        if config.disable_watch_children:
            return fork_gevent()
        return fork_and_watch(*args, **kwargs)

if _forkpty is not None:

    def forkpty_gevent() -> tuple[int, int]:  # type: ignore[no-redef,misc]
        """:func:`os.forkpty`, leaving the child ready to use gevent. Returns (pid, master_fd);
        the master descriptor stays in blocking mode."""
        assert _forkpty is not None
        pid, master_fd = _forkpty()
        if pid == 0:
            _reinit()
        return pid, master_fd

    def forkpty_and_watch(callback=None, loop=None, ref: bool = False,
                          forkpty=forkpty_gevent) -> tuple[int, int]:
        """Like :func:`fork_and_watch`, with :func:`forkpty_gevent`."""
        pid, master_fd = forkpty()
        if pid:
            _watch(pid, callback, loop, ref)
        return pid, master_fd

    def forkpty(*args, **kwargs) -> tuple[int, int]:  # type: ignore[no-redef,misc]
        """Like :func:`fork`, with a pseudo-terminal (see :func:`forkpty_and_watch`)."""
        from ._config import config

        if config.disable_watch_children:
            return forkpty_gevent()
        return forkpty_and_watch(*args, **kwargs)

if _posix_spawn is not None:

    def posix_spawn(*args, **kwargs) -> int:  # type: ignore[no-redef,misc]
        """:func:`os.posix_spawn`, with the child watched so :func:`waitpid` cooperates."""
        assert _posix_spawn is not None
        pid = _posix_spawn(*args, **kwargs)
        _watch(pid)
        return pid

if _posix_spawnp is not None:

    def posix_spawnp(*args, **kwargs) -> int:  # type: ignore[no-redef,misc]
        """:func:`os.posix_spawnp`, with the child watched so :func:`waitpid` cooperates."""
        assert _posix_spawnp is not None
        pid = _posix_spawnp(*args, **kwargs)
        _watch(pid)
        return pid


def _reset_after_fork() -> None:
    # In a forked child the parent's children are not ours: forget them (never switches).
    for record in list(_watched.values()):
        record.watcher.stop()
    _watched.clear()


# Compatibility: names that gevent's users and tests reach.
_reap_children = _purge_expired
# nb_read and nb_write find the hub through this name, which gevent's tests replace.
get_hub = _get_hub
