"""Channel: the unbuffered queue of :mod:`gevent.queue`, where ``put`` meets ``get``.

Re-exported by :mod:`gevent.queue`, where users import it.
"""

from __future__ import annotations

from _queue import Empty
from collections import deque
from queue import Full
from types import GenericAlias
from typing import TYPE_CHECKING, Generic, TypeVar

from greenlet import getcurrent

from ._semaphore import (
    _PUT_DONE,
    _TIMED_OUT,
    _current_hub_and_switch,
    _leave,
    _park,
    _queue_wake,
    _timed_out_error,
)
from .hub import _threadlocal, sleep

if TYPE_CHECKING:
    from typing_extensions import Self  # typing.Self is 3.11+; only checkers read this

T = TypeVar("T")


class Channel(Generic[T]):
    """An unbuffered queue: ``put`` waits until a getter takes the item (a rendezvous)."""

    if not TYPE_CHECKING:
        __class_getitem__ = classmethod(GenericAlias)  # as on gevent.queue.SimpleQueue

    def __init__(self, maxsize: int = 1) -> None:
        if maxsize != 1:
            raise ValueError("Channels have a maxsize of 1")
        self.getters: deque = deque()
        self.putters: deque = deque()
        self.hub = None

    def __repr__(self) -> str:
        return f"<{type(self).__name__} at {id(self):#x} {self._format()}>"

    def __str__(self) -> str:
        return f"<{type(self).__name__} {self._format()}>"

    def _format(self) -> str:
        parts = []
        if self.getters:
            parts.append(f"getters[{len(self.getters)}]")
        if self.putters:
            parts.append(f"putters[{len(self.putters)}]")
        return " ".join(parts)

    @property
    def balance(self) -> int:
        """Waiting putters minus waiting getters."""
        return len(self.putters) - len(self.getters)

    def qsize(self) -> int:
        return 0

    def empty(self) -> bool:
        return True

    def full(self) -> bool:
        return True

    def put(self, item: T, block: bool = True, timeout: float | None = None) -> None:
        """Hand *item* to a getter, waiting for one. A switch point.

        Raises :class:`Full` if none comes (at once without *block*, or after *timeout*).
        """
        getters = self.getters
        if getters:
            hub = _threadlocal.hub
            _queue_wake(getters.popleft(), item, hub)
            if block and hub is not None and getcurrent() is not hub:
                # A rendezvous: the getter runs with the item before this put returns (as
                # in gevent, where put always waits for the hand-over).
                sleep(0)
            return
        if not block:
            raise Full
        hub, switch = _current_hub_and_switch()
        rec = [switch, hub, None, item]
        putters = self.putters
        putters.append(rec)
        try:
            result = _park(hub, switch, timeout)
        except BaseException:
            _leave(putters, rec)
            raise
        if result is _TIMED_OUT:
            queued, _ = _leave(putters, rec)
            if queued:
                raise _timed_out_error(timeout, Full)

    def put_nowait(self, item: T) -> None:
        self.put(item, False)

    def get(self, block: bool = True, timeout: float | None = None) -> T:
        """Take an item from a putter, waiting for one. A switch point.

        Raises :class:`Empty` if none comes (at once without *block*, or after *timeout*).
        """
        putters = self.putters
        if putters:
            rec = putters.popleft()
            item = rec[3]
            _queue_wake(rec, _PUT_DONE, _threadlocal.hub)
            return item
        if not block:
            raise Empty
        hub, switch = _current_hub_and_switch()
        rec = [switch, hub, None]
        getters = self.getters
        getters.append(rec)
        try:
            result = _park(hub, switch, timeout)
        except BaseException:
            queued, item = _leave(getters, rec)
            if not queued and getters:
                # Handed an item but leaving: the next getter takes it instead.
                _queue_wake(getters.popleft(), item, _threadlocal.hub)
            raise
        if result is _TIMED_OUT:
            queued, result = _leave(getters, rec)
            if queued:
                raise _timed_out_error(timeout, Empty)
        return result

    def get_nowait(self) -> T:
        return self.get(False)

    def __iter__(self) -> Self:
        return self

    def __next__(self) -> T:
        result = self.get()
        if result is StopIteration:
            raise result
        return result

    next = __next__


# Users meet it as gevent.queue's (reprs, pickling, introspection).
Channel.__module__ = "gevent.queue"
