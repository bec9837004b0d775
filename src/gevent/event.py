"""Basic synchronisation between greenlets: :class:`Event` and :class:`AsyncResult`.

Both sit on the fair FIFO wait queue of :mod:`gevent._linkable`: waiters wake in the order they
started waiting, ``set()`` never switches away from its caller, and either object may be set
from another thread (with or without a hub of its own) to wake greenlets waiting in this one.
"""

from __future__ import annotations

import sys
from _thread import _count as _thread_count
from types import GenericAlias
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from greenlet import getcurrent
from greenlet import greenlet as _RawGreenlet

from ._semaphore import (
    _TIMED_OUT,
    _blocking_error,
    _cancel_wake,
    _Linkable,
    _park,
    _queue_wake,
    _unlink_rec,
)
from .hub import _get_hub_noargs as get_hub
from .hub import _threadlocal
from .timeout import Timeout, _wait_under

__all__ = ["Event", "AsyncResult"]

T = TypeVar("T")
_switch = _RawGreenlet.switch


class Event(_Linkable):
    """A flag that greenlets can wait on: ``set()`` wakes every waiter, ``clear()`` resets it.

    Like :class:`threading.Event`.
    """

    __slots__ = ("_flag",)

    def __init__(self) -> None:
        _Linkable.__init__(self, None)
        self._flag = False

    def __str__(self) -> str:
        return (f"<{type(self).__name__} {'set' if self._flag else 'clear'} "
                f"_links[{len(self._links)}]>")

    def __repr__(self) -> str:
        return (f"<{type(self).__name__} at {id(self):#x} {'set' if self._flag else 'clear'} "
                f"_links[{len(self._links)}]>")

    def is_set(self) -> bool:
        """True once ``set()`` was called (and ``clear()`` not since)."""
        return self._flag

    isSet = is_set
    ready = is_set

    def set(self) -> None:
        """Set the flag and wake all waiters (in the order they waited). Never switches."""
        self._flag = True
        links = self._links
        if links:
            hub = _threadlocal.hub
            if hub is not None and len(links) == 1:
                # One waiter (the commonest case): _wake_all's work, spelled out.
                try:
                    rec = links.popleft()
                except IndexError:  # taken by another thread's set() meanwhile
                    return
                if rec[1] is hub:
                    self._notifier = rec
                    entry = [rec[0], (self,)]
                    rec[0] = None
                    hub.loop._ready.append(entry)
                    rec[2] = entry
                else:
                    _queue_wake(rec, self, hub)
                if not links:
                    return
            self._wake_all(True)

    def _wake_all(self, notifying: bool) -> None:
        # Until the last wake-up of this thread's hub queued by set() has run (``_notifier``),
        # the set() is still notifying, as gevent's notifier callback queued at the same place
        # would be: a wait() meanwhile queues behind it and is woken too, even after a
        # clear(), without moving that point (gevent 1520).
        links = self._links
        current_hub = _threadlocal.hub
        while links:
            try:
                rec = links.popleft()
            except IndexError:  # emptied by another thread
                return
            if notifying and rec[1] is current_hub:
                self._notifier = rec
            _queue_wake(rec, self, current_hub)

    def clear(self) -> None:
        """Reset the flag; later ``wait()`` calls block again."""
        self._flag = False

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until the flag is set. A switch point.

        Returns the flag: True, or False if *timeout* seconds passed first.
        """
        if self._flag and self._notifier is None:
            return True
        if timeout is not None and isinstance(timeout, Timeout):
            return _wait_under(timeout, self.wait, False)
        current = getcurrent()
        hub = _threadlocal.hub
        if hub is None:
            hub = get_hub()
        if current is hub:
            if self._flag or self._notifier is not None:
                return True  # the hub cannot queue behind the wake-ups it is to run
            raise _blocking_error()
        switch = current.switch
        rec = [switch, hub, None]
        links = self._links
        links.append(rec)
        # Set by another thread between the check and the append, or a set()'s wake-ups are
        # still queued: be woken with them, after them.
        if self._notifier is not None:
            self._wake_all(False)
        elif self._flag:
            self._wake_all(True)
        try:
            if timeout is None and not _thread_count():
                result = _switch(hub)  # _park's work when there is no timer and no thread
            else:
                result = _park(hub, switch, timeout)
        except BaseException:
            if not _unlink_rec(links, rec):
                _cancel_wake(rec)
            if self._notifier is rec:
                self._notifier = None
            raise
        if self._notifier is rec:
            self._notifier = None  # the last wake-up set() queued has run: this one
        if result is _TIMED_OUT:
            if _unlink_rec(links, rec):
                return self._flag
            _cancel_wake(rec)
        return True

    def _reset_internal_locks(self) -> None:
        """Called by the stdlib's ``threading`` after fork (green ``threading.Event``)."""

    def _at_fork_reinit(self) -> None:
        _Linkable._at_fork_reinit(self)
        self._notifier = None


# Event readiness is not consumed: notifying wakes every link, like set() does.
_event_notify = _Linkable._notify


class AsyncResult(_Linkable, Generic[T]):
    """A one-time result that greenlets can wait for: a value (``set``) or an exception
    (``set_exception``). Usable as a link callback (``greenlet.link(result)``) and, like a
    :class:`concurrent.futures.Future`, through ``result()``/``done()``.
    """

    __slots__ = ("_value", "_exc_info", "_imap_task_index")

    if not TYPE_CHECKING:
        # types.GenericAlias, as concurrent.futures.Future uses; mypy takes Generic[T].
        __class_getitem__ = classmethod(GenericAlias)

    def __init__(self) -> None:
        _Linkable.__init__(self, None)
        self._value: Any = _NOT_SET
        self._exc_info: tuple | None = None
        self._imap_task_index = None

    def __repr__(self) -> str:
        if self._value is not _NOT_SET:
            state = f"value={self._value!r}"
        elif self._exc_info is not None:
            state = f"exception={self._exc_info[1]!r}"
        else:
            state = "unset"
        return f"<{type(self).__name__} at {id(self):#x} {state} _links[{len(self._links)}]>"

    __str__ = __repr__

    # -- state -----------------------------------------------------------------------------

    def ready(self) -> bool:
        """True once a value or an exception is set."""
        return self._value is not _NOT_SET or self._exc_info is not None

    def successful(self) -> bool:
        """True if a value (not an exception) was set."""
        return self._value is not _NOT_SET

    @property
    def value(self) -> T | None:
        """The value, or None if not set (or an exception was)."""
        value = self._value
        return None if value is _NOT_SET else value

    @property
    def exc_info(self) -> tuple:
        """The ``(type, value, traceback)`` of the exception, or ``()``."""
        exc_info = self._exc_info
        if exc_info is None:
            return ()
        return exc_info

    @property
    def exception(self) -> BaseException | None:
        """The exception set with ``set_exception``, or None."""
        exc_info = self._exc_info
        return None if exc_info is None else exc_info[1]

    # -- setting ---------------------------------------------------------------------------

    def set(self, value: T | None = None) -> None:
        """Store *value* and wake all waiters. Never switches."""
        self._value = value
        if self._links:
            self._notify()

    def set_exception(self, exception: BaseException, exc_info=None) -> None:
        """Store *exception* (raised by ``get()``) and wake all waiters.

        *exc_info*, a ``sys.exc_info()`` triple, keeps the original traceback.
        """
        if isinstance(exception, type):
            exception = exception()
        if exc_info is not None and exc_info[1] is exception:
            self._exc_info = tuple(exc_info)
        else:
            self._exc_info = (type(exception), exception, exception.__traceback__)
        if self._links:
            self._notify()

    def __call__(self, source) -> None:
        """Take the outcome of *source* (a finished Greenlet): use as a link callback."""
        if source.successful():
            self.set(source.value)
        else:
            self.set_exception(source.exception, getattr(source, "exc_info", None))

    # -- waiting ---------------------------------------------------------------------------

    # Readiness is not consumed, so the generic watch-wait of the wait queue is exactly right.
    _wait_ready = _Linkable._wait_watch

    def _raise_exception(self):
        exc_info = self._exc_info
        # Always from the traceback captured when it was set (None if none was): raising the
        # instance as is would grow its traceback with the frames of every get().
        raise exc_info[1].with_traceback(exc_info[2])

    def get(self, block: bool = True, timeout: float | None = None) -> T:
        """Return the value, or raise the exception. A switch point while not ready.

        Raises :class:`gevent.Timeout` if not ready after *timeout* seconds, or at once when
        *block* is false.
        """
        value = self._value
        if value is not _NOT_SET:
            return value
        if self._exc_info is None:
            if not block:
                raise Timeout()
            if timeout is not None and isinstance(timeout, Timeout):
                _wait_under(timeout, self._wait_ready)
            elif not self._wait_ready(timeout):
                raise Timeout(timeout)
            value = self._value
            if value is not _NOT_SET:
                return value
        return self._raise_exception()

    def get_nowait(self) -> T:
        """``get(block=False)``."""
        return self.get(block=False)

    def wait(self, timeout: float | None = None) -> T | None:
        """Wait until ready, without raising. A switch point.

        Returns the value (None if an exception was set or *timeout* passed first).
        """
        if not self.ready():
            if timeout is not None and isinstance(timeout, Timeout):
                _wait_under(timeout, self._wait_ready, False)
            else:
                self._wait_ready(timeout)
        return self.value

    # -- concurrent.futures compatibility --------------------------------------------------

    def result(self, timeout: float | None = None) -> T:
        return self.get(timeout=timeout)

    set_result = set

    def done(self) -> bool:
        return self.ready()

    def cancel(self) -> bool:
        """A result that has no task behind it cannot be cancelled: always False."""
        return False

    def cancelled(self) -> bool:
        return False

    def _at_fork_reinit(self) -> None:
        _Linkable._at_fork_reinit(self)


class _NotSet:
    __slots__ = ()

    def __repr__(self) -> str:
        return "<not set>"


_NOT_SET: Any = _NotSet()

del sys
