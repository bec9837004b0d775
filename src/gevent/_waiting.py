# Theory of operation: gevent.wait / gevent.iwait over anything with rawlink/unlink.
#
# One link callback is added to every object; it queues the object and, only if the waiting
# greenlet is parked in ``__next__`` right now, switches to it (the link runs in the hub). The
# waiter may be busy elsewhere between items, so the flag matters. Leaving the iterator (end,
# timeout, exception, ``close()``) unlinks everything.

from __future__ import annotations

from collections import deque
from time import monotonic
from typing import Any

from greenlet import getcurrent

from .hub import _get_hub_noargs as get_hub

__all__ = ["iwait", "wait"]


class _TimedOut:
    pass


_TIMED_OUT = _TimedOut()


class _WaitIterator:
    def __init__(self, objects, timeout: float | None, count: int | None) -> None:
        self._objects = list(objects)
        self._count = len(self._objects) if count is None else min(count, len(self._objects))
        self._deadline = None if timeout is None else monotonic() + timeout
        self._ready: deque = deque()
        self._parked: Any = None
        self._hub = get_hub()
        self._yielded = 0
        self._linked = False
        self._fired = 0

    def _on_ready(self, obj) -> None:
        self._fired += 1
        self._ready.append(obj)
        parked = self._parked
        if parked is not None:
            self._parked = None
            parked.switch(None)

    def _link(self) -> None:
        self._linked = True
        for obj in self._objects:
            obj.rawlink(self._on_ready)

    def __iter__(self):
        return self

    def __next__(self):
        if self._yielded >= self._count:
            self._cleanup()
            raise StopIteration
        if not self._linked:
            self._link()
        ready = self._ready
        hub = self._hub
        while not ready:
            current = getcurrent()
            timer = None
            if self._deadline is not None:
                timer = hub.loop._timers.add(self._deadline, self._expire, (current,), True)
            self._parked = current
            try:
                result = hub.switch()
            except BaseException:
                self._parked = None
                self._cleanup()
                raise
            finally:
                if timer is not None:
                    hub.loop._timers.cancel(timer)
            if result is _TIMED_OUT:
                self._cleanup()
                raise StopIteration
        self._yielded += 1
        return ready.popleft()

    def _expire(self, current) -> None:
        if self._parked is current:
            self._parked = None
            current.switch(_TIMED_OUT)

    def _cleanup(self) -> None:
        if self._linked:
            self._linked = False
            if self._fired >= len(self._objects):
                return  # every link has fired and been consumed: nothing left to unlink
            for obj in self._objects:
                unlink = getattr(obj, "unlink", None)
                if unlink is not None:
                    unlink(self._on_ready)

    close = _cleanup

    def __enter__(self):
        return self

    def __exit__(self, *exc_info) -> None:
        self._cleanup()


def iwait(objects, timeout: float | None = None, count: int | None = None):
    """Yield each of *objects* as it becomes ready, for at most *timeout* seconds.

    *objects* are anything with ``rawlink`` (greenlets, events, async results). With
    ``objects=None``, wait for the loop to run out of work. A switch point.
    """
    if objects is None:
        return iter([get_hub().join(timeout=timeout)])
    return _WaitIterator(objects, timeout, count)


def wait(objects=None, timeout: float | None = None, count: int | None = None):
    """Wait for *objects* (or, with None, for the loop to run out of work).

    Returns the list of objects that became ready; with ``objects=None``, True if the loop
    finished and False if *timeout* passed first. A switch point.
    """
    if objects is None:
        return get_hub().join(timeout=timeout)
    return list(_WaitIterator(objects, timeout, count))
