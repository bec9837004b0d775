"""Queues for greenlets, with the interface of the standard library's :mod:`queue`.

:class:`Queue` (also ``JoinableQueue``), :class:`SimpleQueue`, :class:`PriorityQueue`,
:class:`LifoQueue`, :class:`UnboundQueue` and the unbuffered :class:`Channel`. Blocked getters
and putters are served in FIFO order: a ``put`` hands its item straight to the longest-waiting
getter, and a ``get`` from a full queue takes in the item of the longest-waiting putter. Items
may be put from another thread to wake a getter in this one.

``shutdown()`` works as in Python 3.13's :mod:`queue`, on every Python version. Iterating a
queue gets items until one of them is ``StopIteration``.
"""

from __future__ import annotations

import heapq
from _queue import Empty
from collections import deque
from collections.abc import Iterable
from functools import partial
from queue import Full
from types import GenericAlias
from typing import TYPE_CHECKING, Generic, TypeVar

from ._queue_channel import Channel
from ._semaphore import (
    _PUT_DONE,
    _TIMED_OUT,
    _WATCH,
    _current_hub_and_switch,
    _leave,
    _Marker,
    _park,
    _queue_wake,
    _timed_out_error,
)
from .event import Event
from .hub import _threadlocal

if TYPE_CHECKING:
    from typing_extensions import Self  # typing.Self is 3.11+; only checkers read this

try:
    from queue import ShutDown  # type: ignore[attr-defined]
except ImportError:  # Python < 3.13

    class ShutDown(Exception):  # type: ignore[no-redef]
        """Raised by ``put``/``get`` on a queue that was shut down."""


__all__ = [
    "Queue",
    "PriorityQueue",
    "LifoQueue",
    "SimpleQueue",
    "JoinableQueue",
    "Channel",
    "Empty",
    "Full",
    "ShutDown",
]

__implements__ = ["Queue", "PriorityQueue", "LifoQueue", "SimpleQueue"]
__extensions__ = ["JoinableQueue", "Channel", "ShutDown"]

T = TypeVar("T")

#: Stands in for the queue in SimpleQueue._out while putters wait; never holds anything.
_NOTHING: deque = deque()

#: The wake value that tells a blocked getter or putter the queue was shut down.
_SHUT_DOWN = _Marker("shut down")
_EMPTY = _Marker("empty")
#: Wakes a getter of a queue whose storage hooks are overridden: the item is in the queue, and
#: the getter takes it through the hook itself (so a failing hook raises in the getter).
_TAKE = _Marker("take")


class _PutFailed:
    """Wakes a putter whose item the storage hook refused: its put raises *error*."""

    __slots__ = ("error",)

    def __init__(self, error: BaseException) -> None:
        self.error = error


#: How many puts may append without a further check (see SimpleQueue._refresh_credit). Kept
#: within CPython's cache of small ints, so counting them down allocates nothing.
_CREDITS = 256

#: The methods through which a subclass changes how items are stored.
_STORAGE_HOOKS = ("_create_queue", "_init", "_bind", "_put", "_get")


class SimpleQueue(Generic[T]):
    """A FIFO queue, unbounded unless *maxsize* is a positive number.

    *items* fill it initially. ``maxsize`` may be changed at any time.
    """

    if not TYPE_CHECKING:
        # types.GenericAlias, as the stdlib's queues use: ``Queue[int]`` at run time without
        # typing's alias machinery. mypy gets the same meaning from Generic[T].
        __class_getitem__ = classmethod(GenericAlias)

    _joinable = False
    # Used only by joinable queues (Queue and its subclasses); the shared slow paths test
    # _joinable before touching them.
    unfinished_tasks: int
    _cond: Event

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        # put and get name the deque's methods directly (the hot path); a subclass with
        # other storage (any storage hook overridden) gets the versions that go through
        # self._append and self._pop, unless it defines put or get itself.
        if all(getattr(cls, hook) is getattr(SimpleQueue, hook) for hook in _STORAGE_HOOKS):
            return
        for name in ("put", "get"):
            method = getattr(cls, name)
            generic = getattr(cls, f"_{name}_generic")
            if method is not generic and method in _DEQUE_METHODS:
                setattr(cls, name, generic)

    def __init__(self, maxsize: int | None = None, items: Iterable[T] = (),
                 _warn_on_deprecation: bool = True) -> None:
        if maxsize is not None and maxsize <= 0:
            maxsize = None
        self._maxsize: int | None = maxsize
        self.getters: deque = deque()
        self.putters: deque = deque()
        self.hub = None
        self.is_shutdown = False
        #: How many more puts may simply append (see _refresh_credit): 0 while a getter waits
        #: or after shutdown, else at most the room a bounded queue had when it was set.
        self._credit = 0
        #: Joinable queues: the unfinished tasks plus _credit (a put on the fast path spends
        #: a credit, so it is counted when credits are handed out, not one by one).
        self._tasks = 0
        if items:
            self._init(maxsize, items)
        else:
            # The stdlib's hook takes maxsize only; subclasses written for it override so.
            self._init(maxsize)
        self._bind()
        self._refresh_credit()

    # -- storage (subclasses replace these) -----------------------------------------------

    def _create_queue(self, items: Iterable = ()):
        return deque(items)

    def _init(self, maxsize, items: Iterable = ()) -> None:
        self.queue = self._create_queue(items)

    def _bind(self) -> None:
        """Set ``_append`` and ``_pop`` (called after ``_init``)."""
        queue = self.queue
        #: What get pops from without a further test: the queue itself, or while putters
        #: wait, an empty deque, so that get falls to its slow path and serves them.
        self._out = queue
        if type(queue) is deque:
            self._append = queue.append
            self._pop = queue.popleft
            self._respect_overrides(SimpleQueue)
        else:  # a subclass's _init stored something else: only the hooks know it
            self._append = self._put
            self._pop = self._get
            self._use_hooks_for_hand_over()

    def _respect_overrides(self, base: type) -> None:
        # A subclass that overrides the documented hooks (of *base*, the class whose _bind
        # runs) gets them called; they reach the storage through super()._put/_get.
        cls = type(self)
        overridden = False
        if cls._put is not base._put:  # type: ignore[attr-defined]
            self._append = self._put
            overridden = True
        if cls._get is not base._get:  # type: ignore[attr-defined]
            self._pop = self._get
            overridden = True
        if overridden:
            self._use_hooks_for_hand_over()

    def _use_hooks_for_hand_over(self) -> None:
        # Items then always go through _put and _get, as in the stdlib and gevent, instead of
        # straight from a putter to a waiting getter: a hook that raises does so in the
        # caller whose hook it is. Instance attributes: the plain queues pay nothing.
        self._hand_to_getter = self._hand_over_via_hooks  # type: ignore[method-assign]
        self._feed_getters = self._wake_takers  # type: ignore[method-assign]

    def _refresh_credit(self) -> None:
        """Hand out put credits for the current state (called after every state change)."""
        if self.getters or self.is_shutdown:
            credit = 0
        else:
            maxsize = self._maxsize
            if maxsize is None:
                credit = _CREDITS
            else:
                credit = min(_CREDITS, max(0, maxsize - len(self.queue)))
        # Room only grows behind our back (gets), so a bounded queue's credit never lets a
        # put overfill it; once spent, the slow path looks again.
        self._tasks += credit - self._credit
        self._credit = credit

    def _revoke_credit(self) -> None:
        self._tasks -= self._credit
        self._credit = 0

    def _put(self, item) -> None:
        self.queue.append(item)

    def _get(self):
        return self.queue.popleft()

    def _peek(self):
        return self.queue[0]

    def _qsize(self) -> int:
        return len(self.queue)

    def _push_back(self, item) -> None:
        """Undo a ``_get``: the item goes back where it came from."""
        self.queue.appendleft(item)

    # -- introspection --------------------------------------------------------------------

    def copy(self) -> Self:
        """A new queue of the same class, maxsize and items (no waiters)."""
        return type(self)(self._maxsize, self.queue)

    def _format(self) -> str:
        result = []
        if self._maxsize is not None:
            result.append(f"maxsize={self._maxsize!r}")
        if getattr(self, "queue", None):
            result.append(f"queue={self.queue!r}")
        if self.getters:
            result.append(f"getters[{len(self.getters)}]")
        if self.putters:
            result.append(f"putters[{len(self.putters)}]")
        return " ".join(result)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} at {id(self):#x} {self._format()}>"

    def __str__(self) -> str:
        return f"<{type(self).__name__} {self._format()}>"

    def qsize(self) -> int:
        """How many items are in the queue now."""
        return len(self.queue)

    def __len__(self) -> int:
        return len(self.queue)

    def __bool__(self) -> bool:
        # A queue is always true, even when empty (gevent's long-standing behaviour).
        return True

    def empty(self) -> bool:
        """True if the queue holds no items."""
        return not self.queue

    def full(self) -> bool:
        """True if a ``put`` would block."""
        maxsize = self._maxsize
        return maxsize is not None and len(self.queue) >= maxsize

    @property
    def maxsize(self) -> int | None:
        """The most items the queue holds (None: unbounded). Assigning it wakes putters."""
        return self._maxsize

    @maxsize.setter
    def maxsize(self, value: int | None) -> None:
        if value is not None and value <= 0:
            value = None
        self._maxsize = value
        if self.putters:
            self._take_from_putters()  # ends with _refresh_credit
        else:
            self._refresh_credit()

    # -- putting --------------------------------------------------------------------------

    def put(self, item: T, block: bool = True, timeout: float | None = None) -> None:
        """Put *item* in the queue. A switch point while the queue is full.

        With *block* false, or once *timeout* seconds pass, raises :class:`Full` instead of
        waiting. Raises :class:`ShutDown` after ``shutdown()``.
        """
        # One test for every kind of queue: a credit means nobody waits to get, the queue
        # is not shut down and (bounded) has room; a joinable queue counted the task when
        # it handed the credit out. The deque's own method, not self._append: CPython
        # specialises this call and not one through an instance attribute; subclasses
        # with other storage get _put_generic instead (__init_subclass__).
        credit = self._credit
        if credit:
            self._credit = credit - 1
            self.queue.append(item)
            return
        self._put_slow(item, block, timeout)

    def _put_generic(self, item: T, block: bool = True, timeout: float | None = None) -> None:
        credit = self._credit
        if credit:
            self._credit = credit - 1
            try:
                self._append(item)
            except BaseException:
                self._credit += 1  # the hook refused the item: nothing was put
                raise
            return
        self._put_slow(item, block, timeout)

    def _put_slow(self, item, block: bool, timeout: float | None) -> None:
        if self.is_shutdown:
            raise ShutDown
        self._tasks += 1
        getters = self.getters
        maxsize = self._maxsize
        try:
            if getters and self._hand_to_getter(item):
                return
            if maxsize is None or len(self.queue) < maxsize:
                self._append(item)
                self._refresh_credit()  # the next puts take the fast path again
                return
        except BaseException:
            self._undo_task()  # a storage hook refused the item
            raise
        if not block:
            self._undo_task()
            raise Full
        self._wait_put(item, timeout)

    def put_nowait(self, item: T) -> None:
        """``put(item, block=False)``."""
        self.put(item, False)

    def _undo_task(self) -> None:
        self._tasks -= 1
        if self._joinable and self._tasks == self._credit:
            self._cond.set()

    def _hand_to_getter(self, item) -> bool:
        """Give *item* to the first waiting getter (peekers ahead of it see it too)."""
        getters = self.getters
        current_hub = _threadlocal.hub
        while getters:
            try:
                rec = getters.popleft()
            except IndexError:
                break
            kind = rec[2]
            if rec[1] is current_hub:  # _queue_wake, inlined: the hot path
                entry = [rec[0], (item,)]
                rec[0] = None
                current_hub.loop._ready.append(entry)
                rec[2] = entry
            else:
                _queue_wake(rec, item, current_hub)
            if kind is not _WATCH:
                if not getters:
                    self._refresh_credit()
                return True
        self._refresh_credit()
        return False

    def _hand_over_via_hooks(self, item) -> bool:
        """_hand_to_getter for queues with storage hooks: store, then wake a getter."""
        self._append(item)
        self._wake_takers()
        return True

    def _wake_takers(self) -> None:
        """Wake getters (and the peekers ahead of them) to take what the queue holds."""
        getters = self.getters
        current_hub = _threadlocal.hub
        takers = len(self.queue)
        while getters and takers > 0:
            try:
                rec = getters.popleft()
            except IndexError:
                break
            if rec[2] is not _WATCH:
                takers -= 1
            _queue_wake(rec, _TAKE, current_hub)
        if self.putters:
            self._take_from_putters()
        else:
            self._refresh_credit()

    def _wait_put(self, item, timeout: float | None) -> None:
        hub, switch = _current_hub_and_switch()
        rec = [switch, hub, None, item]
        putters = self.putters
        putters.append(rec)
        self._out = _NOTHING  # get goes to its slow path, which serves putters
        if self.putters and not self.full():  # room made by another thread meanwhile
            self._take_from_putters()
        try:
            result = _park(hub, switch, timeout)
        except BaseException:
            queued, _ = _leave(putters, rec)
            if queued:
                self._putter_left()
            raise
        if result is _TIMED_OUT:
            queued, result = _leave(putters, rec)
            if queued:
                self._putter_left()
                raise _timed_out_error(timeout, Full)
        if result is _SHUT_DOWN:
            raise ShutDown
        if type(result) is _PutFailed:
            raise result.error

    def _putter_left(self) -> None:
        """A waiting putter gave up (timeout, kill) before its item went in."""
        self._undo_task()
        if not self.putters:
            self._out = self.queue

    def _take_from_putters(self) -> None:
        """Move the items of waiting putters into the queue while there is room."""
        putters = self.putters
        current_hub = _threadlocal.hub
        while putters:
            maxsize = self._maxsize
            if maxsize is not None and len(self.queue) >= maxsize:
                break
            try:
                rec = putters.popleft()
            except IndexError:
                break
            item = rec[3]
            try:
                if not (self.getters and self._hand_to_getter(item)):
                    self._append(item)
            except Exception as error:  # the storage hook refused it: the putter raises
                self._undo_task()
                _queue_wake(rec, _PutFailed(error), current_hub)
                continue
            _queue_wake(rec, _PUT_DONE, current_hub)
        if not putters:
            self._out = self.queue
        self._refresh_credit()  # the room left, if any, after the putters' items

    # -- getting --------------------------------------------------------------------------

    def get(self, block: bool = True, timeout: float | None = None) -> T:
        """Remove and return the first item. A switch point while the queue is empty.

        With *block* false, or once *timeout* seconds pass, raises :class:`Empty` instead of
        waiting. After ``shutdown()`` raises :class:`ShutDown` once the queue is empty.
        """
        # As in put, the deque's own method; and no test of the putters here: while any
        # wait, _out is an empty deque and this raises (see _wait_put).
        try:
            return self._out.popleft()
        except IndexError:
            return self._get_slow(block, timeout)

    def _get_slow(self, block: bool, timeout: float | None):
        if self._out is self.queue:
            return self._get_empty(block, timeout)
        # Putters were waiting: the path that serves them (and puts _out back once none
        # is left: _take_from_putters).
        if not self.putters:
            self._out = self.queue
        return self._get_generic(block, timeout)

    def _get_generic(self, block: bool = True, timeout: float | None = None) -> T:
        if not self.queue:  # before the hook: as in the stdlib, _get is never called empty
            return self._get_empty(block, timeout)
        item = self._pop()
        if self.putters:
            self._take_from_putters()
        return item

    def _get_empty(self, block: bool, timeout: float | None):
        if self.is_shutdown:
            raise ShutDown
        if not block:
            raise Empty
        return self._wait_get(timeout, None)

    def get_nowait(self) -> T:
        """``get(block=False)``."""
        return self.get(False)

    def peek(self, block: bool = True, timeout: float | None = None) -> T:
        """Return the first item without removing it. A switch point while empty.

        Raises :class:`Empty` like ``get``.
        """
        if self.queue:
            return self._peek()
        if self.is_shutdown:
            raise ShutDown
        if not block:
            raise Empty
        return self._wait_get(timeout, _WATCH)

    def peek_nowait(self) -> T:
        """``peek(block=False)``."""
        return self.peek(False)

    def _wait_get(self, timeout: float | None, kind):
        hub, switch = _current_hub_and_switch()
        rec = [switch, hub, kind]
        getters = self.getters
        self._revoke_credit()
        getters.append(rec)
        if self.queue:  # put by another thread between the check and the append
            self._feed_getters()
        try:
            result = _park(hub, switch, timeout)
        except BaseException:
            queued, item = _leave(getters, rec)
            if queued:
                self._refresh_credit()
            elif item is _TAKE:
                self._feed_getters()  # woken to take an item: another getter takes it
            elif kind is None and item is not _SHUT_DOWN:
                # Handed an item but leaving: it goes back to the front for the next getter.
                self._push_back(item)
                self._feed_getters()
            raise
        if result is _TIMED_OUT:
            queued, result = _leave(getters, rec)
            if queued:
                self._refresh_credit()
                raise _timed_out_error(timeout, Empty)
        if result is _SHUT_DOWN:
            raise ShutDown
        if result is _TAKE:
            if not self.queue:  # taken by someone else before this getter ran: wait again
                return self._wait_get(timeout, kind)
            return self._pop() if kind is None else self._peek()
        return result

    def _feed_getters(self) -> None:
        while self.getters and self.queue:
            item = self._pop()
            if not self._hand_to_getter(item):
                self._push_back(item)
                break
        if self.putters:
            self._take_from_putters()
        else:
            self._refresh_credit()  # an item pushed back took room a credit may count on

    # -- iteration ------------------------------------------------------------------------

    def __iter__(self) -> Self:
        return self

    def __next__(self) -> T:
        """The next item; ends the iteration at an item that is ``StopIteration``."""
        result = self.get()
        if result is StopIteration:
            raise result
        return result

    next = __next__

    # -- shutting down --------------------------------------------------------------------

    def shutdown(self, immediate: bool = False) -> None:
        """Shut the queue down: ``put`` raises :class:`ShutDown` from now on, and ``get``
        does once the queue is empty (at once with *immediate*, which drops the items and,
        on a joinable queue, marks each of them done). Blocked callers are woken to raise.
        """
        self.is_shutdown = True
        self._revoke_credit()
        if immediate:
            while self.queue:
                self._pop()
                if self._tasks > 0:
                    self._tasks -= 1
            if self._joinable and not self._tasks:
                self._cond.set()
        current_hub = _threadlocal.hub
        for waiters in (self.getters, self.putters):
            while waiters:
                try:
                    rec = waiters.popleft()
                except IndexError:
                    break
                if waiters is self.putters:
                    self._tasks -= 1
                _queue_wake(rec, _SHUT_DOWN, current_hub)
        self._out = self.queue
        if self._joinable and not self._tasks:
            self._cond.set()


class Queue(SimpleQueue[T]):
    """A FIFO queue that also tracks unfinished tasks: ``task_done()`` and ``join()``.

    *unfinished_tasks* defaults to the number of initial *items*. ``JoinableQueue`` is this
    class.
    """

    _joinable = True

    def __init__(self, maxsize: int | None = None, items: Iterable[T] = (),
                 unfinished_tasks: int | None = None) -> None:
        SimpleQueue.__init__(self, maxsize, items)
        self._cond = Event()
        if unfinished_tasks is not None:
            self.unfinished_tasks = unfinished_tasks
        else:
            self.unfinished_tasks = len(self.queue)
        if not self.unfinished_tasks:
            self._cond.set()

    def copy(self) -> Self:
        return type(self)(self._maxsize, self.queue, self.unfinished_tasks)

    @property  # type: ignore[override]
    def unfinished_tasks(self) -> int:
        """Items put and not yet marked done with ``task_done()``."""
        return self._tasks - self._credit

    @unfinished_tasks.setter
    def unfinished_tasks(self, value: int) -> None:
        self._tasks = value + self._credit

    def _format(self) -> str:
        result = SimpleQueue._format(self)
        if self.unfinished_tasks:
            result += f" tasks={self.unfinished_tasks}"
        return result

    def task_done(self) -> None:
        """Mark one item got earlier as processed; ``join()`` returns when none is left.

        Raises ValueError if called more often than items were put.
        """
        tasks = self._tasks
        credit = self._credit
        if tasks <= credit:
            raise ValueError("task_done() called too many times")
        self._tasks = tasks = tasks - 1
        if tasks == credit:
            self._cond.set()

    def join(self, timeout: float | None = None) -> bool:
        """Wait until every item put has been marked done. A switch point.

        Returns True, or False if *timeout* seconds passed first.
        """
        if not self.unfinished_tasks:
            return True
        cond = self._cond
        cond.clear()  # set by the last task_done; a put since then made work again
        if not self.unfinished_tasks:
            return True
        return cond.wait(timeout)


JoinableQueue = Queue

#: put and get that call the deque's methods directly (see SimpleQueue.__init_subclass__).
_DEQUE_METHODS = frozenset({SimpleQueue.put, SimpleQueue.get})


class UnboundQueue(Queue[T]):
    """A Queue that is always unbounded: ``put`` never blocks."""

    def __init__(self, maxsize: None = None, items: Iterable[T] = (),
                 unfinished_tasks: int | None = None) -> None:
        if maxsize is not None:
            raise ValueError("UnboundQueue has no maxsize")
        Queue.__init__(self, None, items, unfinished_tasks)

    @property
    def maxsize(self) -> None:
        return None

    @maxsize.setter
    def maxsize(self, value) -> None:
        if value is not None:
            raise ValueError("UnboundQueue has no maxsize")


class PriorityQueue(Queue[T]):
    """A queue that returns the lowest item first (``heapq`` order; put ``(priority, data)``
    tuples)."""

    def _create_queue(self, items: Iterable = ()) -> list:
        queue = list(items)
        heapq.heapify(queue)
        return queue

    def _bind(self) -> None:
        queue = self.queue
        self._append = partial(heapq.heappush, queue)
        self._pop = partial(heapq.heappop, queue)
        self._respect_overrides(PriorityQueue)

    def _put(self, item) -> None:
        heapq.heappush(self.queue, item)

    def _get(self):
        return heapq.heappop(self.queue)

    def _push_back(self, item) -> None:
        heapq.heappush(self.queue, item)


class LifoQueue(Queue[T]):
    """A queue that returns the most recently put item first."""

    def _create_queue(self, items: Iterable = ()) -> list:
        return list(items)

    def _bind(self) -> None:
        queue = self.queue
        self._append = queue.append
        self._pop = queue.pop
        self._respect_overrides(LifoQueue)

    def _put(self, item) -> None:
        self.queue.append(item)

    def _get(self):
        return self.queue.pop()

    def _peek(self):
        return self.queue[-1]

    def _push_back(self, item) -> None:
        self.queue.append(item)
