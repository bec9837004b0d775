# Theory of operation: the loop, the microkernel every hub runs.
#
# Owns: a deque of ready callbacks (entries are two-item lists ``[func, args]``, or
# ``[greenlet, None]`` for "switch into it" with no bound method made; cancelling either is
# ``entry[0] = None``; or a Greenlet itself, switched into while its ``_start_event`` is still
# ``QUEUED``, as Greenlet.start queues it), the timer heap, one readiness backend with a table of
# fd -> state (the active io watchers; two slots where a socket's wait parks its greenlet
# without any watcher object, see _socket_wait._slot_wait; and one direct handler, gevent.asyncio's
# selector, see _direct_set), a wake-up fd for other threads, and the prepare/check/idle/fork lists.
#
# One iteration: (1) run ready callbacks FIFO, including ones queued meanwhile, until none are left
# or the time budget is spent; (2) fire due timers; (3) poll the backend, without blocking if
# callbacks remain, otherwise until the next timer; hand each ready fd straight to its watchers.
# Entries queued with ``_after_poll`` join the ready callbacks right after the poll's hand-out
# and the timers that came due (gevent.asyncio's iterations start so); the poll does not block
# while any wait.
# Timers and callbacks share one budget between polls: the callbacks after a batch of timers get
# what the timers left of it (at least one checked batch), so under load a timer waits about one
# budget, not a budget plus the previous timers' time.
# The loop returns from ``run`` when nothing that keeps it alive is left (no callbacks, no ref'd
# timers, io or other watchers) or when ``break_()`` was called.
#
# Invariants: the loop never switches greenlets itself; callbacks do (usually ``glet.switch``).
# Registration with the backend is lazy: a stopped io watcher leaves the fd registered, and the
# mask is narrowed only when the fd reports a direction nobody wants (a direct handler's change
# is applied at once, as a selector's). Only
# ``run_callback_threadsafe`` and ``Wakeup.wake`` may be used from other threads. This module
# imports nothing from gevent.

from __future__ import annotations

import sys
import traceback
from collections import deque
from threading import get_ident
from time import monotonic

from greenlet import greenlet as _greenlet

from . import _fork
from ._io_common import READ, WRITE, make_backend
from ._timers import TimerHeap
from ._wakeup import Wakeup

__all__ = ["Loop", "Callback"]

#: How long one batch of ready callbacks may run before timers and I/O get a turn.
CALLBACK_BUDGET = 0.005
_BUDGET_CHECK_MASK = 63
_switch = _greenlet.switch


class _Marker:
    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


#: A Greenlet's ``_start_event`` while the greenlet itself waits in the ready queue.
QUEUED = _Marker("queued")
_raw_switch = _greenlet.switch


class _FdState:
    __slots__ = ("watchers", "registered", "slots", "direct", "direct_events")

    def __init__(self) -> None:
        self.watchers: list = []
        # The mask the backend has for this fd; -1 means "unknown, register forgivingly".
        self.registered = 0
        # The socket fast wait: ``slots[READ]`` / ``slots[WRITE]`` hold the greenlet parked
        # until the fd is readable / writable (no watcher object); ``_dispatch`` switches to it.
        self.slots: list = [None, None, None]
        # gevent.asyncio's fast path: ``direct(revents)`` is called for ``direct_events``
        # (its selector's registration for the fd; see ``Loop._direct_set``).
        self.direct = None
        self.direct_events = 0

    def wanted(self) -> int:
        slots = self.slots
        mask = (READ if slots[READ] is not None else 0) | (WRITE if slots[WRITE] is not None else 0)
        mask |= self.direct_events
        for w in self.watchers:
            mask |= w.events
        return mask

    def idle(self) -> bool:
        """Nobody waits on the fd (no started watcher, no parked greenlet, no direct handler)."""
        slots = self.slots
        return (not self.watchers and slots[READ] is None and slots[WRITE] is None
                and self.direct is None)


class Callback:
    """A handle for a callback queued with ``loop.run_callback``: ``stop()`` cancels it.

    The loop calls the handle, which clears itself first, so ``pending`` turns false
    once the callback has run (or was stopped). Internal hot paths queue bare entries instead.
    """

    __slots__ = ("callback", "args", "_func")

    def __init__(self, callback, args: tuple) -> None:
        self.callback = callback
        self.args = args
        self._func = callback  # for error reports, after callback was cleared

    @property
    def pending(self) -> bool:
        return self.callback is not None

    def stop(self) -> None:
        self.callback = None
        self.args = ()

    close = stop

    def __bool__(self) -> bool:
        return self.callback is not None

    def __call__(self) -> None:
        callback = self.callback
        if callback is not None:
            args = self.args
            self.callback = None
            self.args = ()
            callback(*args)

    def __repr__(self) -> str:
        return f"<callback {self.callback!r} pending={self.pending}>"


class Loop:
    """An event loop: ready callbacks, timers and fd readiness on one backend."""

    #: Bumped once per iteration, right after polling; gevent's monitor thread samples it.
    _iterations = 0

    def __init__(self, backend: str | None = None, default: bool = False) -> None:
        self._backend = make_backend(backend)
        self.default = default
        self._ready: deque = deque()
        self._timers = TimerHeap()
        self._fds: dict[int, _FdState] = {}
        self._io_refs = 0
        self._other_refs = 0
        self._threadsafe: deque = deque()
        # Entries that join the ready callbacks once the next poll has handed out I/O (each of
        # gevent.asyncio's iterations starts so, as asyncio's do: see _asyncio_loop). That
        # poll does not block while any wait.
        self._after_poll: deque = deque()
        self._polling = False
        self._stopping = False
        self._running = False
        self._destroyed = False
        self._prepare: list = []
        self._check: list = []
        self._idle: list = []
        self._fork_watchers: list = []
        self._now = monotonic()
        # When the timers of this cycle began to fire: the next batch of callbacks counts its
        # budget from there, so that timers and callbacks share one CALLBACK_BUDGET between
        # polls (None: the batch starts a budget of its own).
        self._cycle_started: float | None = None
        self.thread_ident = get_ident()
        #: Set by the hub: an object with ``handle_error(context, type, value, tb)``.
        self.error_handler = None
        #: Exceptions that the error handler raises on purpose to end ``run()`` (the hub's
        #: HubDestroyed). Anything else it raises is printed and the loop goes on.
        self.escaping_errors: tuple = ()
        self._wakeup = Wakeup()
        self._register_wakeup()
        _fork.track(self)

    # -- introspection ---------------------------------------------------------------------

    @property
    def backend(self) -> str:
        return self._backend.name

    @property
    def backend_int(self) -> int:
        return 0

    @property
    def fileno(self) -> int:
        return self._backend.fileno()

    @property
    def pendingcnt(self) -> int:
        return len(self._ready) + len(self._after_poll)

    @property
    def activecnt(self) -> int:
        return self._timers.live_refs + self._io_refs + self._other_refs

    def alive(self) -> bool:
        """True while something keeps the loop running."""
        return bool(
            self._ready
            or self._after_poll
            or self._threadsafe
            or self._timers.live_refs
            or self._io_refs
            or self._other_refs
        )

    def now(self) -> float:
        """The time the current iteration started (monotonic seconds)."""
        return self._now

    def update_now(self) -> None:
        self._now = monotonic()

    update = update_now

    def verify(self) -> None:
        pass

    # -- callbacks -------------------------------------------------------------------------

    def run_callback(self, func, *args) -> Callback:
        """Queue ``func(*args)`` to run in the loop; the handle's ``stop()`` cancels it."""
        handle = Callback(func, args)
        self._ready.append([handle, ()])
        return handle

    def run_callback_threadsafe(self, func, *args) -> Callback:
        """Like ``run_callback``, from any thread; wakes the loop if it is waiting for I/O."""
        handle = Callback(func, args)
        self._threadsafe.append([handle, ()])
        # The loop sets _polling before it looks at _threadsafe and polls: if it is not
        # polling now, it will see this entry before it next blocks (the GIL orders both).
        if self._polling:
            self._wakeup.wake()
        return handle

    # -- timers ----------------------------------------------------------------------------

    def _timer_at(self, deadline: float, func, args: tuple, ref: bool = True) -> list:
        return self._timers.add(deadline, func, args, ref)

    def _timer_cancel(self, entry: list) -> None:
        self._timers.cancel(entry)

    # -- io --------------------------------------------------------------------------------

    def _io_created(self, fd: int) -> None:
        # A new watcher for an fd nobody watches now: the number may have been closed and
        # reused behind our back, so the backend's idea of it is unknown.
        state = self._fds.get(fd)
        if state is not None and state.idle():
            state.registered = -1

    def _slot_state(self, fd: int, which: int) -> _FdState:
        """The state of *fd*, registered with the backend for *which* (READ or WRITE): what
        a fast wait needs before it parks its greenlet in ``slots[which]``."""
        state = self._fds.get(fd)
        if state is None:
            state = self._fds[fd] = _FdState()
        registered = state.registered
        if registered < 0:
            mask = state.wanted() | which
            self._backend.register(fd, mask)
            state.registered = mask
        elif registered & which != which:
            mask = registered | which
            if registered:
                self._backend.modify(fd, mask)
            else:
                self._backend.register(fd, mask)
            state.registered = mask
        return state

    def _io_start(self, watcher) -> None:
        fd = watcher.fd
        state = self._fds.get(fd)
        if state is None:
            state = self._fds[fd] = _FdState()
        state.watchers.append(watcher)
        if watcher._ref:
            self._io_refs += 1
        need = watcher.events
        registered = state.registered
        if registered < 0:
            try:
                self._backend.register(fd, state.wanted())
            except BaseException:
                self._io_stop(watcher)
                raise
            state.registered = state.wanted()
        elif registered & need != need:
            mask = registered | need
            try:
                if registered:
                    self._backend.modify(fd, mask)
                else:
                    self._backend.register(fd, mask)
            except BaseException:
                self._io_stop(watcher)
                raise
            state.registered = mask

    def _io_stop(self, watcher) -> None:
        state = self._fds.get(watcher.fd)
        if state is None:
            return
        try:
            state.watchers.remove(watcher)
        except ValueError:
            return
        if watcher._ref:
            self._io_refs -= 1

    def _direct_set(self, fd: int, handler, events: int, first: bool = False) -> None:
        """Have the poll call ``handler(revents)`` while *fd* is ready for *events* (0: stop),
        with no watcher object and the registration kept exact (as a selector's is). *first*:
        a new registration, so the number may have been reused (see ``_io_created``)."""
        fds = self._fds
        state = fds.get(fd)
        if state is None:
            if not events:
                return
            state = fds[fd] = _FdState()
        elif first and state.idle():
            state.registered = -1
        old = (state.direct, state.direct_events)
        state.direct, state.direct_events = (handler if events else None), events
        registered, wanted = state.registered, state.wanted()
        if registered == wanted:
            return
        try:
            if not wanted:
                self._backend.unregister(fd)
            elif registered > 0:
                self._backend.modify(fd, wanted)
            else:
                self._backend.register(fd, wanted)
        except BaseException:
            state.direct, state.direct_events = old
            raise
        state.registered = wanted
        if state.idle():
            del fds[fd]

    def _poll_direct(self) -> bool:
        """``_direct_only`` of what is ready now (no wait)."""
        events = self._backend.poll_now()
        return bool(events) and self._direct_only(events)

    def _direct_only(self, events: list) -> bool:
        """For a gevent.asyncio batch between its iterations, maybe outside the hub: when
        every fd in *events* (a ``poll_now()``) has only a direct handler, hand each its events
        here and return False; when one needs this loop's own dispatch (a parked greenlet, a
        watcher), hand nothing and return True: the loop's next poll sees it all again
        (level-triggered). Direct handlers never switch greenlets."""
        fds = self._fds
        for fd, _raw in events:
            state = fds.get(fd)
            if (state is None or state.direct is None or state.watchers
                    or state.slots[READ] is not None or state.slots[WRITE] is not None):
                return True
        table = self._backend.events_table
        mask = self._backend.events_mask
        for fd, raw in events:
            state = fds.get(fd)
            direct = None if state is None else state.direct  # an earlier handler may stop it
            if direct is not None:
                try:
                    direct(table[raw & mask])
                except BaseException:
                    self._handle_error(direct, *sys.exc_info())
        return False

    def closing_fd(self, fd: int) -> bool:
        """Forget *fd* before it is closed, so a reused number starts clean.

        Returns True if watchers were still active on it (their owners should be woken).
        """
        state = self._fds.pop(fd, None)
        if state is None:
            return False
        if state.registered:
            self._backend.unregister(fd)
        if state.watchers:
            # Keep the active watchers' bookkeeping consistent; they are woken by their owners.
            self._fds[fd] = _FdState()
            new = self._fds[fd]
            new.watchers = state.watchers
            new.registered = 0
            return True
        return False

    # -- other watchers --------------------------------------------------------------------

    def _add_ref(self) -> None:
        self._other_refs += 1

    def _drop_ref(self) -> None:
        self._other_refs -= 1

    # -- running ---------------------------------------------------------------------------

    def break_(self, how: int = 0) -> None:
        """Make ``run()`` return after the current callback."""
        self._stopping = True

    def run(self, nowait: bool = False, once: bool = False) -> None:
        """Run until nothing keeps the loop alive, ``break_()`` is called, or one iteration
        when *nowait* or *once* is set."""
        if self._destroyed:
            raise RuntimeError("This loop has been destroyed")
        self._stopping = False
        self._running = True
        self._cycle_started = None  # time passed since the last run: no budget is carried over
        try:
            while True:
                self._iterate(nowait)
                if once or nowait or self._stopping:
                    break
                if not self.alive():
                    break
        finally:
            self._running = False

    def _iterate(self, nowait: bool) -> None:
        ready = self._ready
        after_poll = self._after_poll
        if self._threadsafe:
            self._drain_threadsafe()
        if ready:
            self._run_ready()
        backlog = bool(ready)  # the budget ran out before the callbacks did
        timers = self._timers
        heap = timers.heap
        if heap:
            now = self._now = monotonic()
            if heap[0][0] <= now:
                self._cycle_started = now
                self._fire_timers(now)
                if ready and not backlog:
                    # What the timers' greenlets queued (a spawn, a wake-up) runs before the
                    # next poll hands out I/O, as with libev: otherwise a greenlet woken by a
                    # timer could see its own I/O complete before a greenlet it spawned ran.
                    # Not with a backlog: a second budget per iteration would double how late
                    # timers fire under load (the next iteration starts with them anyway).
                    self._run_ready()
        if self._stopping:
            return
        if self._idle and not ready and not after_poll:
            for w in list(self._idle):
                self._invoke(w)
            if ready:
                # What the greenlets woken by idle watchers queued runs before the check
                # watchers, as with libev (gevent 1520: Event.wait() after set()).
                self._run_ready()
        if self._prepare:
            for w in list(self._prepare):
                self._invoke(w)
        self._polling = True
        try:
            # An idle watcher started by a greenlet that the idle pass above switched into
            # must run on the next iteration: don't block either.
            if (ready or after_poll or self._threadsafe or nowait or self._stopping or self._idle
                    or not (timers.live_refs or self._io_refs or self._other_refs)):
                # Work is waiting, or nothing keeps the loop alive: just look, don't block.
                timeout = 0.0
            elif heap:
                deadline = timers.next_deadline()
                if deadline is not None:
                    timeout = deadline - monotonic()
                    if timeout < 0.0:
                        timeout = 0.0
                else:
                    timeout = -1.0
            else:
                timeout = -1.0
            if timeout:
                self._cycle_started = None  # this poll may wait: the next batch starts afresh
            try:
                events = self._backend.poll(timeout)
            except InterruptedError:
                events = []
            except BaseException:
                # A Python signal handler raised while we waited (it runs inside the poll
                # call; SIGINT's default handler raises KeyboardInterrupt): hand it to the
                # error path, which raises it in the main greenlet, instead of letting it end
                # the loop and kill the hub.
                events = []
                self._handle_error(None, *sys.exc_info())
        finally:
            self._polling = False
            self._iterations += 1
        if events:
            self._dispatch(events)
        if after_poll:
            # A gevent.asyncio batch: timers that came due meanwhile fire first, as they do
            # between two of asyncio's iterations, even when its last batch ran after this
            # iteration's timers.
            if heap:
                now = self._now = monotonic()
                if heap[0][0] <= now:
                    self._cycle_started = now
                    self._fire_timers(now)
            ready.extend(after_poll)
            after_poll.clear()
        if self._check:
            for w in list(self._check):
                self._invoke(w)

    def _run_ready(self) -> None:
        ready = self._ready
        popleft = ready.popleft
        switch = _raw_switch
        queued = QUEUED
        list_ = list
        count = 0
        started = self._cycle_started
        if started is None:
            started = monotonic()
        else:
            self._cycle_started = None
        while ready:
            entry = popleft()
            if type(entry) is list_:
                func = entry[0]
                if func is None:
                    continue
                try:
                    args = entry[1]
                    if args is None:
                        func.switch()
                    else:
                        func(*args)
                except BaseException:
                    context = func._func if type(func) is Callback else func
                    self._handle_error(context, *sys.exc_info())
            elif entry._start_event is queued:  # a started Greenlet
                try:
                    switch(entry)
                except BaseException:
                    self._handle_error(entry, *sys.exc_info())
            else:
                continue  # a Greenlet killed before it ran
            count += 1
            if not count & _BUDGET_CHECK_MASK:
                if self._stopping or monotonic() - started > CALLBACK_BUDGET:
                    break

    def _drain_threadsafe(self) -> None:
        threadsafe = self._threadsafe
        append = self._ready.append
        while threadsafe:
            append(threadsafe.popleft())

    def _fire_timers(self, now: float) -> None:
        for entry in self._timers.pop_due(now):
            func = entry[2]
            if func is None:  # cancelled by an earlier timer's callback
                continue
            entry[2] = None
            try:
                func(*entry[3])
            except BaseException:
                self._handle_error(func, *sys.exc_info())

    def _dispatch(self, events: list) -> None:
        fds = self._fds
        backend = self._backend
        table = backend.events_table
        mask = backend.events_mask
        for fd, raw in events:
            revents = table[raw & mask]
            state = fds.get(fd)
            if state is None:
                backend.unregister(fd)
                continue
            slots = state.slots
            direct = state.direct
            if direct is None:
                matched = 0
            else:
                matched = state.direct_events
                try:
                    direct(revents)
                except BaseException:
                    self._handle_error(direct, *sys.exc_info())
                if not state.watchers and slots[READ] is None and slots[WRITE] is None:
                    continue  # registered exactly for the handler (see _direct_set)
            if revents & READ:
                waiter = slots[READ]
                if waiter is not None:
                    slots[READ] = None
                    matched = READ
                    try:
                        _switch(waiter)
                    except BaseException:
                        self._handle_error(waiter, *sys.exc_info())
            if revents & WRITE:
                waiter = slots[WRITE]
                if waiter is not None:
                    slots[WRITE] = None
                    matched |= WRITE
                    try:
                        _switch(waiter)
                    except BaseException:
                        self._handle_error(waiter, *sys.exc_info())
            watchers = state.watchers
            if watchers:
                for w in (watchers if len(watchers) == 1 else list(watchers)):
                    wanted = w.events & revents
                    if wanted and w._active:
                        matched |= wanted
                        try:
                            w._fire(revents)
                        except BaseException:
                            self._handle_error(w.callback, *sys.exc_info())
            registered = state.registered
            if registered > 0 and revents & registered & ~matched:
                # A direction fired that no watcher wanted: narrow the registration (lazily,
                # here, instead of an epoll_ctl on every watcher stop).
                state = fds.get(fd)  # a callback may have replaced or dropped it (closing_fd)
                if state is None or state.registered <= 0:
                    continue
                registered = state.registered
                unwanted = registered & ~state.wanted()
                if unwanted & revents:
                    wanted = registered & ~unwanted
                    if wanted:
                        self._backend.modify(fd, wanted)
                    else:
                        self._backend.unregister(fd)
                        if state.idle():
                            del fds[fd]
                    state.registered = wanted

    def _invoke(self, watcher) -> None:
        try:
            watcher._fire()
        except BaseException:
            self._handle_error(watcher.callback, *sys.exc_info())

    def _handle_error(self, context, tp, value, tb) -> None:
        handler = self.error_handler
        if handler is not None:
            try:
                handler.handle_error(context, tp, value, tb)
            except BaseException as error:
                if isinstance(error, self.escaping_errors):
                    raise
                # A (custom) handler that fails must not end the loop: every later wait
                # would return at once. Report its failure the way gevent does, and go on.
                self._report_handler_failure(error)
            return
        if issubclass(tp, (KeyboardInterrupt, SystemExit)):
            raise value
        traceback.print_exception(tp, value, tb)
        sys.stderr.write(f"{context!r} failed with {tp.__name__}\n")

    @staticmethod
    def _report_handler_failure(error: BaseException) -> None:
        try:
            traceback.print_exception(type(error), error, error.__traceback__)
        except BaseException:  # stderr is gone: nowhere left to report, and the loop goes on
            pass

    # -- wake-up, fork, teardown ----------------------------------------------------------

    def _register_wakeup(self) -> None:
        from ._watchers import io

        self._wakeup_watcher = io(self, self._wakeup.fileno(), READ, ref=False)
        self._wakeup_watcher.start(self._on_wakeup)

    def _on_wakeup(self) -> None:
        self._wakeup.drain()
        if self._threadsafe:
            self._drain_threadsafe()

    def reinit(self) -> None:
        """Rebuild the backend (gevent calls this after fork; ours happens automatically)."""

    def destroy(self) -> None:
        """Release the backend and wake-up fd. The loop cannot run afterwards."""
        if self._destroyed:
            return
        self._destroyed = True
        self._ready.clear()
        self._after_poll.clear()
        self._threadsafe.clear()
        self._timers.clear()
        self._fds.clear()
        self._io_refs = self._other_refs = 0
        try:
            self._backend.close()
        finally:
            self._wakeup.close()
        _fork.untrack(self)

    @property
    def destroyed(self) -> bool:
        return self._destroyed

    # Compatibility: names that gevent's users and tests reach.

    #: The finest timer resolution to count on, in seconds (poll timeouts are in milliseconds).
    approx_timer_resolution = 0.001

    @property
    def ptr(self) -> int | None:
        """gevent's address of the C loop: here a number that tells loops apart, None once
        the loop is destroyed."""
        return None if self._destroyed else id(self._backend)

    # -- the public watcher factories ------------------------------------------------------

    def io(self, fd: int, events: int, ref: bool = True, priority=None):
        from ._watchers import io

        return io(self, fd, events, ref, priority)

    def timer(self, after: float = 0.0, repeat: float = 0.0, ref: bool = True, priority=None):
        from ._watchers import timer

        return timer(self, after, repeat, ref, priority)

    def signal(self, signum: int, ref: bool = True, priority=None):
        from ._watchers import signal

        return signal(self, signum, ref, priority)

    def async_(self, ref: bool = True, priority=None):
        from ._watchers import async_

        return async_(self, ref, priority)

    def child(self, pid: int, trace: int = 0, ref: bool = True):
        from ._watchers import child

        return child(self, pid, trace, ref)

    def stat(self, path, interval: float = 0.0, ref: bool = True, priority=None):
        from ._watchers import stat

        return stat(self, path, interval, ref, priority)

    def idle(self, ref: bool = True, priority=None):
        from ._watchers import idle

        return idle(self, ref, priority)

    def prepare(self, ref: bool = True, priority=None):
        from ._watchers import prepare

        return prepare(self, ref, priority)

    def check(self, ref: bool = True, priority=None):
        from ._watchers import check

        return check(self, ref, priority)

    def fork(self, ref: bool = True, priority=None):
        from ._watchers import fork

        return fork(self, ref, priority)

    def install_sigchld(self) -> None:
        """Accepted for compatibility: child watching needs no global SIGCHLD handler here."""

    def reset_sigchld(self) -> None:
        """Accepted for compatibility."""

    # -- debugging -------------------------------------------------------------------------

    def describe_watchers(self) -> list[str]:
        """Human-readable lines naming the watchers that are still active."""
        from ._describe import describe_watchers

        return describe_watchers(self)

    def __repr__(self) -> str:
        return (
            f"<{type(self).__module__}.Loop at {id(self):#x} backend={self.backend} "
            f"default={self.default} ready={len(self._ready)} timers={len(self._timers)} "
            f"fds={len(self._fds)}>"
        )


__all__ += ["READ", "WRITE"]
