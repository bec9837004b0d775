"""gevent and asyncio in one process, both ways.

Greenlets and coroutines share one hub per thread: an :class:`EventLoop` is a complete asyncio
event loop whose waiting (fds, timers, signals, child processes) is done by the hub, so neither
side can stall the other.

- From a greenlet, :func:`await_` runs an awaitable and blocks only that greenlet; :func:`run` is
  ``asyncio.run`` for a greenlet (many may run at once); :func:`spawn` makes a Greenlet of an
  awaitable.
- From a coroutine, ``await wrap(greenlet_or_event)`` waits for a gevent object, and
  ``await run_green(func, ...)`` runs blocking gevent code in a new greenlet.
- Blocking gevent calls made *inside* a coroutine (``time.sleep`` under patch_all,
  ``gevent.sleep``, green sockets, ``Queue.get``) suspend only that task: the task's step goes
  on in a greenlet of its own while the loop runs the other tasks. (During such a call the task
  cannot be cancelled; the cancellation is delivered when the call returns.)
- :func:`gevent.monkey.patch_asyncio` installs :class:`EventLoopPolicy`, so ``asyncio.run()``,
  ``asyncio.new_event_loop()`` and ``asyncio.get_event_loop()`` work per greenlet.

Importing this module creates no hub and no loop.
"""

from __future__ import annotations

import inspect
import sys
import weakref
from asyncio import coroutines, events, futures, tasks
from asyncio import unix_events as _unix_events
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from greenlet import getcurrent

from . import _asyncio_runner
from ._asyncio_loop import HUB_MESSAGE, EventLoop
from .hub import _threadlocal, get_hub

__all__ = [
    "EventLoop",
    "EventLoopPolicy",
    "get_loop",
    "await_",
    "run",
    "spawn",
    "wrap",
    "run_green",
]

_T = TypeVar("_T")


def get_loop() -> EventLoop:
    """This thread's hub's EventLoop, created on first use (and again after it was closed).

    Its tasks and callbacks run whenever the hub runs, as greenlets do (a server started with
    ``await_`` keeps serving after ``await_`` returns); it does not keep the hub alive by
    itself, and ``is_running()`` is true only while someone waits on it.
    """
    hub = get_hub()
    state = _asyncio_runner.hub_state(hub)
    loop = state.default_loop
    if loop is None or loop.is_closed():
        loop = state.default_loop = EventLoop(hub)
        loop._run_in_background()
    return loop


# -- the policy --------------------------------------------------------------------------------

_PolicyBase = getattr(_unix_events, "_UnixDefaultEventLoopPolicy", None) or getattr(
    events, "_BaseDefaultEventLoopPolicy", None) or events.BaseDefaultEventLoopPolicy


class EventLoopPolicy(_PolicyBase):  # type: ignore[misc, valid-type]
    """Hands out the hub's EventLoop; ``set_event_loop`` and ``get_event_loop`` are per
    greenlet, and ``new_event_loop`` makes a new EventLoop on this thread's hub."""

    _loop_factory = EventLoop

    def __init__(self) -> None:
        super().__init__()
        self._greenlet_loops: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    def get_event_loop(self):
        running = events._get_running_loop()
        if running is not None:
            return running
        current = getcurrent()
        try:
            loop = self._greenlet_loops[current]
        except KeyError:
            return get_loop()
        if loop is None:
            raise RuntimeError(f"There is no current event loop in greenlet {current!r}.")
        return loop

    def set_event_loop(self, loop) -> None:
        if loop is not None and not isinstance(loop, events.AbstractEventLoop):
            raise TypeError(
                f"loop must be an instance of AbstractEventLoop or None, not "
                f"'{type(loop).__name__}'")
        self._greenlet_loops[getcurrent()] = loop

    def new_event_loop(self):
        return EventLoop()


def _install_policy(policy) -> None:
    setter = getattr(events, "_set_event_loop_policy", None)  # 3.14: the public one warns
    if setter is None:
        setter = events.set_event_loop_policy
    setter(policy)


def _current_policy():
    getter = getattr(events, "_get_event_loop_policy", None) or events.get_event_loop_policy
    return getter()


# -- greenlet -> coroutine ---------------------------------------------------------------------


def _check_awaitable(awaitable, what: str) -> None:
    if inspect.isawaitable(awaitable):
        return
    if coroutines.iscoroutinefunction(awaitable):
        raise TypeError(
            f"{what} needs an awaitable, got the coroutine function {awaitable!r}: "
            "did you forget to call it?")
    raise TypeError(f"{what} needs an awaitable (a coroutine, Task or Future), got {awaitable!r}")


def await_(awaitable: Awaitable[_T], timeout: float | None = None) -> _T:
    """Run *awaitable* on the asyncio loop and wait for it, blocking only this greenlet.

    A switch point. Returns its result or raises its exception. A coroutine runs on the loop
    of the task that called us (if any), else on this hub's loop (:func:`get_loop`). After
    *timeout* seconds, raises :class:`gevent.Timeout`; that, or killing this greenlet,
    cancels the task. Must not be called from the hub greenlet.
    """
    _check_awaitable(awaitable, "await_()")
    hub = get_hub()
    if getcurrent() is hub:
        if coroutines.iscoroutine(awaitable):
            awaitable.close()
        raise RuntimeError(HUB_MESSAGE.format(what="gevent.asyncio.await_()"))
    if futures.isfuture(awaitable):
        loop = getattr(futures, "_get_loop")(awaitable)  # noqa: B009 (not in the stubs)
        if not isinstance(loop, EventLoop):
            raise RuntimeError(
                f"await_() can only wait for futures of a gevent.asyncio.EventLoop; {awaitable!r} "
                f"belongs to {loop!r}")
        if loop._hub is not hub:
            raise RuntimeError(
                f"await_(): {awaitable!r} belongs to the event loop of another thread's hub; use "
                "asyncio.run_coroutine_threadsafe() or wrap_future() there")
    else:
        running = events._get_running_loop()
        if isinstance(running, EventLoop) and running._hub is hub and not running.is_closed():
            loop = running
        else:
            loop = get_loop()
    future = tasks.ensure_future(awaitable, loop=loop)
    return loop._wait_future(future, timeout)


def run(main, *, debug: bool | None = None):
    """``asyncio.run`` for a greenlet: run coroutine *main* on a new EventLoop and close it.

    Blocks only the calling greenlet (a switch point); any number of greenlets may run at once.
    As ``asyncio.run``: remaining tasks are cancelled, async generators and the default
    executor are shut down, and it refuses to run inside a running asyncio loop.
    """
    if events._get_running_loop() is not None:
        raise RuntimeError("asyncio.run() cannot be called from a running event loop")
    if not coroutines.iscoroutine(main):
        raise ValueError(f"a coroutine was expected, got {main!r}")
    if getcurrent() is get_hub():
        main.close()
        raise RuntimeError(HUB_MESSAGE.format(what="gevent.asyncio.run()"))
    loop = EventLoop()
    policy = _current_policy()
    ours = isinstance(policy, EventLoopPolicy)
    try:
        if ours:
            policy.set_event_loop(loop)
        if debug is not None:
            loop.set_debug(debug)
        return loop.run_until_complete(main)
    finally:
        try:
            _cancel_all_tasks(loop)
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.run_until_complete(loop.shutdown_default_executor())
        finally:
            if ours:
                policy.set_event_loop(None)
            loop.close()


def _cancel_all_tasks(loop) -> None:
    pending = tasks.all_tasks(loop)
    if not pending:
        return
    for task in pending:
        task.cancel()
    loop.run_until_complete(tasks.gather(*pending, return_exceptions=True))
    for task in pending:
        if task.cancelled():
            continue
        if task.exception() is not None:
            loop.call_exception_handler({
                "message": "unhandled exception during asyncio.run() shutdown",
                "exception": task.exception(),
                "task": task,
            })


def spawn(awaitable: Awaitable[_T]):
    """A new :class:`gevent.Greenlet` that awaits *awaitable* (see :func:`await_`); its
    ``value`` is the result. Killing the greenlet cancels the task."""
    from .greenlet import Greenlet

    _check_awaitable(awaitable, "spawn()")
    glet = Greenlet(await_, awaitable)
    if coroutines.iscoroutine(awaitable):
        glet.rawlink(_close_unstarted(awaitable))
    glet.start()
    return glet


def _close_unstarted(coro):
    def close(_glet) -> None:
        # Killed before it ran: close the coroutine instead of "never awaited" warnings.
        if inspect.getcoroutinestate(coro) == inspect.CORO_CREATED:
            coro.close()

    return close


# -- coroutine -> greenlet ---------------------------------------------------------------------


class wrap:
    """An awaitable for a gevent object: a Greenlet, AsyncResult, Event, or anything with
    ``rawlink``/``unlink``. ``await wrap(g)`` gives ``g``'s value or raises its exception
    (an Event gives True). Awaiting never blocks the loop; cancelling only stops the wait."""

    __slots__ = ("obj",)

    def __init__(self, obj) -> None:
        if inspect.isawaitable(obj):
            raise TypeError(f"wrap() takes a gevent object (Greenlet, Event, AsyncResult), "
                            f"not the awaitable {obj!r}: await it directly")
        if not callable(getattr(obj, "rawlink", None)):
            raise TypeError(f"wrap() needs an object with rawlink(), got {obj!r}")
        self.obj = obj

    def __await__(self):
        return self._wait().__await__()

    async def _wait(self):
        obj = self.obj
        if not _is_ready(obj):
            loop = events.get_running_loop()
            future = loop.create_future()

            def ready(_source) -> None:
                if _threadlocal.hub is getattr(loop, "_hub", None):
                    _set_if_pending(future)
                else:
                    loop.call_soon_threadsafe(_set_if_pending, future)

            obj.rawlink(ready)
            try:
                await future
            finally:
                unlink = getattr(obj, "unlink", None)
                if unlink is not None:
                    unlink(ready)
        return _outcome(obj)

    def __repr__(self) -> str:
        return f"<gevent.asyncio.wrap {self.obj!r}>"


def _set_if_pending(future) -> None:
    if not future.done():
        future.set_result(None)


def _is_ready(obj) -> bool:
    for name in ("ready", "is_set"):
        method = getattr(obj, name, None)
        if method is not None:
            return bool(method())
    return False


def _outcome(obj):
    if hasattr(obj, "get") and hasattr(obj, "successful"):
        return obj.get(block=False)
    if hasattr(obj, "is_set"):
        return obj.is_set()
    return getattr(obj, "value", None)


async def run_green(func: Callable[..., _T], *args: Any, **kwargs: Any) -> _T:
    """Run ``func(*args, **kwargs)`` in a new greenlet and await its result. Cancelling the
    awaiting task kills that greenlet (and waits for it to die)."""
    from .greenlet import Greenlet

    if coroutines.iscoroutinefunction(func):
        raise TypeError(f"run_green() runs blocking gevent code, not the coroutine function "
                        f"{func!r}: await it directly")
    glet = Greenlet.spawn(func, *args, **kwargs)
    try:
        result = await wrap(glet)
    except BaseException:
        if not glet.dead:
            glet.kill(block=False)
            try:
                await tasks.shield(wrap(glet))
            except BaseException:  # its death (GreenletExit, or what it raised) is expected
                pass
        raise
    if coroutines.iscoroutine(result):
        result.close()
        raise TypeError(f"run_green(): {func!r} returned a coroutine; await it instead")
    return result


# Last: patch_all() may have asked for our policy while this module was being imported (asyncio,
# which it imports first, finished importing before the names above existed).
_ready_to_patch = True
if "gevent.monkey._asyncio" in sys.modules:
    sys.modules["gevent.monkey._asyncio"].install_pending()
