"""Cooperative ``select()`` and ``poll()`` over sockets, pipes and anything with ``fileno()``.

Both first ask the kernel without waiting; only if nothing is ready do they park the greenlet on
io watchers for the fds involved (and a timer for the timeout), then ask the kernel again, so
the answer is always the kernel's own (``POLLHUP``, ``POLLERR`` and friends included).
"""

from __future__ import annotations

import select as __select__
from errno import EBADF as _EBADF
from operator import index as _operator_index
from time import monotonic as _monotonic

from greenlet import getcurrent
from greenlet import greenlet as _RawGreenlet

from .hub import _get_hub_noargs as _get_hub
from .hub import sleep as _sleep

__implements__ = ["select", "poll"]
__extensions__: list[str] = []
__imports__ = [
    name
    for name in dir(__select__)
    if not name.startswith("__") and name not in __implements__
]
for _name in __imports__:
    globals()[_name] = getattr(__select__, _name)
del _name

__all__ = ["select", "poll", "error"]

_original_select = __select__.select
_original_poll = __select__.poll
error = __select__.error

_POLLIN = __select__.POLLIN
_POLLPRI = __select__.POLLPRI
_POLLOUT = __select__.POLLOUT
_READ_MASK = _POLLIN | _POLLPRI | getattr(__select__, "POLLRDNORM", 0) \
    | getattr(__select__, "POLLRDBAND", 0)
_WRITE_MASK = _POLLOUT | getattr(__select__, "POLLWRNORM", 0) | getattr(__select__, "POLLWRBAND", 0)
_FD_SETSIZE = 1024


def _fileno(obj) -> int:
    if isinstance(obj, int):
        fd = obj
    else:
        try:
            method = obj.fileno
        except AttributeError:
            raise TypeError("argument must be an int, or have a fileno() method.") from None
        fd = method()
        if not isinstance(fd, int):
            raise TypeError("fileno() returned a non-integer")
    if fd < 0:
        raise ValueError(f"file descriptor cannot be a negative integer ({fd})")
    return fd


def _wake(glet, watcher) -> None:
    # Not the bare greenlet.switch: closing a descriptor (gevent.os.close) throws an error into
    # greenlets parked in a read with that callback, but only fires watchers like these, so
    # select() and poll() report the closed descriptor rather than fail (as gevent does).
    glet.switch(watcher)


def _wait_any(watchers, timeout):
    """Park until one of the (unstarted) io *watchers* fires or *timeout* seconds pass.

    Returns the watcher that fired, or None. A watcher whose descriptor the kernel refuses
    (closed) counts as fired at once: the caller then meets the error, or reports it ready.
    """
    hub = _get_hub()
    current = getcurrent()
    timers = hub.loop._timers
    entry = None
    switch = current.switch
    try:
        for watcher in watchers:
            try:
                watcher.start(_wake, current, watcher)
            except OSError:
                return watcher
        if timeout is not None:
            entry = timers.add(_monotonic() + timeout, switch, (None,), True)
        fired = _RawGreenlet.switch(hub)
        return fired if any(fired is watcher for watcher in watchers) else None
    finally:
        for watcher in watchers:
            watcher.stop()
        if entry is not None:
            timers.cancel(entry)


def _let_others_run() -> None:
    """Switch once through the hub, as gevent's select() and poll() do even when they need not
    wait: a loop over an always-ready descriptor must not starve the other greenlets."""
    hub = _get_hub()
    if getcurrent() is not hub:
        _sleep(0)


def _select_now(rpairs, wpairs, xpairs) -> tuple:
    """Ask the kernel, without waiting, which of the ``(object, fd)`` pairs are ready."""
    rfds = [fd for _obj, fd in rpairs]
    wfds = [fd for _obj, fd in wpairs]
    xfds = [fd for _obj, fd in xpairs]
    every = rfds + wfds + xfds
    if not every or max(every) < _FD_SETSIZE:
        readable, writable, exceptional = (
            set(ready) for ready in _original_select(rfds, wfds, xfds, 0)
        )
    else:
        # select(2) cannot take fds past FD_SETSIZE: answer with poll(2) instead.
        poller = _original_poll()
        masks: dict[int, int] = {}
        for fds, mask in ((rfds, _POLLIN), (wfds, _POLLOUT), (xfds, _POLLPRI)):
            for fd in fds:
                masks[fd] = masks.get(fd, 0) | mask
        for fd, mask in masks.items():
            poller.register(fd, mask)
        ready = dict(poller.poll(0))
        if any(revents & __select__.POLLNVAL for revents in ready.values()):
            raise OSError(9, "Bad file descriptor")
        broken = __select__.POLLERR | __select__.POLLHUP
        readable = {fd for fd, ev in ready.items() if ev & (_POLLIN | broken)}
        writable = {fd for fd, ev in ready.items() if ev & (_POLLOUT | broken)}
        exceptional = {fd for fd, ev in ready.items() if ev & _POLLPRI}
    return (
        [obj for obj, fd in rpairs if fd in readable],
        [obj for obj, fd in wpairs if fd in writable],
        [obj for obj, fd in xpairs if fd in exceptional],
    )


def _with_fired(result: tuple, fired, rpairs, wpairs) -> tuple:
    """Add the objects of the fd whose watcher woke us to the kernel's answer.

    Some descriptors signal edge-style: zmq.FD is readable until anyone reads ZMQ_EVENTS, and
    zmq.green's own watcher on the same fd does just that in the same loop iteration. Asking
    the kernel again would then miss the wake-up, so a fired watcher counts as ready.
    """
    readable, writable, exceptional = result
    if fired.events & 1:
        readable = _add_fd(readable, rpairs, fired.fd)
    if fired.events & 2:
        writable = _add_fd(writable, wpairs, fired.fd)
    return readable, writable, exceptional


def _add_fd(ready: list, pairs, fired_fd: int) -> list:
    already = {id(obj) for obj in ready}
    return ready + [obj for obj, fd in pairs if fd == fired_fd and id(obj) not in already]


def _check_select_timeout(timeout):
    if timeout is None:
        return None
    if not isinstance(timeout, float):
        try:
            timeout = float(_operator_index(timeout))
        except TypeError:
            raise TypeError("timeout must be a float or None") from None
    if timeout != timeout:
        raise ValueError("Invalid value NaN (not a number)")
    if timeout < 0:
        raise ValueError("timeout must be non-negative")
    return timeout


def select(rlist, wlist, xlist, timeout=None):
    """Wait until some of the objects are ready: like :func:`select.select`. A switch point.

    Returns ``(readable, writable, exceptional)``, three lists of the given objects; all empty
    if *timeout* seconds passed. Works past ``FD_SETSIZE`` file descriptors.
    """
    timeout = _check_select_timeout(timeout)
    # Each object's fileno() is called once, while iterating, as the standard library does.
    rpairs = [(obj, _fileno(obj)) for obj in rlist]
    wpairs = [(obj, _fileno(obj)) for obj in wlist]
    xpairs = [(obj, _fileno(obj)) for obj in xlist]
    result = _select_now(rpairs, wpairs, xpairs)
    if result[0] or result[1] or result[2] or timeout == 0:
        _let_others_run()
        return result
    if not (rpairs or wpairs or xpairs):
        if timeout is None:
            raise ValueError("select() with no file descriptors and no timeout would block "
                             "forever")
        _sleep(timeout)
        return [], [], []
    loop = _get_hub().loop
    read_fds = {fd for _obj, fd in rpairs} | {fd for _obj, fd in xpairs}
    watchers = [loop.io(fd, 1) for fd in read_fds]
    watchers += [loop.io(fd, 2) for fd in {fd for _obj, fd in wpairs}]
    deadline = None if timeout is None else _monotonic() + timeout
    while True:
        remaining = None if deadline is None else max(deadline - _monotonic(), 0.0)
        fired = _wait_any(watchers, remaining)
        try:
            result = _select_now(rpairs, wpairs, xpairs)
        except OSError as exc:
            # A descriptor closed while we waited (its watcher fired): as gevent, report the
            # fired one ready; the caller's next call on it meets the error.
            if fired is None or exc.errno != _EBADF:
                raise
            result = ([], [], [])
        if fired is not None:
            result = _with_fired(result, fired, rpairs, wpairs)
        if result[0] or result[1] or result[2]:
            return result
        if deadline is not None and _monotonic() >= deadline:
            return result


class poll:
    """A cooperative :func:`select.poll` object: ``register``, ``modify``, ``unregister`` and
    ``poll(timeout)`` in milliseconds (a switch point)."""

    def __init__(self) -> None:
        self._masks: dict[int, int] = {}
        self._poll = _original_poll()

    def register(self, fd, eventmask: int = _POLLIN | _POLLPRI | _POLLOUT) -> None:
        fd = _fileno(fd)
        self._poll.register(fd, eventmask)
        self._masks[fd] = eventmask

    def modify(self, fd, eventmask: int) -> None:
        fd = _fileno(fd)
        self._poll.modify(fd, eventmask)
        self._masks[fd] = eventmask

    def unregister(self, fd) -> None:
        fd = _fileno(fd)
        self._poll.unregister(fd)
        del self._masks[fd]

    def poll(self, timeout=None) -> list:
        """Return ``[(fd, revents), ...]``; wait up to *timeout* ms (None or negative: no limit).
        A switch point."""
        if timeout is not None:
            try:
                timeout = float(timeout)
            except TypeError:
                raise TypeError("timeout must be an integer or None") from None
            if timeout < 0:
                timeout = None
            else:
                timeout = timeout / 1000.0
        result = self._poll.poll(0)
        if result or timeout == 0 or not self._masks:
            if not result and not self._masks and timeout:
                _sleep(timeout)
            else:
                _let_others_run()
            return result
        loop = _get_hub().loop
        watchers = []
        for fd, mask in self._masks.items():
            events = (1 if mask & _READ_MASK else 0) | (2 if mask & _WRITE_MASK else 0)
            # Even a mask of 0 reports POLLHUP/POLLERR: watch for readability then.
            watchers.append(loop.io(fd, events or 1))
        deadline = None if timeout is None else _monotonic() + timeout
        while True:
            remaining = None if deadline is None else max(deadline - _monotonic(), 0.0)
            fired = _wait_any(watchers, remaining)
            result = self._poll.poll(0)
            if fired is not None and all(fd != fired.fd for fd, _revents in result):
                # As in select(): the watcher's word stands (see _with_fired).
                revents = self._masks.get(fired.fd, 0) & (
                    (_POLLIN if fired.events & 1 else 0) | (_POLLOUT if fired.events & 2 else 0))
                if revents:
                    result.append((fired.fd, revents))
            if result or (deadline is not None and _monotonic() >= deadline):
                return result
