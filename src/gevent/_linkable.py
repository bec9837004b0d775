# Theory of operation: the fair FIFO wait queue every primitive is built on.
#
# A linkable keeps ``_links``, a deque of callables; each is called with the linkable when it
# becomes ready, oldest first, for as long as it stays ready (a semaphore stops waking waiters
# when its permits run out). Waking happens in a callback on the owner hub's loop, never inside
# ``set()``/``release()``, so those never switch away from their caller.
#
# Threads: ``hub`` is the hub that owns the notifications (the first to use the object). A waiter
# from another thread's hub links a ``_ForeignLink`` that forwards the wake-up to its own loop with
# ``run_callback_threadsafe``; a notification requested from a thread other than the owner's is
# queued on the owner's loop the same way.
#
# Waiting: ``_wait_core(timeout)`` links ``current.switch`` and switches to the hub. A normal wake
# passes the linkable itself; the timeout timer passes ``_TIMED_OUT``. Whatever woke us, the link
# and the timer are gone on the way out, so a killed waiter leaves nothing registered.

from __future__ import annotations

from collections import deque
from time import monotonic
from typing import Any

from greenlet import getcurrent

from .hub import _get_hub_noargs as get_hub
from .hub import get_hub_if_exists

__all__ = ["AbstractLinkable"]


class _TimedOut:
    def __repr__(self) -> str:
        return "<timed out>"


_TIMED_OUT = _TimedOut()


class _ForeignLink:
    """A waiter in another thread: forward the wake-up to its hub's loop."""

    __slots__ = ("hub", "target")

    def __init__(self, hub, target) -> None:
        self.hub = hub
        self.target = target

    def __call__(self, source) -> None:
        self.hub.loop.run_callback_threadsafe(self.target, source)

    def __eq__(self, other) -> bool:
        if isinstance(other, _ForeignLink):
            return self.target == other.target
        return self.target == other

    def __hash__(self) -> int:
        return hash(self.target)


class AbstractLinkable:
    """Base of Event, AsyncResult, Semaphore: a fair FIFO of links notified when ready."""

    __slots__ = ("hub", "_links", "_notifier", "_rawlinks", "__weakref__")

    def __init__(self, hub=None) -> None:
        self.hub = hub
        self._links: deque = deque()
        self._notifier: Any = None
        self._rawlinks: list | None = None  # see gevent._semaphore._Linkable.rawlink

    def ready(self) -> bool:
        raise NotImplementedError

    def linkcount(self) -> int:
        return len(self._links)

    def rawlink(self, callback) -> None:
        """Call ``callback(self)`` from the hub when this object becomes ready."""
        if not callable(callback):
            raise TypeError(f"Expected callable: {callback!r}")
        self._links.append(callback)
        self._check_and_notify()

    def unlink(self, callback) -> None:
        """Remove a callback added with ``rawlink``; unknown callbacks are ignored."""
        try:
            self._links.remove(callback)
        except ValueError:
            pass  # not linked, or already called: nothing to remove

    def _check_and_notify(self) -> None:
        if self._links and self._notifier is None and self.ready():
            self._schedule_notify()

    def _schedule_notify(self) -> None:
        hub = self.hub
        if hub is None:
            hub = self.hub = get_hub()
        if get_hub_if_exists() is hub:
            entry = [self._notify_links, ()]
            hub.loop._ready.append(entry)
            self._notifier = entry
        else:
            self._notifier = True
            hub.loop.run_callback_threadsafe(self._notify_links)

    def _notify_links(self) -> None:
        links = self._links
        try:
            while links and self.ready():
                link = links.popleft()
                try:
                    link(self)
                except BaseException:
                    import sys

                    (self.hub or get_hub()).handle_error((link, self), *sys.exc_info())
        finally:
            self._notifier = None
        # A link may have made us ready again for the rest (Event.set inside a callback).
        if links and self.ready():
            self._schedule_notify()

    def _wait_core(self, timeout: float | None) -> bool:
        """Switch to the hub until notified (True) or *timeout* seconds pass (False)."""
        current = getcurrent()
        hub = get_hub()
        owner = self.hub
        if owner is None:
            owner = self.hub = hub
        foreign = owner is not hub
        link = _ForeignLink(hub, current.switch) if foreign else current.switch
        self._links.append(link)
        loop = hub.loop
        if foreign:
            # Another thread will wake us: our loop must not decide it has nothing left to do.
            loop._add_ref()
        timer = None
        if timeout is not None:
            timer = loop._timer_at(monotonic() + max(timeout, 0.0), current.switch, (_TIMED_OUT,))
        try:
            result = hub.switch()
        except BaseException:
            self.unlink(link)
            raise
        finally:
            if timer is not None:
                loop._timer_cancel(timer)
            if foreign:
                loop._drop_ref()
        if result is _TIMED_OUT:
            self.unlink(link)
            return False
        return True

    def _drop_links(self) -> None:
        self._links.clear()
