"""Running blocking functions on real OS threads without blocking the hub.

:class:`ThreadPool` runs tasks on native threads (started through the original
``_thread.start_new_thread`` even after monkey patching) and hands each result back to the
hub's thread with ``run_callback_threadsafe``: a worker never touches the hub's greenlets. While
tasks are in flight the pool holds a reference on the hub's loop, so waiting for a result never
ends in ``LoopExit``. Worker threads do not keep the process alive at exit.

:class:`ThreadPoolExecutor` is a :class:`concurrent.futures.Executor` on the same threads whose
futures' ``result()``/``exception()`` block only the calling greenlet.
"""

from __future__ import annotations

import _thread
import concurrent.futures
import concurrent.futures._base as _futures_base
import os
import sys
import threading as _threading
import traceback
from _queue import Empty as _NativeEmpty
from _queue import SimpleQueue as _NativeQueue
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from greenlet import getcurrent
from greenlet import greenlet as _RawGreenlet

from ._semaphore import Semaphore
from .event import AsyncResult
from .exceptions import InvalidSwitchError, InvalidThreadUseError
from .hub import _get_hub_noargs as get_hub
from .hub import _threadlocal
from .pool import GroupMappingMixin

if TYPE_CHECKING:
    from .event import Event

_R = TypeVar("_R")

__all__ = ["ThreadPool", "ThreadResult", "ThreadPoolExecutor"]


def _original(name: str):
    # gevent.monkey may have replaced _thread's functions already; we need the native ones.
    state = sys.modules.get("gevent.monkey._state")
    if state is not None:
        try:
            return state.get_original("_thread", name)
        except Exception:  # an older monkey module without that entry: use what _thread has
            pass
    return getattr(_thread, name)


_start_new_thread = _original("start_new_thread")
_allocate_lock = _original("allocate_lock")
_get_ident = _original("get_ident")

_STOP = object()


def _delivered(_result) -> None:
    """The receiver of a ThreadResult once delivered: anything later goes nowhere."""


class ThreadResult:
    """The result of one task, set in a worker thread and delivered in the hub's thread.

    ``set``/``handle_error`` run in the worker; they queue a callback on *hub*'s loop that
    calls ``call_when_ready()`` and then ``receiver(self)`` (an AsyncResult, typically).
    """

    __slots__ = ("receiver", "hub", "context", "value", "exc_info", "_call_when_ready")

    def __init__(self, receiver, hub, call_when_ready) -> None:
        self.receiver = receiver
        self.hub = hub
        self.context = None
        self.value = None
        self.exc_info = ()
        self._call_when_ready = call_when_ready

    @property
    def exception(self) -> BaseException | None:
        return self.exc_info[1] if self.exc_info else None

    def successful(self) -> bool:
        return self.exception is None

    def _raise_exception(self):
        raise self.exc_info[1].with_traceback(self.exc_info[2])

    def set(self, value) -> None:
        """From the worker: the task returned *value*."""
        self.value = value
        self._deliver()

    def handle_error(self, context, exc_info) -> None:
        """From the worker: the task raised."""
        self.context = context
        self.exc_info = exc_info
        self._deliver()

    def _deliver(self) -> None:
        loop = self.hub.loop
        if loop is not None:
            loop.run_callback_threadsafe(self._on_async)

    def _on_async(self) -> None:
        try:
            call_when_ready = self._call_when_ready
            if call_when_ready is not None:
                call_when_ready()
            if self.exc_info:
                # As gevent does, the hub reports a task's exception (the caller gets it too).
                self.hub.handle_error(self.context, *self.exc_info)
            receiver = self.receiver
            if receiver is not None:
                receiver(self)  # reads the value at once (an apply switched into reads it)
        finally:
            # Delivered (or failed to): drop the value, as gevent does, so that a result kept
            # around does not keep the task's return value alive.
            self.receiver = _delivered
            self._call_when_ready = None
            self.value = None

    def destroy_in_main_thread(self) -> None:
        self.receiver = self._call_when_ready = None


class ThreadPool(GroupMappingMixin):
    """A pool of at most *maxsize* native threads running tasks for *hub* (default: this
    thread's hub).

    Threads start on demand; an idle thread exits after *idle_task_timeout* seconds (-1:
    never). ``spawn`` and the mapping methods must be called from the hub's thread. At most
    ``maxsize + 1`` tasks are submitted at once (running or queued): ``spawn`` waits for a
    slot beyond that, as gevent's does. ``len(pool)`` is the number of tasks not finished.
    """

    def __init__(self, maxsize: int, hub=None, idle_task_timeout: float = -1) -> None:
        if hub is None:
            hub = get_hub()
        self.hub = hub
        self.pid = os.getpid()
        self.manager = None
        self.fork_watcher = None
        self._idle_task_timeout = idle_task_timeout
        if maxsize < 0:
            raise ValueError(f"maxsize must not be negative: {maxsize!r}")
        self._maxsize = maxsize
        self._reset_state()

    def _reset_state(self) -> None:
        self.task_queue: _NativeQueue[Any] = _NativeQueue()
        self._lock = _allocate_lock()
        #: Slots for spawn and apply (released in the hub when a result is back); the one
        #: beyond maxsize lets a task wait queued for the next free thread, as in gevent.
        self._slots = Semaphore(self._maxsize + 1, self.hub)
        self._unfinished = 0  # tasks queued or running (len(pool))
        self._size = 0
        # Idle threads minus the queued items (tasks, _STOPs) that claim one; below zero while
        # busy threads owe the queue a _STOP.
        self._free = 0
        self._worker_idents: set = set()
        self._in_flight = 0
        self._holding_ref = False
        self._all_done: Event | None = None

    def __repr__(self) -> str:
        return (f"<{type(self).__name__} at {id(self):#x} tasks={self.task_queue.qsize()} "
                f"size={self._size} maxsize={self._maxsize} hub={self.hub!r}>")

    def __len__(self) -> int:
        """The tasks submitted and not finished yet (queued or running)."""
        return self._unfinished

    def __bool__(self) -> bool:
        return True  # a pool is true even when idle

    # -- size ------------------------------------------------------------------------------

    @property
    def maxsize(self) -> int:
        """The most threads the pool starts. Lowering it below ``size`` stops threads."""
        return self._maxsize

    @maxsize.setter
    def maxsize(self, value: int) -> None:
        if value < 0:
            raise ValueError(f"maxsize must not be negative: {value!r}")
        difference = value - self._maxsize
        self._maxsize = value
        if self._size > value:
            self.size = value
        # Waiting spawns get the new slots (the counter setter wakes them).
        self._slots.counter = self._slots.counter + difference
        if difference > 0:
            self.adjust()  # queued tasks waiting for a thread get one now

    @property
    def size(self) -> int:
        """How many threads the pool has now. Assigning it starts or stops threads."""
        return self._size

    @size.setter
    def size(self, value: int) -> None:
        if value < 0:
            raise ValueError(f"size must not be negative: {value!r}")
        if value > self._maxsize:
            raise ValueError(f"size must not exceed maxsize ({self._maxsize}): {value!r}")
        with self._lock:
            grow = value - self._size
            if grow > 0:
                self._free += grow
            else:
                self._size = value  # the stopped threads no longer count, as in gevent
                self._free += grow  # each _STOP claims a thread, as a queued task does
        if grow > 0:
            for _ in range(grow):
                self._add_thread()
        else:
            for _ in range(-grow):
                self.task_queue.put(_STOP)

    def adjust(self) -> None:
        """Start threads for queued tasks that no idle thread will take (up to maxsize)."""
        while True:
            with self._lock:
                if self._free >= self.task_queue.qsize() or self._size >= self._maxsize:
                    return
            self._add_thread()

    def _add_thread(self) -> None:
        with self._lock:
            self._size += 1
        try:
            _start_new_thread(self._worker, ())
        except BaseException:
            with self._lock:
                self._size -= 1
            raise

    # -- tasks -----------------------------------------------------------------------------

    def spawn(self, func: Callable[..., _R], *args: Any, **kwargs: Any) -> AsyncResult[_R]:
        """Run ``func(*args, **kwargs)`` in a worker thread. Returns an AsyncResult that the
        hub sets when it finishes (with the exception, if it raised).

        A switch point while ``maxsize + 1`` tasks are already submitted: waits for a slot.
        Only the hub's thread may call it (InvalidThreadUseError otherwise).
        """
        if func is None or not callable(func):
            raise TypeError(f"{func!r} is not callable")
        hub = self.hub
        if _threadlocal.hub is not hub:
            raise InvalidThreadUseError(
                "ThreadPool.spawn must be called from the thread of the pool's hub")
        if os.getpid() != self.pid:
            self._on_fork()
        self._slots.acquire()
        result: AsyncResult[_R] = AsyncResult()
        self._track_in_hub()
        self._queue_task((func, args, kwargs, ThreadResult(result, hub, self._slot_done)))
        return result

    def _spawn_nowait(self, func: Callable[..., _R], *args: Any,
                      **kwargs: Any) -> AsyncResult[_R]:
        """``spawn`` without waiting for a slot: never switches, so a hub callback or another
        thread may call it (the executor's ``submit`` does). The task waits in the queue."""
        if os.getpid() != self.pid:
            self._on_fork()
        hub = self.hub
        result: AsyncResult[_R] = AsyncResult()
        if _threadlocal.hub is hub:
            self._track_in_hub()
            done = self._task_done
        else:
            done = None
        self._queue_task((func, args, kwargs, ThreadResult(result, hub, done)))
        return result

    def _slot_done(self) -> None:
        # In the hub: a spawn's or apply's result is back; its slot is free again.
        self._slots.release()
        self._task_done()

    def _track_in_hub(self) -> None:
        # In the hub's thread: one more result to wait for; the loop stays alive meanwhile.
        self._in_flight += 1
        if not self._holding_ref:
            self._holding_ref = True
            self.hub.loop._add_ref()

    def _queue_task(self, task: tuple) -> None:
        with self._lock:
            self._unfinished += 1
            if self._free > 0:
                self._free -= 1  # an idle thread will take it
                start = False
            else:
                start = self._size < self._maxsize
        if start:
            self._add_thread()
        # Queued last: the woken worker needs the GIL, which this thread keeps until it
        # next blocks; the less it does after the put, the less the worker waits for it.
        self.task_queue.put(task)

    def _task_done(self) -> None:
        # In the hub: one result is back.
        self._in_flight -= 1
        if not self._in_flight:
            if self._holding_ref:
                self._holding_ref = False
                loop = self.hub.loop
                if loop is not None:
                    loop._drop_ref()
            event = self._all_done
            if event is not None:
                event.set()

    def _worker(self) -> None:
        # Runs in a native thread: tasks run in a _WorkerGreenlet of that thread (what
        # getcurrent() answers there), whose hooks bracket each task.
        worker_class: type[_WorkerGreenlet] = self._WorkerGreenlet  # type: ignore[attr-defined]
        worker_class(self).switch()

    def _work(self, worker: _WorkerGreenlet) -> None:
        # The worker greenlet's body: only ThreadResult talks back to the hub.
        ident = _get_ident()
        lock = self._lock
        queue = self.task_queue
        with lock:
            self._worker_idents.add(ident)
        idle_timeout = self._idle_task_timeout
        stopped = False
        try:
            while True:
                try:
                    if idle_timeout is not None and idle_timeout >= 0:
                        task = queue.get(timeout=idle_timeout)
                    else:
                        task = queue.get()
                except _NativeEmpty:
                    with lock:
                        if queue.qsize() or self._free <= 0:
                            continue  # a task is on its way to us
                        self._free -= 1
                    return
                if task is _STOP:
                    # Whoever queued _STOP took this thread off _size and _free.
                    stopped = True
                    return
                func, args, kwargs, thread_result = task
                del task
                value = None
                failed = None
                try:
                    worker._before_run_task(func, args, kwargs, thread_result)
                except BaseException:
                    failed = sys.exc_info()  # the caller gets it; the thread goes on
                else:
                    try:
                        value = func(*args, **kwargs)
                    except BaseException:
                        failed = sys.exc_info()
                    worker._run_after_task(func, args, kwargs, thread_result)
                # Free again before the result goes out: once it is delivered the hub's
                # thread wakes and wants the GIL, which this thread then gives up at once
                # (blocking in queue.get) instead of after more bookkeeping.
                with lock:
                    self._free += 1
                    self._unfinished -= 1
                if failed is None:
                    thread_result.set(value)
                else:
                    thread_result.handle_error((worker, func), failed)
                del func, args, kwargs, thread_result, value, failed
        finally:
            with lock:
                if not stopped:
                    self._size -= 1
                self._worker_idents.discard(ident)
            self._destroy_worker_hub()

    @staticmethod
    def _destroy_worker_hub() -> None:
        # A task that used gevent in the worker created a hub there: release its fds.
        hub = _threadlocal.hub
        if hub is not None:
            try:
                hub.destroy(destroy_loop=True)
            except Exception:  # the thread is ending; a hub that cannot close is dropped anyway
                _threadlocal.hub = None
                _threadlocal.reaper = None

    def join(self, timeout: float | None = None) -> bool:
        """Wait until every task spawned so far has finished. A switch point."""
        if not self._in_flight:
            return True
        from .event import Event

        event = self._all_done
        if event is None or event.is_set():
            event = self._all_done = Event()
        return event.wait(timeout)

    def kill(self) -> None:
        """Stop every thread once it finishes its current task (queued tasks still run
        first). Does not wait."""
        with self._lock:
            count = self._size
            self._size = 0
            self._free -= count
        for _ in range(count):
            self.task_queue.put(_STOP)

    def _on_fork(self) -> None:
        """In a forked child: the parent's threads do not exist here; start afresh."""
        self.pid = os.getpid()
        if self._holding_ref and self.hub.loop is not None:
            self.hub.loop._drop_ref()
        self._reset_state()

    # -- the mapping API ---------------------------------------------------------------------

    def _apply_immediately(self) -> bool:
        # Called from another thread than the hub's (a task of this pool, say), apply would
        # wait for a thread the pool may not have, through a hub not its own: as gevent
        # does, run the function right there.
        return _threadlocal.hub is not self.hub

    def _apply_async_use_greenlet(self) -> bool:
        # apply_async never waits, and spawn may: a greenlet calls apply (as in gevent, which
        # returns that Greenlet).
        return True

    def apply(self, func: Callable[..., _R], args=None, kwds=None) -> _R:
        """Run ``func(*args, **kwds)`` in a worker thread and return its result (or raise its
        exception). A switch point."""
        if self._apply_immediately():
            return func(*(args or ()), **(kwds or {}))
        current = getcurrent()
        if current is not self.hub and os.getpid() == self.pid:
            return self._apply_waiting(current, func, args or (), kwds or {})
        return self.spawn(func, *(args or ()), **(kwds or {})).get()

    def _apply_waiting(self, current, func, args: tuple, kwargs: dict):
        """apply() from a greenlet of the hub's thread: spawn() and get() without the
        AsyncResult between them; the result's hub callback switches straight back here."""
        hub = self.hub
        self._slots.acquire()
        self._track_in_hub()
        thread_result = ThreadResult(current.switch, hub, self._slot_done)
        self._queue_task((func, args, kwargs, thread_result))
        try:
            result = hub.switch()
        except BaseException:
            thread_result.receiver = None  # killed while waiting: the result goes nowhere
            raise
        if result is not thread_result:
            raise InvalidSwitchError(f"apply() woken by {result!r}, not by its result")
        if thread_result.exc_info:
            try:
                thread_result._raise_exception()
            finally:
                del thread_result  # its traceback holds this frame
        return thread_result.value


_UNFINISHED = frozenset({_futures_base.PENDING, _futures_base.RUNNING})
_SETTLED = frozenset({_futures_base.FINISHED, _futures_base.CANCELLED_AND_NOTIFIED})


def _threading_patched() -> bool:
    monkey_state = sys.modules.get("gevent.monkey._state")
    return monkey_state is not None and bool(monkey_state.is_module_patched("threading"))


def _get_thread_profile() -> Any:
    """The profile function ``threading.setprofile`` installed for new threads (or None)."""
    return getattr(_threading, "_profile_hook", None)


def _get_thread_trace() -> Any:
    """The trace function ``threading.settrace`` installed for new threads (or None)."""
    return getattr(_threading, "_trace_hook", None)


class _WorkerGreenlet(_RawGreenlet):
    """The greenlet a pool's thread runs its tasks in.

    Each task runs between ``_before_run_task`` (which installs the ``threading.setprofile``
    and ``threading.settrace`` functions, as a new thread would get them) and
    ``_after_run_task`` (which removes whatever hooks the task left). The setters are called
    only when there is something to set or clear: they raise audit events.
    """

    def __init__(self, threadpool: ThreadPool) -> None:
        _RawGreenlet.__init__(self)
        self._threadpool = threadpool
        self._thread_ident = _get_ident()
        self._hub_repr = repr(threadpool.hub)
        #: Where a failing _after_run_task is reported.
        self._stderr = sys.stderr

    def __repr__(self) -> str:
        return (f"<ThreadPoolWorker at {id(self):#x} thread_ident={self._thread_ident:#x} "
                f"threadpool-hub={self._hub_repr}>")

    def run(self) -> None:
        self._threadpool._work(self)

    def _before_run_task(self, func, args, kwargs, thread_result, _sys=sys,
                         _get_thread_profile=_get_thread_profile,
                         _get_thread_trace=_get_thread_trace) -> None:
        profile = _get_thread_profile()
        if profile is not None:
            _sys.setprofile(profile)
        trace = _get_thread_trace()
        if trace is not None:
            _sys.settrace(trace)

    def _after_run_task(self, func, args, kwargs, thread_result, _sys=sys) -> None:
        if _sys.getprofile() is not None:
            _sys.setprofile(None)
        if _sys.gettrace() is not None:
            _sys.settrace(None)

    def _run_after_task(self, func, args, kwargs, thread_result) -> None:
        try:
            self._after_run_task(func, args, kwargs, thread_result)
        except Exception:  # reported; the task's result still goes out
            stderr = self._stderr
            if stderr is not None:
                traceback.print_exc(file=stderr)


class _FutureProxy(concurrent.futures.Future):
    """A Future whose ``result()``/``exception()`` block only the calling greenlet."""

    def __init__(self, async_result: AsyncResult) -> None:
        concurrent.futures.Future.__init__(self)
        self._async_result = async_result
        async_result.rawlink(self._transfer)

    # concurrent.futures.wait() and as_completed() register a waiter in ``_waiters`` and
    # block on a lock. Unpatched, that lock is native: it would block the hub's thread, and the
    # result, which the hub delivers, would never come. So, as gevent does, they fail at once
    # (AttributeError) on a future that is not done yet; once threading is patched they wait
    # cooperatively.
    @property
    def _waiters(self) -> list:
        if self._state in _UNFINISHED and not _threading_patched():
            raise AttributeError(
                "_waiters: concurrent.futures.wait() and as_completed() need threading "
                "monkey-patched to wait for a gevent ThreadPoolExecutor future; use "
                "gevent.wait() or future.result()"
            )
        return self._waiter_list

    @_waiters.setter
    def _waiters(self, value: list) -> None:
        self._waiter_list = value

    def _transfer(self, async_result) -> None:
        # Called once from the hub; result()/exception() may have transferred already.
        if self._state in _SETTLED or not self.set_running_or_notify_cancel():
            return
        if async_result.successful():
            self.set_result(async_result.value)
        else:
            self.set_exception(async_result.exception)

    def _wait(self, timeout) -> None:
        if not self._async_result.ready():
            if getcurrent() is not _threadlocal.hub:
                self._async_result.wait(timeout)

    def result(self, timeout: float | None = None):
        self._wait(timeout)
        if not self.done() and self._async_result.ready():
            self._transfer(self._async_result)
        if not self.done():
            raise concurrent.futures.TimeoutError()
        return concurrent.futures.Future.result(self, 0)

    def exception(self, timeout: float | None = None):
        self._wait(timeout)
        if not self.done() and self._async_result.ready():
            self._transfer(self._async_result)
        if not self.done():
            raise concurrent.futures.TimeoutError()
        return concurrent.futures.Future.exception(self, 0)

    # gevent.wait()/iwait() on a future
    def rawlink(self, callback) -> None:
        self._async_result.rawlink(lambda _result: callback(self))

    def unlink(self, callback) -> None:
        self._async_result.unlink(callback)

    def ready(self) -> bool:
        return self._async_result.ready()


class ThreadPoolExecutor(concurrent.futures.Executor):
    """A :class:`concurrent.futures.Executor` on native threads (whatever is patched).

    Its futures can be waited on cooperatively: ``result()`` and ``exception()`` block only
    the calling greenlet, and ``gevent.wait()`` accepts them.
    """

    def __init__(self, max_workers: int | None = None, thread_name_prefix: str = "",
                 initializer: Callable | None = None, initargs: tuple = ()) -> None:
        if max_workers is None:
            max_workers = min(32, (os.cpu_count() or 1) + 4)
        if max_workers <= 0:
            raise ValueError("max_workers must be greater than 0")
        self._max_workers = max_workers
        self._pool = ThreadPool(max_workers)
        self._initializer = initializer
        self._initargs = initargs
        self._initialized: set = set()
        self._shutdown = False

    def _call(self, fn, args, kwargs):
        initializer = self._initializer
        if initializer is not None:
            ident = _get_ident()
            if ident not in self._initialized:
                self._initialized.add(ident)
                initializer(*self._initargs)
        return fn(*args, **kwargs)

    def submit(self, fn, /, *args, **kwargs) -> concurrent.futures.Future:
        """Run ``fn(*args, **kwargs)`` in a worker thread; returns a Future."""
        if self._shutdown:
            raise RuntimeError("cannot schedule new futures after shutdown")
        return _FutureProxy(self._pool._spawn_nowait(self._call, fn, args, kwargs))

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """No new tasks; with *wait*, wait (cooperatively) for the running ones, then stop
        the threads."""
        self._shutdown = True
        if wait:
            self._pool.join()
        self._pool.kill()

    def kill(self, wait: bool = True) -> None:
        self.shutdown(wait)


# Compatibility: names that gevent's users and tests reach. Subclasses replace the worker
# greenlet class through the pool's attribute.
ThreadPool._WorkerGreenlet = _WorkerGreenlet  # type: ignore[attr-defined]
