"""The hub: the greenlet that runs the event loop, and the ways of blocking on it.

Every OS thread that uses gevent gets its own hub, created lazily by :func:`get_hub`. Blocking in
a greenlet always means: register interest (a watcher or a link), switch to the hub, and drop the
interest on the way back whatever woke us (a result, a timeout, a kill).
"""

from __future__ import annotations

import itertools
import sys
import traceback
from _thread import _local as _thread_local
from datetime import datetime, timezone
from threading import get_ident, main_thread
from time import monotonic
from weakref import ref as _wref

from greenlet import GreenletExit, getcurrent
from greenlet import error as RawGreenletError
from greenlet import greenlet as RawGreenlet

from ._core import Loop, _fork
from ._spawn_tree import _config_checked, _track_tree, _tracking, _tree_locals_of
from .exceptions import (
    BlockingSwitchOutError,
    ConcurrentObjectUseError,
    HubDestroyed,
    InvalidSwitchError,
    LoopExit,
)

__all__ = [
    "getcurrent",
    "GreenletExit",
    "spawn_raw",
    "sleep",
    "kill",
    "signal",
    "reinit",
    "get_hub",
    "Hub",
    "Waiter",
    "idle",
    "signal_handler",
]


class _Threadlocal(_thread_local):
    hub: Hub | None = None
    reaper: _HubReaper | None = None


class _HubReaper:
    """Lives in the thread-local next to the hub, and only there, so it is freed (and its
    ``__del__`` runs) in the owning thread when that thread ends: it destroys the hub's loop
    there and breaks the hub <-> loop cycle. Left to another thread's gc, a cycle holding a
    suspended greenlet of a dead thread plus objects with finalizers crashes the interpreter.
    """

    __slots__ = ("hub",)

    def __init__(self, hub) -> None:
        self.hub = hub

    # is_finalizing bound here: at interpreter exit the module's globals may already be None
    # when the main thread's thread-local (and this) is freed.
    def __del__(self, _is_finalizing=sys.is_finalizing) -> None:
        hub = self.hub
        self.hub = None
        if hub is None or _is_finalizing():
            return
        try:
            pool = hub._threadpool
            hub._threadpool = None
            hub._resolver = None
            if pool is not None:
                pool.kill()
            loop = hub.loop
            if loop is not None and not loop.default:
                loop.error_handler = None
                loop.destroy()
        except Exception:  # the thread is ending: nothing here may raise, and nothing is lost
            pass


# The original _thread._local, bound at import: monkey patching must never make the hub itself
# greenlet-local.
_threadlocal = _Threadlocal()


def get_hub_if_exists():
    """The current thread's hub, or None if it has not been created."""
    return _threadlocal.hub


def _get_hub_noargs():
    hub = _threadlocal.hub
    if hub is None:
        hub = _install_hub(Hub())
    return hub


def get_hub(*args, **kwargs):
    """The hub of the current thread, created on first use."""
    hub = _threadlocal.hub
    if hub is None:
        hub = _install_hub(Hub(*args, **kwargs))
    return hub


def _install_hub(hub):
    _threadlocal.hub = hub
    _threadlocal.reaper = _HubReaper(hub)
    return hub


_get_hub = get_hub_if_exists


def set_hub(hub) -> None:
    if hub is None:
        _threadlocal.hub = None
        _threadlocal.reaper = None
    else:
        _install_hub(hub)


def get_loop():
    return get_hub().loop


def _root_greenlet():
    glet = getcurrent()
    while glet.parent is not None:
        glet = glet.parent
    return glet


def _refuse_free_threading() -> None:
    # Greenlets, the hub and every primitive assume the GIL serialises threads; with it disabled
    # they would corrupt each other silently. Refuse clearly instead (PITFALLS: #2127, #2087).
    is_gil_enabled = getattr(sys, "_is_gil_enabled", None)
    if is_gil_enabled is not None and not is_gil_enabled():
        raise RuntimeError(
            "gevent does not support free-threaded Python with the GIL disabled; "
            "run with PYTHON_GIL=1 or 'python -X gil=1'"
        )


def _format_waiting(glet) -> list[str]:
    """Where a suspended greenlet is waiting: its innermost frames, newest last."""
    frame = getattr(glet, "gr_frame", None)
    if frame is None:
        return []
    stack = traceback.extract_stack(frame, limit=6)
    return [f"{fs.filename}:{fs.lineno} in {fs.name}" for fs in stack]


_hub_numbers = itertools.count(1)  # next() is atomic: hubs of several threads may start at once


class _IdentRegistry:
    """Small integers (from 0) for objects, reused after the object is gone. One per hub."""

    def __init__(self) -> None:
        import weakref

        self._idents: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        self._free: list[int] = []
        self._next = 0

    def get(self, obj) -> int:
        ident = self._idents.get(obj)
        if ident is None:
            import heapq
            import weakref

            if self._free:
                ident = heapq.heappop(self._free)
            else:
                ident = self._next
                self._next += 1
            self._idents[obj] = ident
            weakref.finalize(obj, heapq.heappush, self._free, ident)
        return ident

    def has(self, obj) -> bool:
        return obj in self._idents


class Hub(RawGreenlet):
    """The greenlet that runs this thread's event loop."""

    #: Exceptions that are not errors when they end a greenlet.
    NOT_ERROR = (GreenletExit, SystemExit)
    #: Exceptions that, escaping a greenlet or callback, are raised in the main greenlet.
    SYSTEM_ERROR = (KeyboardInterrupt, SystemExit, SystemError)
    #: The size of the default thread pool.
    threadpool_size = 10
    name = ""

    def __init__(self, loop=None, default=None) -> None:
        _refuse_free_threading()
        RawGreenlet.__init__(self, None, _root_greenlet())
        self.thread_ident = get_ident()
        self.minimal_ident = next(_hub_numbers)
        if default is None:
            default = self.thread_ident == main_thread().ident
        if loop is None and default and _kept_default_loop:
            kept = _kept_default_loop.pop()
            if not kept.destroyed:
                loop = kept
        if loop is None or isinstance(loop, str):
            backend = loop
            if backend is None:
                from ._config import config

                backend = config.loop
            loop = Loop(backend, default=default)
        self.loop = loop
        loop.error_handler = self
        loop.escaping_errors = (HubDestroyed,)
        self._threadpool = None
        self._resolver = None
        self._exception_stream = None
        self.periodic_monitoring_thread = None
        _fork.add_child_hook(_reset_after_fork)

    # -- lazily created services -----------------------------------------------------------

    @property
    def main_hub(self) -> bool:
        return self.thread_ident == main_thread().ident

    @property
    def exception_stream(self):
        """Where errors are printed; defaults to the current ``sys.stderr``."""
        stream = self._exception_stream
        return sys.stderr if stream is None else stream

    @exception_stream.setter
    def exception_stream(self, stream) -> None:
        self._exception_stream = stream

    @property
    def threadpool(self):
        pool = self._threadpool
        if pool is None:
            from ._config import config

            pool = self._threadpool = config.threadpool(
                self.threadpool_size, hub=self,
                idle_task_timeout=config.threadpool_idle_task_timeout,
            )
        return pool

    @threadpool.setter
    def threadpool(self, pool) -> None:
        self._threadpool = pool

    @threadpool.deleter
    def threadpool(self) -> None:
        self._threadpool = None

    @property
    def resolver(self):
        resolver = self._resolver
        if resolver is None:
            from ._config import config

            resolver = self._resolver = config.resolver(hub=self)
        return resolver

    @resolver.setter
    def resolver(self, value) -> None:
        self._resolver = value

    @resolver.deleter
    def resolver(self) -> None:
        self._resolver = None

    # -- identity ----------------------------------------------------------------------------

    _ident_registry = None

    @property
    def ident_registry(self):
        """Hands out the ``minimal_ident`` of this hub's greenlets (and of the hub itself)."""
        registry = self._ident_registry
        if registry is None:
            registry = self._ident_registry = _IdentRegistry()
        return registry

    #: A small number naming this hub: 1 for the first hub the process made, then 2...
    #: (gevent counts hubs; greenlets' numbers come from :attr:`ident_registry` instead).
    minimal_ident: int = 0

    # -- switching ---------------------------------------------------------------------------

    def switch(self):
        """Switch to the hub. Only greenlets other than the hub may block."""
        if getcurrent() is self:
            raise BlockingSwitchOutError(
                "Impossible to call blocking function in the event loop callback"
            )
        return RawGreenlet.switch(self)

    def switch_out(self):
        raise BlockingSwitchOutError(
            "Impossible to call blocking function in the event loop callback"
        )

    def wait(self, watcher):
        """Start *watcher* and switch to the hub until it fires. A switch point.

        The watcher is stopped on the way out, whatever woke us.
        """
        if watcher.callback is not None:
            raise ConcurrentObjectUseError(
                f"This object is already used by another greenlet: {watcher.callback!r}"
            )
        current = getcurrent()
        watcher.start(current.switch, watcher)
        try:
            result = self.switch()
            if result is not watcher:
                raise InvalidSwitchError(
                    f"Invalid switch into {current!r}: got {result!r} (expected {watcher!r})"
                )
        finally:
            watcher.stop()

    def cancel_wait(self, watcher, error, close_watcher: bool = False) -> None:
        """Wake the greenlet waiting on *watcher* by raising *error* in it (from the hub)."""
        if watcher.callback is not None:
            self.loop.run_callback(self._cancel_wait, watcher, error, close_watcher)
        elif close_watcher:
            watcher.close()

    def cancel_waits_close_and_then(self, watchers, exc_kind, then, *then_args) -> None:
        """Wake every greenlet waiting on *watchers* with *exc_kind*, close the watchers, then
        call ``then(*then_args)`` (for instance the real close of their fd), from the hub."""
        deferred = []
        for watcher in watchers:
            if watcher.callback is None:
                watcher.close()
            else:
                deferred.append(watcher)
        if deferred:
            self.loop.run_callback(self._cancel_waits_then, deferred, exc_kind, then, then_args)
        else:
            then(*then_args)

    def _cancel_waits_then(self, watchers, exc_kind, then, then_args) -> None:
        try:
            for watcher in watchers:
                self._cancel_wait(watcher, exc_kind, True)
        finally:
            then(*then_args)

    def _cancel_wait(self, watcher, error, close_watcher: bool) -> None:
        if watcher.active:
            switch = watcher.callback
            if switch is not None:
                glet = getattr(switch, "__self__", None)
                if glet is not None:
                    glet.throw(error)
        if close_watcher:
            watcher.close()

    # -- running -----------------------------------------------------------------------------

    def run(self):
        """Run the loop; when it has nothing left, raise LoopExit in the main greenlet."""
        if self is not getcurrent():
            raise AssertionError("Do not call Hub.run() directly")
        self.start_periodic_monitoring_thread()
        try:
            while True:
                loop = self.loop
                if loop is None or loop.destroyed:
                    return
                loop.error_handler = self
                loop.run()
                self.parent.throw(self._make_loop_exit())
        except HubDestroyed:
            return

    def start_periodic_monitoring_thread(self):
        """Start this hub's monitoring thread if ``config.monitor_thread`` is on (see
        ``gevent._monitor``); return it, or None."""
        if self.periodic_monitoring_thread is None:
            from ._config import config

            if config.monitor_thread:
                from ._monitor import start_periodic_monitoring_thread

                start_periodic_monitoring_thread(self)
        return self.periodic_monitoring_thread

    def _make_loop_exit(self) -> LoopExit:
        lines = _format_waiting(self.parent)
        message = "This operation would block forever"
        if lines:
            message += "\n\tThe main greenlet was waiting at:\n" + "\n".join(
                f"\t\t{line}" for line in lines
            )
        handles = self.loop.describe_watchers() if self.loop is not None else []
        return LoopExit(message, self, handles)

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the loop to run out of work. True if it did, False if *timeout* passed."""
        if getcurrent() is self:
            raise RuntimeError("Cannot join the hub from the hub")
        if self.loop is None or self.dead:
            return True
        current = getcurrent()
        timer = None
        if timeout is not None:
            timer = self.loop._timer_at(monotonic() + timeout, current.switch, (_JOIN_TIMEOUT,),
                                        False)
        try:
            result = self.switch()
        except LoopExit:
            return True
        finally:
            if timer is not None and self.loop is not None:
                self.loop._timer_cancel(timer)
        if result is _JOIN_TIMEOUT:
            return False
        return True

    def destroy(self, destroy_loop: bool | None = None) -> None:
        """End this hub: stop its thread pool and resolver, and (by default, unless it is the
        default loop) destroy its loop."""
        if getcurrent() is self:
            raise RuntimeError("Cannot destroy the hub from inside the hub")
        if self._resolver is not None:
            close = getattr(self._resolver, "close", None)
            if close is not None:
                close()
            self._resolver = None
        if self._threadpool is not None:
            self._threadpool.kill()
            self._threadpool = None
        monitor = self.periodic_monitoring_thread
        if monitor is not None:
            monitor.kill()
            self.periodic_monitoring_thread = None
        if destroy_loop is None:
            destroy_loop = not self.loop.default if self.loop is not None else False
        if self and not self.dead:
            try:
                self.throw(HubDestroyed(destroy_loop))
            except HubDestroyed:
                pass  # the hub was not running: nothing to unwind
            except RawGreenletError:
                # The hub of a thread that has ended, destroyed from another thread: its
                # greenlets cannot be switched into any more; there is nothing to unwind.
                pass
        loop = self.loop
        if loop is not None:
            if destroy_loop:
                loop.destroy()
            elif loop.default:
                # The default loop outlives its hub: the next default hub runs on it again.
                _kept_default_loop[:] = [loop]
            self.loop = None
        if _threadlocal.hub is self:
            _threadlocal.hub = None
            _threadlocal.reaper = None

    # -- errors ------------------------------------------------------------------------------

    def handle_error(self, context, type, value, tb) -> None:
        """Report an exception that escaped *context* (a greenlet or callback) and go on.

        System errors (KeyboardInterrupt, SystemExit) are raised in the main greenlet instead.
        This path never raises, whatever the exception does when printed.
        """
        if type is HubDestroyed or isinstance(value, HubDestroyed):
            raise value
        if value is None and type is not None:
            try:
                value = type()
            except Exception:  # a class we cannot instantiate: report the class itself
                value = type
        try:
            if not issubclass(type, self.NOT_ERROR):
                self.print_exception(context, type, value, tb)
        finally:
            tb = None
        if context is None or issubclass(type, self.SYSTEM_ERROR):
            self.handle_system_error(type, value)

    def handle_system_error(self, type, value, tb=None) -> None:
        current = getcurrent()
        if current is self or current is self.parent or self.loop is None:
            self.parent.throw(value)
        else:
            self.loop.run_callback(self.parent.throw, value)

    def print_exception(self, context, type, value, tb) -> None:
        stream = self.exception_stream
        try:
            try:
                traceback.print_exception(type, value, tb, file=stream)
            except BaseException:
                # Formatting the traceback itself failed (RecursionError, a broken __str__):
                # the error must still be reported, so fall back to the bare minimum.
                stream.write(f"{type.__name__}: <unprintable exception>\n")
            stamp = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
            try:
                where = repr(context)
            except BaseException:
                where = object.__repr__(context)
            stream.write(f"{stamp} {where} failed with {getattr(type, '__name__', type)}\n\n")
            flush = getattr(stream, "flush", None)
            if flush is not None:
                flush()
        except BaseException:
            # The stream is broken: there is nowhere left to report to, and the hub must go on.
            pass

    def __repr__(self) -> str:
        loop = self.loop
        state = "destroyed" if loop is None else f"{'dead' if self.dead else 'alive'} loop={loop!r}"
        return f"<Hub {self.name!r} at {id(self):#x} thread_ident={self.thread_ident:#x} {state}>"


# A default loop whose hub was destroyed without it (hub.destroy()), for the next default hub.
_kept_default_loop: list = []


class _JoinTimeout:
    pass


_JOIN_TIMEOUT = _JoinTimeout()


def _reset_after_fork() -> None:
    """In a forked child: the thread pool's threads and other threads' hubs are gone."""
    hub = _threadlocal.hub
    if hub is not None:
        pool = hub._threadpool
        if pool is not None:
            reset = getattr(pool, "_on_fork", None)
            if reset is not None:
                reset()
            else:
                hub._threadpool = None
        resolver = hub._resolver
        if resolver is not None and hasattr(resolver, "_on_fork"):
            resolver._on_fork()
        hub.thread_ident = get_ident()
        monitor = hub.periodic_monitoring_thread
        if monitor is not None:
            hub.periodic_monitoring_thread = None


_NONE = object()


class Waiter:
    """A one-shot rendezvous between a greenlet and the hub (low level).

    ``get()`` blocks the current greenlet until ``switch(value)`` or ``throw(...)`` is called
    from the hub; if they were called first, ``get()`` returns at once.
    """

    __slots__ = ["hub", "greenlet", "value", "_exception"]

    def __init__(self, hub=None) -> None:
        self.hub = get_hub() if hub is None else hub
        self.greenlet = None
        self.value = None
        self._exception = _NONE

    def clear(self) -> None:
        self.greenlet = None
        self.value = None
        self._exception = _NONE

    def __str__(self) -> str:
        if self._exception is _NONE:
            return f"<{type(self).__name__} greenlet={self.greenlet}>"
        if self._exception is None:
            return f"<{type(self).__name__} greenlet={self.greenlet} value={self.value!r}>"
        return f"<{type(self).__name__} greenlet={self.greenlet} exc_info={self.exc_info!r}>"

    def ready(self) -> bool:
        return self._exception is not _NONE

    def successful(self) -> bool:
        return self._exception is None

    @property
    def exc_info(self):
        if self._exception is not _NONE:
            return self._exception
        return None

    def switch(self, value) -> None:
        """Wake the waiting greenlet with *value* (or store it if nobody waits yet)."""
        glet = self.greenlet
        if glet is None:
            self.value = value
            self._exception = None
            return
        if getcurrent() is not self.hub:
            raise AssertionError("Can only use Waiter.switch method from the Hub greenlet")
        switch = glet.switch
        try:
            switch(value)
        except BaseException:
            self.hub.handle_error(switch, *sys.exc_info())

    def switch_args(self, *args) -> None:
        return self.switch(args)

    def throw(self, *throw_args) -> None:
        """Raise in the waiting greenlet (or store the exception if nobody waits yet)."""
        glet = self.greenlet
        if glet is None:
            self._exception = throw_args
            return
        if getcurrent() is not self.hub:
            raise AssertionError("Can only use Waiter.throw method from the Hub greenlet")
        throw = glet.throw
        try:
            throw(*throw_args)
        except BaseException:
            self.hub.handle_error(throw, *sys.exc_info())

    def get(self):
        """Wait for the value (a switch point); raise what ``throw`` was given."""
        exception = self._exception
        if exception is not _NONE:
            if exception is None:
                return self.value
            getcurrent().throw(*exception)
        if self.greenlet is not None:
            raise ConcurrentObjectUseError(f"This Waiter is already used by {self.greenlet!r}")
        self.greenlet = getcurrent()
        try:
            return self.hub.switch()
        finally:
            self.greenlet = None

    def __call__(self, source) -> None:
        if source.exception is None:
            self.switch(source.value)
        else:
            self.throw(source.exception)


_raw_switch = RawGreenlet.switch


def sleep(seconds: float = 0, ref: bool = True) -> None:
    """Suspend the current greenlet for *seconds*. A switch point.

    ``sleep(0)`` lets every other greenlet that is ready run once (FIFO) and then resumes.
    With ``ref=False`` the sleep alone does not keep the loop running.
    """
    hub = _threadlocal.hub
    if hub is None:
        hub = _get_hub_noargs()
    current = getcurrent()
    if current is hub:
        raise BlockingSwitchOutError(
            "Impossible to call blocking function in the event loop callback"
        )
    loop = hub.loop
    if seconds <= 0:
        entry = [current, None]  # the loop switches into it (see _core/_loop.py)
        loop._ready.append(entry)
        try:
            result = _raw_switch(hub)
        except BaseException:
            entry[0] = None
            raise
        if result is not _NO_ARGS:
            entry[0] = None
            raise _invalid_switch(current, result)
    else:
        entry = loop._timers.add(monotonic() + seconds, current.switch, _NO_ARGS, ref)
        try:
            result = _raw_switch(hub)
        finally:
            loop._timers.cancel(entry)
        if result is not _NO_ARGS:
            raise _invalid_switch(current, result)


# What switch() with no arguments returns: the loop's wake-up of a sleeper. Anything else came
# from some other code switching into the sleeping greenlet, which gevent reports as an error.
_NO_ARGS: tuple = ()


def _invalid_switch(current, result) -> InvalidSwitchError:
    return InvalidSwitchError(
        f"Invalid switch into {current!r}: got {result!r} (expected the hub's wake-up)"
    )


def idle(priority: int = 0) -> None:
    """Wait until the loop has nothing else ready to run. A switch point."""
    hub = get_hub()
    watcher = hub.loop.idle()
    if priority:
        watcher.priority = priority
    hub.wait(watcher)


def kill(greenlet, exception=GreenletExit) -> None:
    """Raise *exception* in *greenlet* soon, without waiting. Works for raw greenlets too."""
    if getcurrent() is greenlet:
        raise exception if isinstance(exception, BaseException) else exception()
    if hasattr(greenlet, "kill"):
        greenlet.kill(exception=exception, block=False)
        return
    if not greenlet.dead:
        get_hub().loop.run_callback(greenlet.throw, exception)


def spawn_raw(function, *args, **kwargs):
    """Start *function* in a plain greenlet (no links, no result). Returns the greenlet."""
    if not callable(function):
        raise TypeError("function must be callable")
    hub = get_hub()
    if kwargs:
        import functools

        function = functools.partial(function, **kwargs)
    glet = RawGreenlet(function, hub)
    if _tracking[0] and (_config_checked[0] or _track_tree()):
        spawner = getcurrent()
        glet.spawning_greenlet = _wref(spawner)
        try:
            glet.spawn_tree_locals = spawner.spawn_tree_locals
        except AttributeError:
            glet.spawn_tree_locals = _tree_locals_of(spawner)
    hub.loop.run_callback(glet.switch, *args)
    return glet


def reinit(hub=None) -> None:
    """Prepare the hub for use after ``os.fork()``.

    The loop is rebuilt by our at-fork hook already, so this only exists for compatibility.
    """
    hub = hub if hub is not None else _threadlocal.hub
    if hub is not None and hub.loop is not None:
        hub.loop.reinit()


# signal_handler lives in its own module, which builds on get_hub, so it is imported last (kept
# apart for the size of this module).
from ._hub_signal import signal_handler  # noqa: E402

signal = signal_handler
