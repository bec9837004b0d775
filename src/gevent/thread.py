"""A green ``_thread``: "threads" are greenlets, locks are gevent locks.

``gevent.monkey.patch_thread()`` installs these names in the standard library's ``_thread``
module (and in ``threading``, which copied some of them at import), so that ``threading``'s own
Python code (Thread, Condition, Event, Barrier, Timer...) runs unmodified on top of greenlets.

Identities: a greenlet's ident is ``id(greenlet)``, except for the root greenlet of an OS thread
(the main greenlet of the main thread, say), whose ident is that thread's native ident. So
``threading.main_thread().ident`` and locks and ``threading.Thread`` objects that existed before
patching keep meaning the same thing afterwards.

Forking: in the child, green threads other than the one that called ``fork()`` are treated as a
real ``fork()`` treats other threads: their handles are marked done (so ``threading`` sees them
stopped, as it decides itself) and their greenlets are killed, silently, on the child's first
loop iteration.
"""

from __future__ import annotations

import sys
import threading as _threading
import traceback
import weakref
from collections.abc import Callable
from typing import Any

from greenlet import GreenletExit, getcurrent

from .event import Event
from .greenlet import Greenlet
from .hub import get_hub_if_exists
from .local import local as _local  # noqa: F401  (the green _thread._local)
from .lock import LockType, RLock
from .monkey._state import get_original

__target__ = "_thread"

__all__ = [
    "allocate_lock",
    "allocate",
    "get_ident",
    "get_native_id",
    "exit",
    "exit_thread",
    "interrupt_main",
    "LockType",
    "lock",
    "RLock",
    "stack_size",
    "start_new_thread",
    "start_new",
    "error",
    "TIMEOUT_MAX",
]

_ORIGINAL_NAMES = (
    "get_ident",
    "get_native_id",
    "start_new_thread",
    "interrupt_main",
    "error",
    "TIMEOUT_MAX",
    "_count",
    "_excepthook",
    "_ExceptHookArgs",
    "stack_size",
)
(
    _native_get_ident,
    get_native_id,
    _native_start_new_thread,
    interrupt_main,
    error,
    TIMEOUT_MAX,
    _native_count,
    _excepthook,
    _ExceptHookArgs,
    _native_stack_size,
) = get_original("_thread", list(_ORIGINAL_NAMES))

_native_module = sys.modules["_thread"]


def _original_or(name: str, default: Any) -> Any:
    try:
        return get_original("_thread", name)
    except AttributeError:
        return default


_is_main_interpreter = _original_or("_is_main_interpreter", lambda: True)
_native_shutdown = _original_or("_shutdown", None)
_native_set_name = _original_or("set_name", None)
_native_get_name = _original_or("_get_name", None)


def _get_main_thread_ident() -> int:
    """The native ident of the main thread (the thread that runs the main greenlet)."""
    original = _original_or("_get_main_thread_ident", None)
    if original is not None:
        return original()
    return _threading.main_thread().ident  # type: ignore[return-value]


# The class itself, not a function: tests and code keep ``locktype = _thread.allocate_lock`` as a
# class attribute, and a Python function there would become a method and receive ``self``.
allocate_lock = allocate = lock = LockType


def get_ident(gr=None) -> int:
    """The ident of greenlet *gr* (default: the current one): ``id(gr)``.

    The root greenlet of the current OS thread answers the thread's native ident instead, so
    the main thread keeps its identity under patching.
    """
    try:
        current = getcurrent()
    except RuntimeError:
        # "greenlet is being finalized": interpreter shutdown (logging's atexit and weakref
        # callbacks take locks then). Only the OS thread is left to name.
        return _native_get_ident()
    if gr is None or gr is current:
        if current.parent is None:
            return _native_get_ident()
        return id(current)
    return id(gr)


# -- green threads ---------------------------------------------------------------------------


class _ThreadHandle:
    """The handle of a green thread: its ident, whether it finished, and a way to join it."""

    __slots__ = ("_ident", "_started", "_done", "_greenlet_ref", "__weakref__")

    def __init__(self) -> None:
        self._ident = 0
        self._started = False
        self._done = Event()
        self._greenlet_ref: Any = None

    @property
    def ident(self) -> int:
        return self._ident

    def is_done(self) -> bool:
        if self._done.is_set():
            return True
        ref = self._greenlet_ref
        if ref is not None:
            glet = ref()
            if glet is None or glet.dead:
                return True
        return False

    def _set_done(self) -> None:
        if not self._started:
            raise RuntimeError("thread not started")
        self._done.set()

    def join(self, timeout: float | None = None) -> None:
        """Wait for the thread to finish. A switch point; returns after *timeout* seconds."""
        if not self._started:
            raise RuntimeError("thread not started")
        if self.is_done():
            return
        if self._ident == get_ident():
            raise RuntimeError("Cannot join current thread")
        if timeout is not None:
            timeout = max(timeout, 0.0)
        if self._greenlet_ref is not None:
            # A thread we did not start (a dummy thread): there is nothing to be notified by.
            raise RuntimeError("cannot join a thread that was not started by this module")
        self._done.wait(timeout)

    def __repr__(self) -> str:
        return f"<{type(self).__module__}._ThreadHandle object: ident={self._ident}>"


class _GreenThread:
    __slots__ = ("greenlet", "handle", "daemon", "hub", "sentinels", "orphaned", "finished",
                 "running")

    def __init__(self, handle: _ThreadHandle, daemon: bool) -> None:
        self.greenlet: Any = None
        self.handle = handle
        self.daemon = daemon
        self.hub: Any = None
        self.sentinels: list = []
        self.orphaned = False
        self.finished = False
        self.running = False


#: ident -> record, for every green thread started here and still running.
_threads: dict[int, _GreenThread] = {}
_fork_hook_installed = False


def _finish(record: _GreenThread) -> None:
    if record.finished:
        return
    record.finished = True
    if record.greenlet is not None:
        _threads.pop(id(record.greenlet), None)
    for sentinel in record.sentinels:
        if sentinel.locked():
            sentinel.release()
    record.sentinels = []
    record.handle._set_done()


def _report_unraisable(function, exc: BaseException) -> None:
    # What CPython's thread bootstrap reports: 3.13 moved the function into the message.
    if sys.version_info >= (3, 13):
        message, culprit = f"Exception ignored in thread started by {function!r}", None
    else:
        message, culprit = "Exception ignored in thread started by", function
    hook = sys.unraisablehook
    if hook is sys.__unraisablehook__:
        # The default hook only accepts its own C argument type; print what it would print.
        stream = sys.stderr
        if stream is None:
            return
        try:
            stream.write(f"{message}: {function!r}\n" if culprit is not None else f"{message}:\n")
            traceback.print_exception(type(exc), exc, exc.__traceback__, file=stream)
        except BaseException:
            pass  # stderr is gone (interpreter shutdown): nowhere left to report to
        return

    class _Args:
        exc_type = type(exc)
        exc_value = exc
        exc_traceback = exc.__traceback__
        err_msg = message
        object = culprit

    hook(_Args)  # type: ignore[arg-type]


def _bootstrap(record: _GreenThread, function, args, kwargs) -> None:
    record.running = True
    try:
        function(*args, **kwargs)
    except (SystemExit, GreenletExit):
        pass  # the thread asked to end (exit()) or was killed: not an error
    except BaseException as exc:
        if not record.orphaned:
            _report_unraisable(function, exc)
    finally:
        _finish(record)


def _start(function, args, kwargs, handle: _ThreadHandle, daemon: bool) -> int:
    global _fork_hook_installed
    if not _fork_hook_installed:
        from ._core import _fork

        _fork.add_child_hook(_after_fork_in_child)
        _fork_hook_installed = True
    record = _GreenThread(handle, daemon)
    glet = Greenlet(_bootstrap, record, function, args, kwargs)
    record.greenlet = glet
    ident = id(glet)
    handle._ident = ident
    handle._started = True
    _threads[ident] = record
    # If the greenlet is killed before it ever runs, _bootstrap's finally never happens.
    glet.rawlink(lambda _glet: _finish(record))
    glet.start()
    record.hub = glet.parent
    return ident


def _check_start_args(function, args, kwargs) -> None:
    if not callable(function):
        raise TypeError("first arg must be callable")
    if not isinstance(args, tuple):
        raise TypeError("2nd arg must be a tuple")
    if kwargs is not None and not isinstance(kwargs, dict):
        raise TypeError("optional 3rd arg must be a dictionary")


def start_new_thread(function: Callable[..., Any], args: tuple = (), kwargs=None) -> int:
    """Run ``function(*args, **kwargs)`` in a new greenlet; return its ident.

    The greenlet starts when the current one next yields to the hub. An exception other than
    SystemExit is reported through ``sys.unraisablehook``, as for a native thread.
    """
    _check_start_args(function, args, kwargs)
    return _start(function, args, kwargs or {}, _ThreadHandle(), True)


start_new = start_new_thread


def start_joinable_thread(function: Callable[[], Any], handle: _ThreadHandle | None = None,
                          daemon: bool = True) -> _ThreadHandle:
    """Start ``function()`` in a new greenlet and return its joinable handle (3.13's API).

    Non-daemon threads are waited for by :func:`_shutdown` at interpreter exit.
    """
    if not callable(function):
        raise TypeError("thread function must be callable")
    if handle is None:
        handle = _ThreadHandle()
    elif not isinstance(handle, _ThreadHandle):
        raise TypeError("'handle' must be a _ThreadHandle")
    elif handle._started:
        raise RuntimeError("thread already started")
    _start(function, (), {}, handle, daemon)
    return handle


def _make_thread_handle(ident: int) -> _ThreadHandle:
    """A handle for the current greenlet, which this module did not start (a dummy thread)."""
    handle = _ThreadHandle()
    glet = getcurrent()
    handle._ident = get_ident()
    handle._started = True
    handle._greenlet_ref = weakref.ref(glet)
    return handle


def _make_main_thread_handle(ident: int) -> _ThreadHandle:
    """A handle for the main OS thread that green threads can join: ``threading._shutdown``
    marks it done at exit (see gevent.monkey._threads)."""
    handle = _ThreadHandle()
    handle._ident = ident
    handle._started = True
    return handle


class _ExitLatch:
    """What stands for the main Thread's ``_tstate_lock`` (Python < 3.13) once patched.

    A lock whose release does not hand it to a waiter: ``threading._shutdown`` releases it at
    exit and then asserts it is unlocked, while joiners (woken by the release) acquire and
    release it after. A green LockType gives itself to the first waiter at release (FIFO) and
    would still look locked. Every wait on it is a greenlet's.
    """

    __slots__ = ("_locked", "_released")

    def __init__(self) -> None:
        self._locked = False
        self._released = Event()

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        wait_for = None if timeout is None or timeout < 0 else timeout
        while self._locked:
            if not blocking or not self._released.wait(wait_for):
                return False
        self._locked = True
        self._released.clear()
        return True

    def release(self) -> None:
        self._locked = False
        self._released.set()

    def locked(self) -> bool:
        return self._locked

    def _at_fork_reinit(self) -> None:
        self._locked = False
        self._released = Event()


def _set_sentinel() -> LockType:
    """A lock released when the current green thread ends (what threading <= 3.12 joins on)."""
    sentinel = LockType()
    record = _threads.get(get_ident())
    if record is not None:
        record.sentinels.append(sentinel)
    return sentinel


def _count() -> int:
    """How many threads are running: green ones started here plus native ones."""
    return len(_threads) + _native_count()


def _shutdown() -> None:
    """Wait until every non-daemon green thread (and native thread) has finished."""
    me = get_ident()
    while True:
        pending = [record for record in list(_threads.values())
                   if not record.daemon and not record.handle.is_done()
                   and record.handle.ident != me]
        if not pending:
            break
        for record in pending:
            record.handle.join()
    if _native_shutdown is not None:
        _native_shutdown()


def daemon_threads_allowed() -> bool:
    """Green threads may always be daemons."""
    return True


def exit() -> None:
    """End the current green thread (raises SystemExit)."""
    raise SystemExit


exit_thread = exit

_stack_size = 0


def stack_size(size: int | None = None) -> int:
    """Record a stack size and return the previous one. Greenlets grow their stacks as needed,
    so the value only has to be valid: 0, or at least 32 KiB."""
    global _stack_size
    previous = _stack_size
    if size is None:
        return previous
    if size != 0 and size < 32768:
        raise ValueError(f"size not valid: {size} bytes")
    _stack_size = size
    return previous


def set_name(name: str) -> None:
    """Name the OS thread, from its root greenlet only: a green thread has no OS thread."""
    if _native_set_name is not None and getcurrent().parent is None:
        _native_set_name(name)


def _get_name() -> str | None:
    if _native_get_name is not None:
        return _native_get_name()
    return None


def _end_orphan(record: _GreenThread) -> None:
    glet = record.greenlet
    if glet is None or glet.dead:
        return
    if record.running:
        # Raised right now, from the hub, before its timers or I/O can resume it. SystemExit is
        # what threading's excepthook stays silent about.
        glet.throw(SystemExit)
    else:
        glet.kill(SystemExit, block=False)


def _after_fork_in_child() -> None:
    """Only the forking greenlet survives as a thread: the others end, as after a real fork."""
    current = getcurrent()
    hub = get_hub_if_exists()
    for ident, record in list(_threads.items()):
        if record.greenlet is current:
            continue
        record.orphaned = True
        record.finished = True
        del _threads[ident]
        done = record.handle._done
        if done.hub is not None and done.hub is not hub:
            # Its waiters lived in a thread that does not exist in the child.
            done = record.handle._done = Event()
        done.set()
        if hub is not None and record.hub is hub:
            hub.loop.run_callback(_end_orphan, record)


# What monkey patching replaces in ``_thread``: the names this Python's ``_thread`` has.
__implements__ = [
    name
    for name in (
        "allocate_lock", "allocate", "get_ident", "exit", "exit_thread", "LockType", "lock",
        "RLock", "stack_size", "start_new_thread", "start_new", "start_joinable_thread",
        "_local", "_count", "_set_sentinel", "daemon_threads_allowed", "_ThreadHandle",
        "_make_thread_handle", "_shutdown", "set_name", "_get_name",
    )
    if hasattr(_native_module, name)
]
# Taken from the real module as they are.
__imports__ = [
    name
    for name in (
        "error", "TIMEOUT_MAX", "interrupt_main", "get_native_id", "_excepthook",
        "_ExceptHookArgs", "_is_main_interpreter", "_get_main_thread_ident",
    )
    if hasattr(_native_module, name)
]
