"""The asyncio event loop that runs on a gevent hub (see :mod:`gevent.asyncio`).

Why this shape: ``EventLoop`` subclasses asyncio's own selector event loop, so every transport,
protocol, stream, server, TLS, datagram, Unix-socket, pipe and ``sock_*`` path is asyncio's own
code and behaves exactly as asyncio's loops do. What changes is *where the waiting happens*:

- the "selector" (``_asyncio_selector.HubSelector``) is made of the hub's io watchers; a ready fd
  queues its reader/writer Handle directly, so the hub's poll is the only poll;
- ``call_at``/``call_later`` put the TimerHandle in the hub's timer heap (no second heap);
- ready handles run in batches inside a runner greenlet (``_asyncio_runner.py``), scheduled as
  one hub callback per batch: a busy asyncio program costs one pair of greenlet switches per
  batch and no system call, and greenlets and tasks take turns in one FIFO;
- ``run_forever`` just parks the calling greenlet until ``stop()``; signal handlers, child
  processes and the default executor use the hub's signal and child watchers and thread pool.

Several EventLoops may live on one hub (``asyncio.run`` in many greenlets at once makes one
each); each processes its handles only while someone runs it (``run_forever``,
``run_until_complete`` or ``gevent.asyncio.await_``), as asyncio's loops do.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
import errno
import logging
import os
import sys
from asyncio import base_events, coroutines, events, tasks
from asyncio import unix_events as _unix_events
from time import monotonic, perf_counter
from typing import Any

from greenlet import getcurrent
from greenlet import greenlet as RawGreenlet

from . import _asyncio_runner as _runner
from ._asyncio_selector import HubSelector
from ._core._loop import CALLBACK_BUDGET
from .hub import _threadlocal, get_hub

__all__ = ["EventLoop"]

logger = logging.getLogger("asyncio")

_raw_switch = RawGreenlet.switch
_get_running_loop = events._get_running_loop
_set_running_loop = events._set_running_loop
_Handle = events.Handle
_new_handle = object.__new__
_copy_context = contextvars.copy_context
# call_soon fills in a Handle's slots itself, sparing the two calls (__init__, get_debug) that
# asyncio's constructor makes for every callback: only while Handle has the slots it has had
# from 3.10 to 3.13 (tested), and never in debug mode, where the constructor records the stack.
_HANDLE_SLOTS_KNOWN = set(getattr(_Handle, "__slots__", ())) == {
    "_callback", "_args", "_cancelled", "_loop", "_source_traceback", "_repr", "__weakref__",
    "_context",
}
_get_asyncgen_hooks = sys.get_asyncgen_hooks
_set_asyncgen_hooks = sys.set_asyncgen_hooks
_format_handle = getattr(base_events, "_format_handle")  # noqa: B009 (not in the stubs)


class _Sentinel:
    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"<{self.name}>"


_RUN = _Sentinel("run a batch")
_BATCH_DONE = _Sentinel("batch done")
_WAKE = _Sentinel("loop stopped")
#: Stands for the batch entry while a runner is running batches: nothing needs scheduling.
_IN_BATCH = [None, ()]
_INLINE = _Sentinel("handles run in the hub")
_BUDGET = CALLBACK_BUDGET
_POLLED = (True,)


class _TimerHandle(events.TimerHandle):
    __slots__ = ("_entry",)


def _noop() -> None:
    pass


HUB_MESSAGE = (
    "{what} was called from the hub greenlet (inside a gevent loop callback), which must never "
    "block; call it from a greenlet (gevent.spawn) instead"
)


class EventLoop(asyncio.SelectorEventLoop):
    """An asyncio event loop whose waiting is done by the gevent hub of this thread."""

    # Our own state lives in slots, so that the instance dict holds only asyncio's ~24
    # attributes: past 30 keys CPython gives up the shared-key dict, and every attribute
    # lookup on the loop (get_debug(), _ready, ... on each Handle) takes the slow path.
    __slots__ = (
        "_green_tasks", "_hub", "_hub_loop", "_hub_ready", "_hub_after_poll", "_hub_timers",
        "_drivers",
        "_active", "_background", "_owner", "_owner_driving", "_batch_entry", "_runner",
        "_runner_saved", "_keepalive", "_signal_watchers", "_child_watchers", "_pool_jobs",
    )

    # What we use of asyncio's own loop classes (not in their type stubs).
    _ready: Any
    _closed: bool
    _stopping: bool
    _debug: bool
    _selector: Any
    _signal_handlers: dict
    _default_executor: Any
    _executor_shutdown_called: bool
    _internal_fds: int
    _coroutine_origin_tracking_enabled: bool
    _check_closed: Any
    _check_callback: Any
    _check_signal: Any
    _handle_signal: Any
    _set_coroutine_origin_tracking: Any
    _asyncgen_firstiter_hook: Any
    _asyncgen_finalizer_hook: Any
    _remove_reader: Any
    _remove_writer: Any
    _batch_entry: Any
    _owner: Any
    _runner: Any
    _runner_saved: Any
    _keepalive: Any

    def __init__(self, hub=None, *, green_tasks: bool = True) -> None:
        """A new loop on *hub* (default: this thread's). With ``green_tasks=False`` handles
        run in the hub greenlet itself: slightly faster, but a blocking gevent call inside a
        coroutine then fails (BlockingSwitchOutError) instead of suspending only its task."""
        self._green_tasks = green_tasks
        if hub is None:
            hub = get_hub()
        self._hub = hub
        hub_loop = self._hub_loop = hub.loop
        self._hub_ready = hub_loop._ready
        self._hub_after_poll = hub_loop._after_poll
        self._hub_timers = hub_loop._timers
        self._drivers = 0
        # Processes its handles: while driven, or always for the hub's own loop (get_loop()).
        self._active = False
        self._background = False
        self._owner = None
        self._owner_driving = False
        self._batch_entry = None
        self._runner = None
        self._runner_saved = (None, None)
        self._keepalive = None
        self._signal_watchers: dict = {}
        self._child_watchers: set = set()
        self._pool_jobs: set = set()
        super().__init__(selector=HubSelector(self))

    # -- running -------------------------------------------------------------------------------

    def is_running(self) -> bool:
        return self._drivers > 0

    def _check_running(self) -> None:
        running = _get_running_loop()
        if self._owner is not None or running is self:
            raise RuntimeError("This event loop is already running")
        if running is not None:
            raise RuntimeError("Cannot run the event loop while another loop is running")

    def _check_greenlet(self, what: str) -> None:
        if _threadlocal.hub is not self._hub:
            raise RuntimeError(
                f"{what}: this event loop belongs to the gevent hub of another thread; use "
                "asyncio.run_coroutine_threadsafe() or loop.call_soon_threadsafe() from here"
            )
        if getcurrent() is self._hub:
            raise RuntimeError(HUB_MESSAGE.format(what=what))

    def run_forever(self) -> None:
        """Run until ``stop()``: parks this greenlet while the hub runs the loop's handles."""
        self._check_closed()
        self._check_running()
        self._check_greenlet("run_forever()")
        hub = self._hub
        self._owner = getcurrent()
        self._owner_driving = True
        self._start_driving()
        try:
            if self._stopping and self._batch_entry is None:
                self._schedule_batch()
            while self._owner_driving:
                _raw_switch(hub)
        finally:
            if self._owner_driving:
                self._owner_driving = False
                self._stop_driving()
            self._owner = None
            self._stopping = False

    def run_until_complete(self, future):
        self._check_closed()
        try:
            self._check_greenlet("run_until_complete()")
        except RuntimeError:
            if coroutines.iscoroutine(future):
                future.close()  # refused before it ran: no "never awaited" warning on top
            raise
        if (self._owner is not None and _get_running_loop() is None
                and getcurrent() is not self._owner):
            # Another greenlet runs this loop: wait for the future alongside it.
            return self._wait_future(tasks.ensure_future(future, loop=self), None)
        return super().run_until_complete(future)

    def stop(self) -> None:
        self._stopping = True
        if self._active and self._batch_entry is None and not self._closed:
            self._schedule_batch()

    def _start_driving(self) -> None:
        """Someone waits on this loop: process handles and keep the hub alive."""
        self._drivers += 1
        if self._drivers == 1:
            keepalive = self._keepalive
            if keepalive is None:
                keepalive = self._keepalive = self._hub_loop.async_(ref=True)
            keepalive.start(_noop)
            if self._debug:
                self._set_coroutine_origin_tracking(True)
            self._activate()

    def _stop_driving(self) -> None:
        self._drivers -= 1
        if not self._drivers:
            if self._keepalive is not None:
                self._keepalive.stop()
            if self._coroutine_origin_tracking_enabled:
                self._set_coroutine_origin_tracking(False)
            self._active = self._background

    def _run_in_background(self) -> None:
        """Process handles whenever the hub runs, like greenlets, without keeping it alive."""
        self._background = True
        self._activate()

    def _activate(self) -> None:
        if not self._active and not self._closed:
            self._active = True
            self._selector.resume()
            if self._ready and self._batch_entry is None:
                self._schedule_batch()

    def _wait_future(self, future, timeout):
        """Block this greenlet (not the hub) until *future* is done, running the loop meanwhile.

        On a gevent Timeout or a kill, the future is cancelled and the exception propagates.
        """
        if future.done():
            return future.result()
        self._check_closed()
        hub = self._hub
        current = getcurrent()
        waiting = True

        def wake(_future):
            if waiting:
                self._hub_loop.run_callback(current.switch, _WAKE)

        future.add_done_callback(wake)
        self._start_driving()
        timer = None
        if timeout is not None:
            from .timeout import Timeout

            timer = Timeout._start_new_or_dummy(timeout)
        try:
            while not future.done():
                _raw_switch(hub)
        except BaseException:
            waiting = False
            future.remove_done_callback(wake)
            if not future.done():
                future.cancel()
                # Keep the loop going until the cancellation has been delivered.
                self._start_driving()
                future.add_done_callback(self._release_driver)
            raise
        finally:
            waiting = False
            if timer is not None:
                timer.cancel()
            self._stop_driving()
        return future.result()

    def _release_driver(self, _future) -> None:
        self._stop_driving()

    # -- batches -------------------------------------------------------------------------------

    def _schedule_batch(self, after_poll: bool = False) -> None:
        """Have the hub run a batch: now, in the order of its other callbacks, or with
        *after_poll* once its next poll has handed out the ready I/O (never blocking for it)."""
        if not self._active or self._closed:
            return
        if _threadlocal.hub is not self._hub:
            raise RuntimeError(
                "Non-thread-safe operation invoked on an event loop other than the current one: "
                "this loop belongs to the gevent hub of another thread; use "
                "loop.call_soon_threadsafe()"
            )
        if after_poll:
            entry = self._batch_entry = [self._run_batch, _POLLED]
            self._hub_after_poll.append(entry)
        else:
            entry = self._batch_entry = [self._run_batch, ()]
            self._hub_ready.append(entry)

    def _run_batch(self, polled: bool = False) -> None:
        # Each iteration of asyncio's loop starts with a look at the I/O; so does each batch.
        # Right after the hub's poll there is nothing more to see; otherwise the selector's
        # ready fds get their events now, and if another fd is ready the hub's next poll
        # hands it out first.
        if not polled:
            self._batch_entry = _IN_BATCH  # what the events make ready joins this batch
            if self._hub_loop._poll_direct():
                self._batch_entry = None
                self._schedule_batch(True)
                return
        self._batch_entry = None
        if not self._active:
            return
        if not self._green_tasks:
            self._run_inline()
            return
        runner = self._runner
        if runner is None:
            runner = self._runner = RawGreenlet(self._run_handles, self._hub)
        try:
            result = runner.switch(_RUN)
        except BaseException as exc:
            self._runner = None
            self._after_failure(exc)
            return
        if result is not _BATCH_DONE and self._runner is runner:
            # The runner blocked inside a handle: it now belongs to that handle.
            self._runner = None
            if self._batch_entry is _IN_BATCH:
                self._batch_entry = None
            saved_loop, saved_hooks = self._runner_saved
            _runner.hub_state(self._hub).detach(self, runner, saved_loop, saved_hooks)
            if self._ready and self._batch_entry is None:
                self._schedule_batch()

    def _run_inline(self) -> None:
        # green_tasks=False: handles run in the hub itself; a blocking call in one fails with
        # BlockingSwitchOutError instead of suspending its task.
        self._runner = _INLINE
        try:
            self._run_batches(_INLINE)
        except BaseException as exc:
            self._after_failure(exc)
        finally:
            self._runner = None

    def _after_failure(self, exc: BaseException) -> None:
        # SystemExit or KeyboardInterrupt escaped a handle: raise it where the loop is run.
        if self._batch_entry is _IN_BATCH:
            self._batch_entry = None
        owner = self._owner
        if owner is None:
            raise exc
        self._hub_loop.run_callback(owner.throw, exc)

    def _run_handles(self, value) -> None:
        # The runner greenlet's body: run batches each time the hub switches in.
        me = getcurrent()
        hub = self._hub
        while True:
            if value is _RUN:
                self._run_batches(me)
                if self._runner is not me:
                    return  # detached: the handle that blocked has returned
            value = _raw_switch(hub, _BATCH_DONE)

    def _run_batches(self, me) -> None:
        # Batches: the handles ready when a batch starts, as one iteration of asyncio's loop.
        # Keep going with the next batch while nothing else is waiting (no fd ready, no
        # greenlet or callback ready in the hub, no timer due), for at most the hub's callback
        # budget: a busy asyncio program pays the switch and the per-thread bookkeeping once
        # per budget, not once per iteration, and one non-blocking look at the I/O per
        # iteration, as asyncio's own loop does.
        ready = self._ready
        popleft = ready.popleft
        hub_ready = self._hub_ready
        hub_after_poll = self._hub_after_poll  # another loop's batch waits there
        heap = self._hub_timers.heap
        poll_now = self._hub_loop._backend.poll_now
        direct_only = self._hub_loop._direct_only
        after_poll = False
        self._batch_entry = _IN_BATCH
        saved = self._runner_saved = (_get_running_loop(), _get_asyncgen_hooks())
        _set_running_loop(self)
        _set_asyncgen_hooks(self._asyncgen_firstiter_hook, self._asyncgen_finalizer_hook)
        started = perf_counter()
        try:
            while True:
                ntodo = len(ready)
                if self._debug:
                    self._run_handles_debug(me, ntodo)
                else:
                    for _ in range(ntodo):
                        handle = popleft()
                        if not handle._cancelled:
                            handle._run()
                            if self._runner is not me:
                                break  # it blocked: this runner now belongs to its task
                    handle = None  # a parked runner must not keep it (and its task) alive
                if self._runner is not me:
                    break
                if self._stopping and self._owner_driving:
                    self._owner_driving = False
                    self._stop_driving()
                    self._hub_loop.run_callback(self._owner.switch, _WAKE)
                if not ready or not self._active:
                    break
                # The next iteration. As asyncio's own loop, look at the I/O first: the
                # selector's fds get their events here, in this greenlet; if another fd is
                # ready, or a timer is due, or the budget is spent, the next batch runs after
                # the hub's poll. Greenlets ready to run take turns with it.
                events = poll_now()
                if ((events and direct_only(events)) or hub_after_poll
                        or (heap and heap[0][0] <= monotonic())
                        or perf_counter() - started > _BUDGET):
                    after_poll = True
                    break
                if hub_ready:
                    break
        finally:
            if self._runner is me:
                _set_running_loop(saved[0])
                _set_asyncgen_hooks(*saved[1])
            else:
                _runner.hub_state(self._hub).finish(me)
        if self._runner is me:
            self._batch_entry = None
            if ready:
                self._schedule_batch(after_poll)

    def _run_handles_debug(self, me, ntodo: int) -> None:
        ready = self._ready
        while ntodo and self._runner is me:
            ntodo -= 1
            handle = ready.popleft()
            if handle._cancelled:
                continue
            t0 = self.time()
            handle._run()
            dt = self.time() - t0
            if dt >= self.slow_callback_duration:
                logger.warning("Executing %s took %.3f seconds", _format_handle(handle), dt)

    # -- callbacks and timers ------------------------------------------------------------------

    def call_soon(self, callback, *args, context=None):
        # asyncio's call_soon and _call_soon in one frame: the commonest call of a busy loop
        # (every task step and future callback comes through here).
        if self._closed:
            raise RuntimeError("Event loop is closed")
        if self._debug or not _HANDLE_SLOTS_KNOWN:
            if self._debug:
                self._check_thread()
                self._check_callback(callback, "call_soon")
            handle = _Handle(callback, args, self, context)
            if handle._source_traceback:
                del handle._source_traceback[-1]
        else:
            handle = _new_handle(_Handle)
            handle._context = _copy_context() if context is None else context
            handle._loop = self
            handle._callback = callback
            handle._args = args
            handle._cancelled = False
            handle._repr = None
            handle._source_traceback = None
        self._ready.append(handle)
        if self._batch_entry is None:
            self._schedule_batch()
        return handle

    def _call_soon(self, callback, args, context):
        # Only for code that calls it directly: our call_soon does this work inline.
        handle = _Handle(callback, args, self, context)
        if handle._source_traceback:
            del handle._source_traceback[-1]
        self._add_callback(handle)
        return handle

    def _add_callback(self, handle) -> None:
        if not handle._cancelled:
            self._ready.append(handle)
            if self._batch_entry is None:
                self._schedule_batch()

    def call_soon_threadsafe(self, callback, *args, context=None):
        self._check_closed()
        if self._debug:
            self._check_callback(callback, "call_soon_threadsafe")
        handle = _Handle(callback, args, self, context)
        if handle._source_traceback:
            del handle._source_traceback[-1]
        # A deque append is atomic: the handle keeps its FIFO place among call_soon's, as in
        # asyncio; only the batch has to be scheduled from the loop's own thread.
        self._ready.append(handle)
        if _threadlocal.hub is self._hub:
            if self._batch_entry is None:
                self._schedule_batch()
        else:
            self._hub_loop.run_callback_threadsafe(self._schedule_from_thread)
        return handle

    def _schedule_from_thread(self) -> None:
        if self._ready and self._batch_entry is None and not self._closed:
            self._schedule_batch()

    def _write_to_self(self) -> None:
        # Nothing to wake: handles are queued on the hub, which polls for us.
        pass

    def _make_self_pipe(self) -> None:
        # No self-pipe: the hub's wake-up fd plays its part (counted as our internal fd).
        self._ssock = self._csock = None
        self._internal_fds += 1

    def _close_self_pipe(self) -> None:
        self._internal_fds -= 1

    def call_at(self, when, callback, *args, context=None):
        if when is None:
            raise TypeError("when cannot be None")
        self._check_closed()
        if self._debug:
            self._check_thread()
            self._check_callback(callback, "call_at")
        if _threadlocal.hub is not self._hub:
            raise RuntimeError(
                "call_at()/call_later() invoked from another thread: this loop belongs to the "
                "gevent hub of another thread; use loop.call_soon_threadsafe()"
            )
        timer = _TimerHandle(when, callback, args, self, context)
        if timer._source_traceback:
            del timer._source_traceback[-1]
        timer._entry = self._hub_timers.add(when, self._timer_fired, (timer,), False)
        timer._scheduled = True
        return timer

    def _timer_fired(self, timer) -> None:
        timer._entry = None
        timer._scheduled = False
        if not timer._cancelled and not self._closed:
            self._ready.append(timer)
            if self._batch_entry is None:
                self._schedule_batch()

    def _timer_handle_cancelled(self, handle) -> None:
        entry = getattr(handle, "_entry", None)
        if entry is not None:
            handle._entry = None
            self._hub_timers.cancel(entry)

    def _check_thread(self) -> None:
        if _threadlocal.hub is not self._hub:
            raise RuntimeError(
                "Non-thread-safe operation invoked on an event loop other than the current one")

    def _process_events(self, event_list) -> None:
        raise RuntimeError("the hub's io watchers deliver events; _process_events is unused")

    # -- closing -------------------------------------------------------------------------------

    def close(self) -> None:
        if self.is_running():
            raise RuntimeError("Cannot close a running event loop")
        if self.is_closed():
            return
        entry = self._batch_entry
        if entry is not None and entry is not _IN_BATCH:
            entry[0] = None
            self._batch_entry = None
        super().close()
        for watcher in list(self._child_watchers):
            watcher.stop()
        self._child_watchers.clear()
        if self._keepalive is not None:
            self._keepalive.close()
            self._keepalive = None
        self._runner = None
        self._active = False
        state = _runner.hub_state(self._hub)
        if state.default_loop is self:
            state.default_loop = None

    def __del__(self, _warn=None) -> None:
        if getattr(self, "_background", False):
            # The hub's own loop is never closed by its users, as the hub is never destroyed
            # by them: close it quietly, without asyncio's "unclosed event loop" warning.
            if not self._closed and not self._drivers:
                try:
                    self.close()
                except Exception:  # interpreter shutdown: modules may be half torn down
                    pass
            return
        if hasattr(self, "_closed"):  # __init__ completed
            super().__del__()

    # -- signals -------------------------------------------------------------------------------

    def add_signal_handler(self, sig, callback, *args) -> None:  # type: ignore[override]
        """Run ``callback(*args)`` in the loop when *sig* arrives (main thread only)."""
        if coroutines.iscoroutine(callback) or coroutines.iscoroutinefunction(callback):
            raise TypeError("coroutines cannot be used with add_signal_handler()")
        self._check_signal(sig)
        self._check_closed()
        handle = _Handle(callback, args, self, None)
        watcher = self._signal_watchers.get(sig)
        if watcher is None:
            watcher = self._hub_loop.signal(sig, ref=False)
            try:
                watcher.start(self._handle_signal, sig)
            except ValueError as exc:
                raise RuntimeError(str(exc)) from None
            except OSError as exc:
                if exc.errno == errno.EINVAL:
                    raise RuntimeError(f"sig {sig} cannot be caught") from None
                raise
            self._signal_watchers[sig] = watcher
        self._signal_handlers[sig] = handle

    def remove_signal_handler(self, sig) -> bool:
        self._check_signal(sig)
        handle = self._signal_handlers.pop(sig, None)
        watcher = self._signal_watchers.pop(sig, None)
        if watcher is not None:
            watcher.stop()
        return handle is not None

    def _add_callback_signalsafe(self, handle) -> None:
        self._add_callback(handle)

    # -- child processes -----------------------------------------------------------------------

    async def _make_subprocess_transport(self, protocol, args, shell, stdin, stdout, stderr,
                                         bufsize, extra=None, **kwargs):
        waiter = self.create_future()
        transport = _unix_events._UnixSubprocessTransport(
            self, protocol, args, shell, stdin, stdout, stderr, bufsize,
            waiter=waiter, extra=extra, **kwargs)
        watcher = self._hub_loop.child(transport.get_pid(), ref=False)
        self._child_watchers.add(watcher)
        watcher.start(self._child_exited, watcher, transport)
        try:
            await waiter
        except (SystemExit, KeyboardInterrupt):
            raise
        except BaseException:
            transport.close()
            await transport._wait()
            raise
        return transport

    def _child_exited(self, watcher, transport) -> None:
        self._child_watchers.discard(watcher)
        if self._closed:
            return
        returncode = os.waitstatus_to_exitcode(watcher.rstatus)
        # One hop more, as asyncio does: output already read is delivered before the exit.
        self._add_callback(_Handle(self.call_soon, (transport._process_exited, returncode),
                                   self, None))

    # -- threads and name resolution -----------------------------------------------------------

    def run_in_executor(self, executor, func, *args):
        """Run ``func(*args)`` in *executor*; by default, in the hub's thread pool."""
        if executor is None and self._default_executor is None:
            self._check_closed()
            if self._debug:
                self._check_callback(func, "run_in_executor")
            if self._executor_shutdown_called:
                raise RuntimeError("Executor shutdown has been called")
            return self._run_in_hub_pool(func, args)
        return super().run_in_executor(executor, func, *args)

    def set_default_executor(self, executor) -> None:
        """As asyncio's, and also accepts :class:`gevent.threadpool.ThreadPoolExecutor`."""
        from .threadpool import ThreadPoolExecutor

        if isinstance(executor, ThreadPoolExecutor):
            self._default_executor = executor
            return
        super().set_default_executor(executor)

    def _run_in_hub_pool(self, func, args):
        future = self.create_future()
        job = self._hub.threadpool.spawn(func, *args)
        self._pool_jobs.add(job)

        def done(result):
            self._pool_jobs.discard(job)
            if future.cancelled() or self._closed:
                return
            if result.successful():
                future.set_result(result.value)
            elif isinstance(result.exception, concurrent.futures.CancelledError):
                future.cancel()  # as asyncio.wrap_future converts it
            else:
                future.set_exception(_convert_exception(result.exception))

        job.rawlink(done)
        return future

    async def shutdown_default_executor(self, timeout=None) -> None:
        """Wait for the work this loop gave the default executor (the hub's thread pool)."""
        self._executor_shutdown_called = True
        executor = self._default_executor
        if executor is not None:
            self._default_executor = None
            from .monkey import is_module_patched

            if is_module_patched("threading"):
                waiter = self.run_in_greenlet(executor.shutdown, True)
            else:
                waiter = self._run_in_hub_pool(executor.shutdown, (True,))
        elif self._pool_jobs:
            waiter = self.run_in_greenlet(_wait_jobs, list(self._pool_jobs))
        else:
            return
        try:
            await tasks.wait_for(tasks.shield(waiter), timeout)
        except asyncio.TimeoutError:
            import warnings

            warnings.warn("The executor did not finishing joining its threads within "
                          f"{timeout} seconds.", RuntimeWarning, stacklevel=2)

    def run_in_greenlet(self, func, *args):
        """Start ``func(*args)`` in a new greenlet; return a future of its result."""
        future = self.create_future()

        def body():
            try:
                result = func(*args)
            except BaseException as exc:
                if not future.done() and not self._closed:
                    future.set_exception(exc)
                if isinstance(exc, (SystemExit, KeyboardInterrupt)):
                    raise
            else:
                if not future.done() and not self._closed:
                    future.set_result(result)

        self._hub_loop.run_callback(RawGreenlet(body, self._hub).switch)
        return future

    async def getaddrinfo(self, host, port, *, family=0, type=0, proto=0, flags=0):
        from . import socket as gsocket

        return await self.run_in_greenlet(gsocket.getaddrinfo, host, port, family, type, proto,
                                          flags)

    async def getnameinfo(self, sockaddr, flags=0):
        from . import socket as gsocket

        return await self.run_in_greenlet(gsocket.getnameinfo, sockaddr, flags)


def _convert_exception(exc: BaseException) -> BaseException:
    # As asyncio.wrap_future does: concurrent.futures' TimeoutError and InvalidStateError are
    # other classes than asyncio's before 3.11.
    if type(exc) is concurrent.futures.TimeoutError and exc.__class__ is not asyncio.TimeoutError:
        return asyncio.TimeoutError(*exc.args)
    if type(exc) is concurrent.futures.InvalidStateError and \
            exc.__class__ is not asyncio.InvalidStateError:
        return asyncio.InvalidStateError(*exc.args)
    return exc


def _wait_jobs(jobs) -> None:
    from ._waiting import wait

    wait(jobs)
