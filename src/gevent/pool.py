"""Managing groups of greenlets: :class:`Group` tracks them, :class:`Pool` also bounds how
many run at once (``spawn`` waits for a free slot).

Both offer the ``multiprocessing.Pool``-like mapping API (``apply``, ``map``, ``imap``...),
shared with :class:`gevent.threadpool.ThreadPool`. ``imap``/``imap_unordered`` take *maxsize*:
at most that many finished results wait for the reader before new tasks stop being started.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from functools import partial
from itertools import count as _count
from queue import Full as QueueFull
from typing import Any, NoReturn, TypeVar, overload

from greenlet import GreenletExit, getcurrent

from ._semaphore import DummySemaphore, Semaphore
from .event import Event
from .greenlet import Greenlet, joinall
from .hub import _get_hub_noargs as _get_hub
from .queue import UnboundQueue
from .timeout import Timeout

__all__ = ["Group", "Pool", "PoolFull"]

_T = TypeVar("_T")
_R = TypeVar("_R")


class PoolFull(QueueFull):
    """Raised by ``Pool.add``/``spawn`` when no slot frees up in time (or at once, without
    blocking)."""


class _Failure:
    __slots__ = ("exc", "raise_exception")

    def __init__(self, exc, raise_exception=None) -> None:
        self.exc = exc
        self.raise_exception = raise_exception

    def raise_exc(self) -> NoReturn:
        if self.raise_exception is not None:
            self.raise_exception()
        raise self.exc


# Typed Any so that ``item is _END`` leaves the type of queued items alone.
_END: Any = object()


class IMapUnordered(Greenlet):
    """The iterator ``imap_unordered`` returns: results in the order tasks finish.

    The greenlet itself walks the input and spawns the tasks (through the pool's ``spawn``, so
    a full pool holds it back); with *maxsize*, it also waits while that many finished
    results are still unread.
    """

    _zipped = False

    def __init__(self, func: Callable, iterable: Iterable, spawn: Callable,
                 maxsize: int | None = None, _zipped: bool = False) -> None:
        Greenlet.__init__(self)
        self.func = func
        self.iterable = iter(iterable)
        # The pool's spawn, under the name gevent gives it; on this instance it shadows the
        # Greenlet.spawn classmethod.
        self.spawn = spawn  # type: ignore[method-assign]
        self._zipped = _zipped
        self.queue: UnboundQueue = UnboundQueue()
        self._result_semaphore = Semaphore(maxsize) if maxsize else None
        self.count = 0
        self.finished = False
        self._reported = 0
        self._ended = False
        self.rawlink(self._on_finish)

    def __iter__(self) -> Iterator:
        return self

    def __next__(self) -> Any:
        semaphore = self._result_semaphore
        item = self.queue.get()
        if semaphore is not None:
            semaphore.release()
        if item is _END:
            self.queue.put(_END)  # every later next() ends too
            raise StopIteration
        if isinstance(item, _Failure):  # the input itself failed: nothing more comes
            self.queue.put(_END)
            item.raise_exc()
        value = self._unwrap(item)
        if isinstance(value, _Failure):  # one task failed: raised here, the others go on
            value.raise_exc()
        return value

    next = __next__

    def _unwrap(self, item):
        return item[1]

    def _run(self) -> None:
        semaphore = self._result_semaphore
        func = self.func
        spawn = self.spawn
        for index, args in zip(_count(), self.iterable):
            if semaphore is not None:
                semaphore.acquire()
            self.count += 1
            task = spawn(func, *args) if self._zipped else spawn(func, args)
            task.rawlink(partial(self._on_result, index))

    def _on_result(self, index: int, task) -> None:
        # Called in the hub when one task finishes.
        self._reported += 1
        if task.successful():
            self.queue.put((index, task.value))
        else:
            failure = _Failure(task.exception, getattr(task, "_raise_exception", None))
            self.queue.put((index, failure))
        self._maybe_end()

    def _on_finish(self, _self) -> None:
        self.finished = True
        if not self.successful():
            self.queue.put(_Failure(self.exception))
            return
        self._maybe_end()

    def _maybe_end(self) -> None:
        if self.finished and not self._ended and self._reported == self.count:
            self._ended = True
            self.queue.put(_END)


class IMap(IMapUnordered):
    """The iterator ``imap`` returns: results in the order of the input."""

    def __init__(self, *args, **kwargs) -> None:
        IMapUnordered.__init__(self, *args, **kwargs)
        self._next_index = 0
        self._waiting: dict = {}

    def __next__(self) -> Any:
        index = self._next_index
        waiting = self._waiting
        while index not in waiting:
            item = self.queue.get()
            if item is _END or isinstance(item, _Failure):
                if item is _END and waiting:
                    continue
                self.queue.put(_END)
                if item is _END:
                    raise StopIteration
                item.raise_exc()
            waiting[item[0]] = item
        item = waiting.pop(index)
        self._next_index = index + 1
        if self._result_semaphore is not None:
            self._result_semaphore.release()
        value = item[1]
        if isinstance(value, _Failure):  # raised in its place; the next results still come
            value.raise_exc()
        return value

    next = __next__


class GroupMappingMixin:
    """``apply``/``map``/``imap`` on top of ``spawn`` (Group, Pool and ThreadPool)."""

    # Provided by the classes that use the mixin.
    def spawn(self, func: Callable, *args: Any, **kwargs: Any) -> Any:  # pragma: no cover
        raise NotImplementedError

    def _apply_immediately(self) -> bool:
        """True when a task must run in the caller (waiting for a slot would deadlock)."""
        return False

    def _apply_async_use_greenlet(self) -> bool:
        """True when apply_async must go through a helper greenlet (spawn would block)."""
        return False

    def apply(self, func: Callable[..., _R], args: Iterable | None = None,
              kwds: dict | None = None) -> _R:
        """Run ``func(*args, **kwds)`` in the pool and return its result. A switch point."""
        args = () if args is None else args
        kwds = {} if kwds is None else kwds
        if self._apply_immediately():
            return func(*args, **kwds)
        return self.spawn(func, *args, **kwds).get()

    def apply_cb(self, func: Callable, args: Iterable | None = None, kwds: dict | None = None,
                 callback: Callable | None = None):
        """``apply``, then ``callback(result)`` if a callback is given; returns the result."""
        result = self.apply(func, args, kwds)
        if callback is not None:
            Greenlet.spawn(callback, result)
        return result

    def apply_async(self, func: Callable, args: Iterable | None = None,
                    kwds: dict | None = None, callback: Callable | None = None):
        """Start ``func(*args, **kwds)``; returns what ``spawn`` returns (a greenlet or an
        AsyncResult). *callback* gets the result, in its own greenlet, if the call succeeds.
        """
        args = () if args is None else args
        kwds = {} if kwds is None else kwds
        if self._apply_async_use_greenlet():
            return Greenlet.spawn(self.apply_cb, func, args, kwds, callback)
        task = self.spawn(func, *args, **kwds)
        if callback is not None:
            task.rawlink(partial(_call_back_on_success, callback))
        return task

    def map(self, func: Callable[[_T], _R], iterable: Iterable[_T]) -> list[_R]:
        """``list(imap(func, iterable))``. A switch point."""
        return list(self.imap(func, iterable))

    def map_cb(self, func: Callable, iterable: Iterable, callback: Callable | None = None):
        result = self.map(func, iterable)
        if callback is not None:
            callback(result)
        return result

    def map_async(self, func: Callable, iterable: Iterable, callback: Callable | None = None):
        """Run ``map`` in a new greenlet and return that greenlet; *callback* gets the list."""
        return Greenlet.spawn(self.map_cb, func, iterable, callback)

    def __imap(self, cls, func: Callable, *iterables, **kwargs):
        maxsize = kwargs.pop("maxsize", None)
        if kwargs:
            raise TypeError(f"Unsupported keyword arguments: {sorted(kwargs)}")
        if maxsize is not None and maxsize < 1:
            raise ValueError("maxsize must be >= 1 or None")
        if len(iterables) == 1:
            iterable, zipped = iterables[0], False
        else:
            iterable, zipped = zip(*iterables, strict=False), True
        iterator = cls(func, iterable, self.spawn, maxsize, zipped)
        iterator.start()
        return iterator

    def imap(self, func: Callable, *iterables: Iterable, maxsize: int | None = None) -> IMap:
        """An iterator of ``func(*items)`` over the *iterables*, in input order.

        With *maxsize*, no more than that many finished results wait to be read: the tasks
        after them are not started until the reader catches up.
        """
        return self.__imap(IMap, func, *iterables, maxsize=maxsize)

    def imap_unordered(self, func: Callable, *iterables: Iterable,
                       maxsize: int | None = None) -> IMapUnordered:
        """Like ``imap``, yielding results in the order they finish."""
        return self.__imap(IMapUnordered, func, *iterables, maxsize=maxsize)


def _call_back_on_success(callback: Callable, task) -> None:
    if task.successful():
        Greenlet.spawn(callback, task.value)


class Group(GroupMappingMixin):
    """A set of greenlets that can be joined and killed together.

    Greenlets leave the group by themselves when they finish.
    """

    greenlet_class = Greenlet

    def __init__(self, *args) -> None:
        if len(args) > 1:
            raise TypeError(f"Group takes at most one argument ({len(args)} given)")
        self.greenlets: set = set()
        self.dying: set = set()
        self._empty_event = Event()
        self._empty_event.set()
        if args:
            for greenlet in args[0]:
                self.add(greenlet)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} at {id(self):#x} {self.greenlets}>"

    def __len__(self) -> int:
        """How many greenlets are in the group (running or not started yet)."""
        return len(self.greenlets)

    def __contains__(self, item) -> bool:
        return item in self.greenlets

    def __iter__(self) -> Iterator[Any]:
        return iter(self.greenlets)

    def add(self, greenlet, blocking: bool = True, timeout: float | None = None) -> None:
        """Track *greenlet*; it leaves the group when it finishes."""
        try:
            rawlink = greenlet.rawlink
        except AttributeError:
            pass  # a raw greenlet: tracked until discarded or killed
        else:
            rawlink(self._discard)
        self.greenlets.add(greenlet)
        self._empty_event.clear()

    def _discard(self, greenlet) -> None:
        self.greenlets.discard(greenlet)
        self.dying.discard(greenlet)
        if not self.greenlets:
            self._empty_event.set()

    def discard(self, greenlet) -> None:
        """Stop tracking *greenlet* (it keeps running)."""
        self._discard(greenlet)
        try:
            unlink = greenlet.unlink
        except AttributeError:
            pass  # a raw greenlet
        else:
            unlink(self._discard)

    def start(self, greenlet) -> None:
        """Add *greenlet* and start it."""
        self.add(greenlet)
        greenlet.start()

    # As for Greenlet.spawn: the overloads tell type checkers what spawn(func, ...) returns.
    @overload
    def spawn(self, run: Callable[..., _R], /, *args: Any, **kwargs: Any) -> Greenlet[_R]: ...
    @overload
    def spawn(self, *args: Any, **kwargs: Any) -> Greenlet[Any]: ...
    def spawn(self, *args: Any, **kwargs: Any) -> Greenlet[Any]:
        """Create a greenlet of ``greenlet_class`` from the arguments, add it, start it."""
        greenlet = self.greenlet_class(*args, **kwargs)
        self.start(greenlet)
        return greenlet

    def join(self, timeout: float | None = None, raise_error: bool = False) -> bool:
        """Wait until every greenlet of the group has finished. A switch point.

        Returns False if *timeout* passed first. With *raise_error*, the first exception a
        member raised is raised here.
        """
        if raise_error:
            greenlets = self.greenlets.copy()
            finished = self._empty_event.wait(timeout=timeout)
            for greenlet in greenlets:
                if greenlet.exception is not None:
                    if hasattr(greenlet, "_raise_exception"):
                        greenlet._raise_exception()
                    raise greenlet.exception
            return finished
        return self._empty_event.wait(timeout=timeout)

    def kill(self, exception: Any = GreenletExit, block: bool = True,
             timeout: float | None = None) -> None:
        """Kill every greenlet of the group; with *block*, wait (up to *timeout*) for them."""
        timer = Timeout._start_new_or_dummy(timeout)
        try:
            while self.greenlets:
                for greenlet in list(self.greenlets):
                    if greenlet in self.dying:
                        continue
                    try:
                        kill = greenlet.kill
                    except AttributeError:
                        _kill_raw(greenlet, exception)
                    else:
                        kill(exception, block=False)
                    self.dying.add(greenlet)
                if not block:
                    break
                joinall(list(self.greenlets))
                self._discard_dead()
        except Timeout as ex:
            if ex is not timer:
                raise
        finally:
            timer.cancel()

    def killone(self, greenlet, exception: Any = GreenletExit, block: bool = True,
                timeout: float | None = None) -> None:
        """Kill one member; with *block*, wait (up to *timeout*) for it."""
        if greenlet not in self.dying and greenlet in self.greenlets:
            greenlet.kill(exception, block=False)
            self.dying.add(greenlet)
            if block:
                greenlet.join(timeout)
                self._discard_dead()

    def _discard_dead(self) -> None:
        # A greenlet killed before it started is dead at once, but its links (our _discard)
        # run only on the next loop turn; callers that waited expect it gone now.
        for greenlet in list(self.greenlets):
            if getattr(greenlet, "dead", False):
                self._discard(greenlet)

    def full(self) -> bool:
        """A Group is never full."""
        return False

    def wait_available(self, timeout: float | None = None) -> int | None:
        """A Group always has room: returns None at once (a Pool returns its free slots)."""

    # A greenlet of the group calling apply would wait for itself to finish otherwise.
    def _apply_immediately(self) -> bool:
        return getcurrent() in self

    def _apply_async_use_greenlet(self) -> bool:
        return self.full() and getcurrent() not in self


def _kill_raw(greenlet, exception) -> None:
    from .hub import kill

    kill(greenlet, exception)


class _PoolSemaphore(Semaphore):
    """A pool's free slots, adjusted once per change even when celery adjusts them too.

    Assigning ``Pool.size`` resizes the pool. celery's gevent TaskPool, written for gevent
    where ``size`` is a plain attribute, also moves the slots itself, in the same step:
    up to 5.6 ``_semaphore.counter += n`` and then ``size += n``; from 5.7 ``size = limit`` and
    then ``_semaphore.release()`` n times (shrinking: ``counter -= n`` then ``size``). So a
    resize first takes over an outside adjustment of the same sign made just before it by the
    same greenlet in the same loop iteration, and applies the rest one callback later unless
    outside adjustments right after it cover it. The pool's own releases bypass this.
    """

    __slots__ = ("_recent", "_recent_stamp", "_pending", "_pending_entry")

    def __init__(self, value: int) -> None:
        Semaphore.__init__(self, value)
        self._recent = 0
        self._recent_stamp: tuple | None = None
        self._pending = 0
        self._pending_entry = None

    @property
    def counter(self) -> int:
        """The free slots now. Assigning it adjusts them (see the class docstring)."""
        return self._counter

    @counter.setter
    def counter(self, value: int) -> None:
        self._outside_adjustment(value - self._counter)
        Semaphore.counter.fset(self, value)  # type: ignore[attr-defined]

    def release(self) -> int:
        self._outside_adjustment(1)
        return Semaphore.release(self)

    @staticmethod
    def _stamp() -> tuple:
        return (_get_hub().loop._iterations, getcurrent())

    def _outside_adjustment(self, delta: int) -> None:
        pending = self._pending
        if pending and delta and (pending > 0) == (delta > 0):
            covered = min(abs(delta), abs(pending)) * (1 if delta > 0 else -1)
            self._pending = pending - covered
            delta -= covered
        if delta:
            stamp = self._stamp()
            if self._recent_stamp != stamp:
                self._recent_stamp = stamp
                self._recent = 0
            self._recent += delta

    def _resize(self, delta: int) -> None:
        recent = self._recent
        if recent and delta and (recent > 0) == (delta > 0) and self._recent_stamp == self._stamp():
            taken = min(abs(delta), abs(recent)) * (1 if delta > 0 else -1)
            self._recent = recent - taken
            delta -= taken
        if delta:
            self._pending += delta
            if self._pending_entry is None:
                self._pending_entry = _get_hub().loop.run_callback(self._apply_pending)

    def _apply_pending(self) -> None:
        delta = self._pending
        self._pending = 0
        self._pending_entry = None
        if delta:
            Semaphore.counter.fset(self, self._counter + delta)  # type: ignore[attr-defined]


class Pool(Group):
    """A Group that runs at most *size* greenlets at once (None: no limit).

    ``spawn``/``add`` wait for a free slot. ``size`` may be changed at any time.
    """

    def __init__(self, size: int | None = None, greenlet_class=None) -> None:
        if size is not None and size < 0:
            raise ValueError(f"size must not be negative: {size!r}")
        Group.__init__(self)
        self._size = size
        if greenlet_class is not None:
            self.greenlet_class = greenlet_class
        self._semaphore = DummySemaphore() if size is None else _PoolSemaphore(size)

    @property
    def size(self) -> int | None:
        """The most greenlets that may run at once; assigning it resizes the pool."""
        return self._size

    @size.setter
    def size(self, value: int | None) -> None:
        if value is not None and value < 0:
            raise ValueError(f"size must not be negative: {value!r}")
        old = self._size
        self._size = value
        if value is None:
            semaphore = self._semaphore
            self._semaphore = DummySemaphore()
            if isinstance(semaphore, Semaphore):
                semaphore.counter = 1 << 30  # wake everyone waiting for a slot
            return
        if old is None:
            self._semaphore = _PoolSemaphore(max(value - len(self), 0))
            return
        semaphore = self._semaphore
        if isinstance(semaphore, _PoolSemaphore):
            semaphore._resize(value - old)

    def wait_available(self, timeout: float | None = None) -> int:
        """Wait until a slot is free. A switch point. Returns the free slots (0 on timeout)."""
        return self._semaphore.wait(timeout)

    def full(self) -> bool:
        """True if ``spawn`` would wait for a slot."""
        return self.free_count() <= 0

    def free_count(self) -> int:
        """How many more greenlets may start now without waiting."""
        if self._size is None:
            return 1
        return max(0, self._size - len(self))

    def start(self, greenlet, blocking: bool = True, timeout: float | None = None) -> None:
        """Add *greenlet* (waiting for a slot as ``add`` does) and start it."""
        self.add(greenlet, blocking, timeout)
        greenlet.start()

    def add(self, greenlet, blocking: bool = True, timeout: float | None = None) -> None:
        """Take a slot for *greenlet* and track it. A switch point while the pool is full.

        Raises :class:`PoolFull` if no slot frees up within *timeout*, or at once when
        *blocking* is false.
        """
        if greenlet in self.greenlets:
            return
        if not self._semaphore.acquire(blocking, timeout):
            raise PoolFull()
        try:
            Group.add(self, greenlet)
        except BaseException:
            self._release_slot()
            raise

    def _discard(self, greenlet) -> None:
        if greenlet in self.greenlets:
            Group._discard(self, greenlet)
            self._release_slot()

    def _release_slot(self) -> None:
        semaphore = self._semaphore
        if type(semaphore) is _PoolSemaphore:
            Semaphore.release(semaphore)  # ours: not an adjustment from outside
        else:
            semaphore.release()
