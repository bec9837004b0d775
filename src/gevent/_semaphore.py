# Theory of operation: the wait queue shared by Event, AsyncResult and Semaphore, and the
# semaphores themselves.
#
# Every entry of ``_links`` (the FIFO inherited from AbstractLinkable) is a small list
# ``[callable, hub, kind]``: the greenlet's ``switch`` (or a rawlink callback), the hub of the
# thread that queued it, and what it is waiting for (``None``: a greenlet that takes what it is
# woken for, ``_RAWLINK``: a callback, ``_WATCH``: a greenlet that only watches readiness).
#
# Waking is done *where the state changes*, in ``set()``/``release()``/``put()``, without
# switching: the entry is popped and its callable is queued on its own hub's loop (the ready
# deque when that hub belongs to the current thread, ``run_callback_threadsafe`` otherwise). So no
# wake-up ever depends on some other hub's loop running again, and an object may be shared by
# any number of threads. The queued callback is remembered in the entry (slot 0 becomes None,
# slot 2 the callback): a waiter that leaves for another reason (timeout, kill) cancels it, and
# gives back what it was handed (a permit, an item) so nothing is lost.
#
# Semaphores hand a permit to the first waiter when they wake it (its acquire is done before it
# runs), so waiters are served strictly FIFO and a woken waiter never finds the permit gone. The
# hand-over happens in a loop callback when the releaser is a greenlet of the running hub, so a
# greenlet that releases and re-acquires without yielding keeps the lock (as in gevent).
#
# A wait in a process with other threads keeps its loop alive (a reference on the loop) so a
# thread whose hub has nothing else to do blocks until another thread wakes it, instead of
# raising LoopExit.

from __future__ import annotations

import sys
from _thread import _count as _thread_count
from collections import deque
from time import monotonic
from typing import TYPE_CHECKING

from greenlet import getcurrent
from greenlet import greenlet as _RawGreenlet

from ._linkable import AbstractLinkable
from .exceptions import BlockingSwitchOutError
from .hub import _get_hub_noargs as get_hub
from .hub import _threadlocal
from .hub import sleep as _sleep
from .monkey._state import get_original
from .timeout import Timeout

if TYPE_CHECKING:
    from typing_extensions import Self  # typing.Self is 3.11+; only checkers read this

__all__ = ["Semaphore", "BoundedSemaphore", "DummySemaphore"]

_switch = _RawGreenlet.switch


class _Marker:
    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"<{self.name}>"


_RAWLINK = _Marker("rawlink")
_WATCH = _Marker("watch")
_TIMED_OUT = _Marker("timed out")
#: What a queue putter is woken with once a getter took its item.
_PUT_DONE = _Marker("put done")

#: Failed non-blocking acquires in a row by one greenlet before the semaphore yields.
_SPIN_LIMIT = 1000


def _queue_wake(rec: list, value, current_hub) -> None:
    """Queue ``rec[0](value)`` on the loop of the hub that owns *rec*; never switches."""
    func = rec[0]
    hub = rec[1]
    rec[0] = None
    if hub is current_hub:
        entry = [func, (value,)]
        hub.loop._ready.append(entry)
        rec[2] = entry
    else:
        loop = hub.loop
        if loop is None:  # that hub was destroyed: nobody is left to wake
            return
        rec[2] = loop.run_callback_threadsafe(func, value)


def _cancel_wake(rec: list):
    """A woken waiter leaves early: cancel the queued wake-up; return the value it carried."""
    wake = rec[2]
    if type(wake) is list:
        value = wake[1][0]
        wake[0] = None
        return value
    if wake is not None and not isinstance(wake, _Marker):
        value = wake.args[0] if wake.args else None
        wake.stop()
        return value
    return None


# The native lock even when this module is first imported after monkey patching.
_allocate_native_lock = get_original("_thread", "allocate_lock")


class _NativeWake:
    """What _queue_wake keeps for a native waiter's wake-up (see _cancel_wake)."""

    __slots__ = ("args",)

    def __init__(self, value) -> None:
        self.args = (value,)

    def stop(self) -> None:
        pass  # already delivered: a native waiter is woken at once


class _NativeWaiter:
    """A waiter in a thread without a hub: it blocks on a native lock. It stands in the
    waiter's entry where a hub would (``rec[1]``), and is its own "loop": _queue_wake's
    ``run_callback_threadsafe`` wakes it at once, from whichever thread."""

    __slots__ = ("lock",)

    def __init__(self) -> None:
        self.lock = _allocate_native_lock()
        self.lock.acquire()

    @property
    def loop(self) -> _NativeWaiter:
        return self

    def wake(self, _value) -> None:
        self.lock.release()

    def run_callback_threadsafe(self, func, value) -> _NativeWake:
        func(value)
        return _NativeWake(value)


def _blocking_error() -> BlockingSwitchOutError:
    return BlockingSwitchOutError("Impossible to call blocking function in the event loop callback")


def _park(hub, switch, timeout: float | None):
    """Switch to *hub* until woken; return the wake value or ``_TIMED_OUT``.

    The caller removes its entry, or gives back what it was handed, if this raises (a kill).
    """
    loop = hub.loop
    timer = None
    if timeout is not None:
        if isinstance(timeout, Timeout):
            # gevent accepts a Timeout wherever it accepts seconds: it is started (unless
            # already pending), raises its own exception in the waiter, and is cancelled when
            # the wait ends, however it ends.
            return _park_with_timeout(hub, timeout)
        timer = loop._timers.add(monotonic() + (timeout if timeout > 0 else 0.0), switch,
                                 (_TIMED_OUT,), True)
    threads = _thread_count()
    if threads:
        loop._add_ref()
    try:
        return _switch(hub)
    finally:
        if timer is not None:
            loop._timers.cancel(timer)
        if threads:
            loop._drop_ref()


def _park_with_timeout(hub, timeout: Timeout):
    # Returns _TIMED_OUT when *timeout* raises itself; an exception it was given to raise
    # instead goes through. Callers that must raise the Timeout itself (queues, as gevent's
    # do) use _timed_out_error.
    timer = Timeout._start_new_or_dummy(timeout)
    try:
        return _park(hub, None, None)
    except Timeout as expired:
        if expired is not timer:
            raise
        return _TIMED_OUT
    finally:
        timer.cancel()


def _timed_out_error(timeout, default: type[BaseException]) -> BaseException:
    """What a wait that raises on timeout raises: the Timeout it was given, else *default*."""
    if isinstance(timeout, Timeout):
        return timeout
    return default()


def _current_hub_and_switch():
    """A queue's waiter (gevent.queue, Channel) starts here: its hub and its ``switch``."""
    current = getcurrent()
    hub = _threadlocal.hub
    if hub is None:
        hub = get_hub()
    if current is hub:
        raise _blocking_error()
    return hub, current.switch


def _leave(waiters: deque, rec: list):
    """A queue's waiter leaves (timeout, kill). Returns (still_queued, value it was handed)."""
    if rec[0] is not None:
        try:
            waiters.remove(rec)
            return True, None
        except ValueError:
            pass  # popped by a waker in another thread a moment ago
    return False, _cancel_wake(rec)


class _RawlinkDelivery:
    """A rawlink callback as it sits in ``_links``. Popped and queued, it still counts in
    ``linkcount()`` and can still be unlinked until it has run, as in gevent (whose notifier
    calls the links it finds when it runs)."""

    __slots__ = ("owner", "callback", "rec")

    def __init__(self, owner, callback) -> None:
        self.owner = owner
        self.callback = callback
        self.rec: list = []

    def __call__(self, value) -> None:
        pending = self.owner._rawlinks
        if pending is not None:
            try:
                pending.remove(self)
            except ValueError:
                pass  # unlinked from another thread while queued: its wake-up was cancelled
        owner = self.owner
        if owner._notifier is self.rec:
            owner._notifier = None  # see Event.set: the last queued wake-up has run
        self.callback(value)


def _unlink_rec(links, rec: list) -> bool:
    """Remove a waiter's entry; False if it was already woken (popped)."""
    if rec[0] is None:
        return False
    try:
        links.remove(rec)
    except ValueError:
        return False  # popped by a waker in another thread a moment ago
    return True


class _Linkable(AbstractLinkable):
    """AbstractLinkable whose wake-ups are queued by the state change itself (see above)."""

    __slots__ = ()

    def rawlink(self, callback) -> None:
        """Call ``callback(self)`` from the hub of the calling thread once this is ready."""
        if not callable(callback):
            raise TypeError(f"Expected callable: {callback!r}")
        hub = _threadlocal.hub
        if hub is None:
            hub = get_hub()
        delivery = _RawlinkDelivery(self, callback)
        rec = delivery.rec = [delivery, hub, _RAWLINK]
        pending = self._rawlinks
        if pending is None:
            pending = self._rawlinks = []
        pending.append(delivery)
        self._links.append(rec)
        self._check_and_notify()

    def unlink(self, callback) -> None:
        """Remove a callback added with ``rawlink``, even one whose call is queued but has not
        run yet; unknown callbacks are ignored."""
        pending = self._rawlinks
        if not pending:
            return
        for delivery in list(pending):
            if delivery.callback == callback:
                break
        else:
            return
        try:
            pending.remove(delivery)
        except ValueError:
            return  # delivered meanwhile (another thread)
        rec = delivery.rec
        if not _unlink_rec(self._links, rec):
            _cancel_wake(rec)  # popped and queued: stop the queued call
            if self._notifier is rec:
                self._notifier = None

    def linkcount(self) -> int:
        """How many waiters and callbacks have not been called yet."""
        count = len(self._links)
        pending = self._rawlinks
        if pending:
            # Callbacks popped from _links whose queued call has not run still count.
            count += sum(1 for delivery in pending if delivery.rec[0] is None)
        return count

    def _check_and_notify(self) -> None:
        if self._links and self.ready():
            self._notify()

    def _notify(self) -> None:
        """Wake every link (readiness that is not consumed, like an Event's)."""
        links = self._links
        current_hub = _threadlocal.hub
        while links:
            try:
                rec = links.popleft()
            except IndexError:  # emptied by another thread
                return
            _queue_wake(rec, self, current_hub)

    def _wait_watch(self, timeout: float | None) -> bool:
        """Wait until ready without taking anything. A switch point. False on timeout."""
        current = getcurrent()
        hub = _threadlocal.hub
        if hub is None:
            hub = get_hub()
        if current is hub:
            raise _blocking_error()
        switch = current.switch
        rec = [switch, hub, _WATCH]
        links = self._links
        links.append(rec)
        if self.ready():
            self._notify()
        try:
            result = _park(hub, switch, timeout)
        except BaseException:
            if not _unlink_rec(links, rec):
                _cancel_wake(rec)
            raise
        if result is _TIMED_OUT and _unlink_rec(links, rec):
            return False
        if result is _TIMED_OUT:
            _cancel_wake(rec)
        return True

    _wait_core = _wait_watch

    def _drop_links(self) -> None:
        self._links.clear()
        self._rawlinks = None

    def _at_fork_reinit(self) -> None:
        self._links.clear()
        self._rawlinks = None
        self.hub = None


class Semaphore(_Linkable):
    """A counter of permits: ``acquire`` takes one (waiting in FIFO order), ``release`` gives
    one back. It does not track which greenlet holds a permit.
    """

    __slots__ = ("_counter", "_spinner", "_spins")

    def __init__(self, value: int = 1, hub=None) -> None:
        if value < 0:
            raise ValueError("semaphore initial value must be >= 0")
        _Linkable.__init__(self, hub)
        self._counter = value
        self._spinner = 0  # id() of the greenlet whose acquire(blocking=False) failed last
        self._spins = 0

    @property
    def counter(self) -> int:
        """The permits available now. Assigning it (celery grows pools so) wakes waiters."""
        return self._counter

    @counter.setter
    def counter(self, value: int) -> None:
        self._counter = value
        if value > 0 and self._links:
            self._notify()

    def __repr__(self) -> str:
        return (f"<{type(self).__name__} at {id(self):#x} counter={self._counter} "
                f"_links[{len(self._links)}]>")

    def __str__(self) -> str:
        return f"<{type(self).__name__} counter={self._counter} _links[{len(self._links)}]>"

    def ready(self) -> bool:
        """True if ``acquire`` would not block."""
        return self._counter > 0

    def locked(self) -> bool:
        """True if ``acquire`` would block."""
        return self._counter <= 0

    def _notify(self) -> None:
        # Permits go to acquirers in FIFO order; watchers and callbacks only see readiness.
        links = self._links
        current_hub = _threadlocal.hub
        while links and self._counter > 0:
            try:
                rec = links.popleft()
            except IndexError:
                return
            if rec[2] is None:
                self._counter -= 1
            hub = rec[1]
            if hub is current_hub:  # _queue_wake, inlined: this is the hot path
                entry = [rec[0], (self,)]
                rec[0] = None
                # A waiter's hub is never None, so one equal to current_hub is a Hub; mypy
                # narrows by the other operand's declared type (Hub | None).
                hub.loop._ready.append(entry)  # type: ignore[union-attr]
                rec[2] = entry
            else:
                _queue_wake(rec, self, current_hub)

    def release(self) -> int:
        """Give back a permit and wake the first waiter. Never blocks."""
        self._counter += 1
        if self._links:
            self._release_wakes()
        return self._counter

    def _release_wakes(self) -> None:
        # A greenlet run by its thread's hub will switch back to that hub soon: let a callback
        # there hand the permit over, so a releaser that re-acquires at once does not pay a
        # switch for it (gevent's order). Anyone else (a thread's main greenlet, which may never
        # run the loop again) hands it over now.
        if self._notifier is None:
            hub = _threadlocal.hub
            if hub is not None and getcurrent().parent is hub:
                entry = [self._notify_later, ()]
                self._notifier = entry
                hub.loop._ready.append(entry)
            else:
                self._notify()

    def _notify_later(self) -> None:
        # A loop callback, so this runs in the hub: as gevent's notifier does, switch straight
        # into each waiter of this hub that gets a permit, in FIFO order, and go on with the
        # next when it switches back. A woken waiter then runs before whatever was queued
        # after the release (a greenlet spawned by the releaser, say): fairness (gevent 1487).
        self._notifier = None
        links = self._links
        hub = _threadlocal.hub
        while links and self._counter > 0:
            try:
                rec = links.popleft()
            except IndexError:
                return
            kind = rec[2]
            if kind is None:
                self._counter -= 1
            if rec[1] is hub and kind is not _RAWLINK:
                switch = rec[0]
                rec[0] = rec[2] = None  # woken, with nothing queued to cancel
                switch(self)
            else:
                _queue_wake(rec, self, hub)

    def acquire(self, blocking: bool = True, timeout: float | None = None) -> bool:
        """Take a permit. A switch point when none is free and *blocking* is true.

        Returns True once acquired; False at once if not *blocking*, or after *timeout*
        seconds.
        """
        if self._counter > 0:
            self._counter -= 1
            return True
        if not blocking:
            return self._failed_try()
        return self._acquire_slow(timeout)

    def _failed_try(self) -> bool:
        # A greenlet spinning on acquire(blocking=False) would keep the releaser from ever
        # running (gevent issue 1464). gevent's lock yields at every failed try; a semaphore
        # yields at every _SPIN_LIMIT-th failed try of one greenlet (no other greenlet's in
        # between), so a few tries practically never switch.
        current = getcurrent()
        spinner = id(current)  # not the greenlet itself: no reference kept
        if self._spinner != spinner:
            self._spinner = spinner
            self._spins = 1
            return False
        spins = self._spins + 1
        if spins < _SPIN_LIMIT:
            self._spins = spins
            return False
        self._spins = 0
        hub = _threadlocal.hub
        if hub is not None and current is not hub:
            _sleep(0)
        return False

    def _acquire_slow(self, timeout: float | None) -> bool:
        current = getcurrent()
        hub = _threadlocal.hub
        if hub is None:
            if _thread_count() and not isinstance(timeout, Timeout):
                # No hub here, so no greenlet of this thread can release: only another
                # thread can. Wait natively, as gevent does, rather than create a hub.
                return self._acquire_native(timeout)
            hub = get_hub()
        if current is hub:
            raise _blocking_error()
        switch = current.switch
        rec = [switch, hub, None]
        links = self._links
        links.append(rec)
        if self._counter > 0:
            # Released between the check and the append (another thread): wake in order.
            self._notify()
        try:
            if timeout is None and not _thread_count():
                result = _switch(hub)  # _park, inlined for the common case
            else:
                result = _park(hub, switch, timeout)
        except BaseException:
            if not _unlink_rec(links, rec):
                # We were handed a permit but are leaving: pass it on.
                _cancel_wake(rec)
                self.release()
            raise
        if result is _TIMED_OUT:
            if _unlink_rec(links, rec):
                return False
            _cancel_wake(rec)  # granted just as the timer fired: keep the permit
        return True

    def _acquire_native(self, timeout: float | None) -> bool:
        waiter = _NativeWaiter()
        rec = [waiter.wake, waiter, None]
        links = self._links
        links.append(rec)
        if self._counter > 0:
            self._notify()
        try:
            woken = waiter.lock.acquire(True, -1 if timeout is None else max(timeout, 0.0))
        except BaseException:
            if not _unlink_rec(links, rec):
                self.release()  # handed a permit while leaving: pass it on
            raise
        if not woken and _unlink_rec(links, rec):
            return False
        return True  # woken (perhaps just as the time ran out): the permit is ours

    def wait(self, timeout: float | None = None) -> int:
        """Wait until a permit is free, without taking it. A switch point.

        Returns the counter (0 if *timeout* passed first).
        """
        if self._counter > 0:
            return self._counter
        self._wait_watch(timeout)
        return self._counter

    def __enter__(self) -> Self:
        if self._counter > 0:
            self._counter -= 1
        else:
            self._acquire_slow(None)
        return self

    def __exit__(self, typ, value, tb) -> None:
        # release(), inlined: leaving a ``with`` block is the hottest path there is.
        self._counter += 1
        if self._links and self._notifier is None:
            self._release_wakes()

    def _at_fork_reinit(self) -> None:
        _Linkable._at_fork_reinit(self)


class BoundedSemaphore(Semaphore):
    """A Semaphore that refuses to be released more often than it was acquired."""

    __slots__ = ("_initial_value",)

    #: Raised by an over-release.
    _OVER_RELEASE_ERROR: type[Exception] = ValueError

    def __init__(self, value: int = 1, hub=None) -> None:
        Semaphore.__init__(self, value, hub)
        self._initial_value = value

    def release(self) -> int:
        """Give back a permit; raises ValueError if all permits are already free."""
        if self._counter >= self._initial_value:
            raise self._OVER_RELEASE_ERROR("Semaphore released too many times")
        self._counter += 1
        if self._links:
            self._release_wakes()
        return self._counter

    def __exit__(self, typ, value, tb) -> None:
        self.release()

    def _at_fork_reinit(self) -> None:
        Semaphore._at_fork_reinit(self)
        self._counter = self._initial_value


class DummySemaphore:
    """A Semaphore that never blocks: for code that takes a semaphore which may be unbounded."""

    def __init__(self, value=None) -> None:
        self.value = value

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>"

    @property
    def counter(self) -> int:
        return 1

    def locked(self) -> bool:
        return False

    def ready(self) -> bool:
        return True

    def release(self) -> None:
        pass

    def rawlink(self, callback) -> None:
        # Always ready: call back at once, from the hub, like a released semaphore would.
        get_hub().loop.run_callback(callback, self)

    def unlink(self, callback) -> None:
        pass

    def wait(self, timeout: float | None = None) -> int:
        return 1

    def acquire(self, *args, **kwargs) -> bool:
        return True

    def __enter__(self) -> Self:
        return self

    def __exit__(self, typ, value, tb) -> None:
        pass


del sys
