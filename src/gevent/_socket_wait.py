"""Waiting for file descriptors: the primitives under ``gevent.socket`` and ``gevent.select``.

A cooperative socket never blocks in the kernel: its OS socket is non-blocking, the system call
is tried first, and only on EAGAIN does the greenlet park on an io watcher until the fd is ready
(or the timeout timer fires, or a ``close()`` elsewhere throws :class:`cancel_wait_ex` into it).
"""

from __future__ import annotations

import errno
from time import monotonic

from greenlet import getcurrent
from greenlet import greenlet as _RawGreenlet

from .exceptions import ConcurrentObjectUseError
from .hub import _get_hub_noargs as _get_hub

__all__ = ["wait", "wait_read", "wait_write", "wait_readwrite", "cancel_wait", "cancel_wait_ex",
           "forget_closing_fd"]

_NONE = object()

#: Passed to the waiting greenlet by its timeout timer.
_TIMED_OUT = object()


class cancel_wait_ex(OSError):
    """Raised in a greenlet waiting on a file descriptor that another greenlet closed."""

    def __init__(self, *args) -> None:
        if not args:
            args = (errno.EBADF, "File descriptor was closed in another greenlet")
        super().__init__(*args)


def _default_timeout_exc():
    # socket.timeout is TimeoutError on every Python we support; a fresh instance each time.
    return TimeoutError("timed out")


def _wait_on_watcher(hub, watcher, timeout, timeout_exc) -> None:
    """Park the current greenlet until *watcher* fires. A switch point.

    *timeout* (seconds or None) raises *timeout_exc* (an exception instance, a class, or
    ``_NONE`` for ``TimeoutError('timed out')``). The watcher is stopped on the way out.
    """
    if watcher.callback is not None:
        raise ConcurrentObjectUseError(
            f"This socket is already used by another greenlet: {watcher.callback!r}"
        )
    current = getcurrent()
    if current is hub:
        from .exceptions import BlockingSwitchOutError

        raise BlockingSwitchOutError(
            "Impossible to call blocking function in the event loop callback"
        )
    watcher.start(current.switch, watcher)
    entry = None
    try:
        if timeout is not None:
            entry = hub.loop._timers.add(monotonic() + timeout, current.switch, (_TIMED_OUT,),
                                         True)
        result = _RawGreenlet.switch(hub)
        if result is not watcher:
            if result is not _TIMED_OUT:
                from .exceptions import InvalidSwitchError

                raise InvalidSwitchError(
                    f"Invalid switch into {current!r}: got {result!r} (expected {watcher!r})"
                )
            if timeout_exc is _NONE:
                raise _default_timeout_exc()
            if isinstance(timeout_exc, type):
                raise timeout_exc("timed out")
            raise timeout_exc
    finally:
        watcher.stop()
        if entry is not None:
            hub.loop._timers.cancel(entry)


def wait(io, timeout: float | None = None, timeout_exc=_NONE, hub=None) -> None:
    """Block the current greenlet until the watcher *io* is ready. A switch point.

    Raises *timeout_exc* (default ``socket.timeout('timed out')``) after *timeout* seconds.
    If another greenlet calls :func:`cancel_wait` on *io*, its error is raised here.
    """
    if hub is None:
        hub = _get_hub()
    if timeout is None:
        _wait_on_watcher(hub, io, None, timeout_exc)
        return
    # *io* may be any object with start() and stop(), and its start() may switch: the timeout
    # must already run then, so here it is a Timeout thrown into this greenlet rather than
    # the timer _wait_on_watcher arms once the watcher is started.
    from .timeout import Timeout

    if timeout_exc is _NONE:
        timeout_exc = _default_timeout_exc()
    elif isinstance(timeout_exc, type):
        timeout_exc = timeout_exc("timed out")
    timer = Timeout(timeout, timeout_exc)
    timer.start()
    try:
        _wait_on_watcher(hub, io, None, timeout_exc)
    finally:
        timer.cancel()


def _wait_fd(fileno, events: int, timeout, timeout_exc) -> None:
    if not isinstance(fileno, int):
        fileno = fileno.fileno()
    hub = _get_hub()
    watcher = hub.loop.io(fileno, events)
    try:
        _wait_on_watcher(hub, watcher, timeout, timeout_exc)
    finally:
        watcher.close()


def wait_read(fileno, timeout: float | None = None, timeout_exc=_NONE) -> None:
    """Wait until *fileno* is readable. A switch point; *timeout* raises *timeout_exc*."""
    _wait_fd(fileno, 1, timeout, timeout_exc)


def wait_write(fileno, timeout: float | None = None, timeout_exc=_NONE, event=_NONE) -> None:
    """Wait until *fileno* is writable. A switch point; *timeout* raises *timeout_exc*.

    *event* is accepted for compatibility and ignored.
    """
    _wait_fd(fileno, 2, timeout, timeout_exc)


def wait_readwrite(fileno, timeout: float | None = None, timeout_exc=_NONE,
                   event=_NONE) -> None:
    """Wait until *fileno* is readable or writable. A switch point.

    *event* is accepted for compatibility and ignored.
    """
    _wait_fd(fileno, 3, timeout, timeout_exc)


def cancel_wait(watcher, error=cancel_wait_ex) -> None:
    """Make the greenlet waiting on *watcher* raise *error* (soon, from the hub)."""
    if isinstance(error, type):
        error = error()
    _get_hub().cancel_wait(watcher, error)



def _slot_wait(hub, fd: int, which: int, timeout, ref: bool, first: bool) -> None:
    """Park the current greenlet in the loop's fast-wait slot for *fd* until the fd is ready
    for *which* (1 read, 2 write). A switch point; the socket's wait, without watcher objects.

    *first*: the socket's first wait on this hub. A socket collected without ``close()`` may
    have left an entry for the same number, which the kernel no longer has registered: the
    entry's registration is then unknown (as for a new ``loop.io`` watcher).
    *timeout* (seconds or None) raises ``TimeoutError('timed out')``.
    """
    loop = hub.loop
    state = loop._fds.get(fd)
    if state is not None:
        if first and state.idle():
            state.registered = -1
        waiter = state.slots[which]
        if waiter is not None:
            raise ConcurrentObjectUseError(
                f"This socket is already used by another greenlet: {waiter.switch!r}"
            )
    current = getcurrent()
    if current is hub:
        from .exceptions import BlockingSwitchOutError

        raise BlockingSwitchOutError(
            "Impossible to call blocking function in the event loop callback"
        )
    if state is None or state.registered & which != which or state.registered < 0:
        state = loop._slot_state(fd, which)
    slots = state.slots
    slots[which] = current
    if ref:
        loop._io_refs += 1
    entry = None
    try:
        if timeout is not None:
            entry = loop._timers.add(monotonic() + timeout, current.switch, (_TIMED_OUT,), True)
        if _RawGreenlet.switch(hub) is _TIMED_OUT:
            raise _default_timeout_exc()
    finally:
        if ref:
            loop._io_refs -= 1
        if slots[which] is current:
            slots[which] = None
        if entry is not None:
            loop._timers.cancel(entry)


def cancel_slots(loop, fd: int, cancel: bool = True) -> None:
    """Wake the greenlets parked in *loop*'s fast-wait slots for *fd* (from any thread): with
    *cancel*, they raise :class:`cancel_wait_ex`; otherwise they look at the fd again."""
    state = loop._fds.get(fd)
    if state is None:
        return
    slots = state.slots
    for which in (1, 2):
        glet = slots[which]
        if glet is not None:
            loop.run_callback_threadsafe(_wake_slot, slots, which, glet, cancel)


def _wake_slot(slots: list, which: int, glet, cancel: bool) -> None:
    if slots[which] is glet:  # still parked there (not woken meanwhile)
        slots[which] = None
        if cancel:
            glet.throw(cancel_wait_ex())
        else:
            glet.switch()


def forget_closing_fd(loop, fd: int, skip: tuple = (), cancel: bool = False) -> None:
    """Tell *loop* that *fd* is being closed (call it just before the close).

    The loop never reports the descriptor again, so watchers still started on it (``select()``,
    ``poll()``, a user's ``loop.io``) would wait forever: each fires once instead, from the loop
    (from any thread), and whoever waits looks again and meets the closed descriptor. libev
    does the same for a descriptor the kernel refuses. *skip*: watchers whose owner wakes them
    itself (with an error). Greenlets parked in the fd's fast-wait slots raise
    :class:`cancel_wait_ex` with *cancel* (their socket is being closed), otherwise they wake.
    """
    cancel_slots(loop, fd, cancel)
    if not loop.closing_fd(fd):
        return
    state = loop._fds.get(fd)
    if state is None:
        return
    for watcher in state.watchers:
        if all(watcher is not skipped for skipped in skip):
            loop.run_callback_threadsafe(_fire_if_started, watcher)


def _fire_if_started(watcher) -> None:
    if watcher.active:
        watcher._fire(watcher.events)
