"""Locking primitives for greenlets: semaphores and re-entrant locks.

Waiters are served in FIFO order. Every object here may be released from another thread than
the one that acquired it (a release wakes a waiter in any thread, through that thread's hub).

:class:`LockType` (and its factory :func:`allocate_lock`) behaves like the standard library's
``_thread.lock`` (``acquire(blocking=True, timeout=-1)``, ``RuntimeError`` on releasing an
unlocked lock): it is what the green ``_thread`` module hands out under monkey patching, and
:class:`RLock` is what the green ``threading.RLock`` runs on.
"""

from __future__ import annotations

from _thread import TIMEOUT_MAX as _NATIVE_TIMEOUT_MAX
from typing import TYPE_CHECKING

from greenlet import getcurrent

from ._semaphore import BoundedSemaphore, DummySemaphore, Semaphore
from .hub import _threadlocal, sleep
from .timeout import Timeout

if TYPE_CHECKING:
    from typing_extensions import Self  # typing.Self is 3.11+; only checkers read this

__all__ = ["Semaphore", "BoundedSemaphore", "DummySemaphore", "RLock"]

#: What ``_thread.TIMEOUT_MAX`` is for native locks: longer waits are rejected.
_TIMEOUT_MAX = _NATIVE_TIMEOUT_MAX


def _stdlib_timeout(blocking: bool, timeout: float | None) -> float | None:
    """Translate the ``_thread.lock`` calling convention to a timeout (None = forever)."""
    if timeout is None:
        return None
    if timeout == -1:
        return None
    if not blocking:
        raise ValueError("can't specify a timeout for a non-blocking call")
    if isinstance(timeout, Timeout):
        return timeout  # as everywhere in gevent: the wait ends when it expires
    if timeout < 0:
        raise ValueError("timeout value must be a non-negative number")
    if timeout > _TIMEOUT_MAX:
        raise OverflowError("timeout value is too large")
    return timeout


class LockType(BoundedSemaphore):
    """A green lock with the standard library ``_thread.lock`` interface.

    Any greenlet, in any thread, may release it (as with a native lock).
    """

    __slots__ = ()

    _OVER_RELEASE_ERROR: type[Exception] = RuntimeError

    def __init__(self, hub=None) -> None:
        BoundedSemaphore.__init__(self, 1, hub)

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:  # type: ignore[override]
        """Acquire the lock. A switch point when it is held and *blocking* is true.

        *timeout* -1 waits forever; returns False if not acquired in time.
        """
        wait_for: float | None
        if timeout != -1:
            wait_for = _stdlib_timeout(blocking, timeout)
        elif self._counter > 0:
            self._counter -= 1
            return True
        else:
            wait_for = None
        if self._counter > 0:
            self._counter -= 1
            return True
        if not blocking:
            # As gevent's lock (its issue 1464): a failed try lets the other greenlets run,
            # so a loop spinning on acquire(False) lets the holder release.
            hub = _threadlocal.hub
            if hub is not None and getcurrent() is not hub:
                sleep(0)
            return False
        return self._acquire_slow(wait_for)

    def release(self) -> int:
        """Release the lock; RuntimeError if it is not locked."""
        if self._counter >= 1:
            raise RuntimeError("release unlocked lock")
        return BoundedSemaphore.release(self)

    def __enter__(self) -> Self:
        self.acquire()
        return self

    acquire_lock = acquire
    release_lock = release

    def locked_lock(self) -> bool:
        return self._counter <= 0

    def __repr__(self) -> str:
        state = "locked" if self._counter <= 0 else "unlocked"
        return f"<{state} {type(self).__module__}.{type(self).__name__} object at {id(self):#x}>"


def allocate_lock() -> LockType:
    """A new green lock (``_thread.allocate_lock``)."""
    return LockType()


class RLock:
    """A lock that the greenlet holding it may acquire again; it must release it as often.

    Ownership is per greenlet (``getcurrent()``). Works as ``threading.RLock`` does, including
    the private ``_is_owned``/``_release_save``/``_acquire_restore`` that
    ``threading.Condition`` uses.
    """

    __slots__ = ("_block", "_owner", "_count", "__weakref__")

    def __init__(self, hub=None) -> None:
        self._block = Semaphore(1, hub)
        self._owner = None
        self._count = 0

    def __repr__(self) -> str:
        return (f"<{type(self).__name__} at {id(self):#x} _block={self._block} "
                f"_count={self._count!r} _owner={self._owner!r})>")

    def acquire(self, blocking: bool = True, timeout: float | None = None) -> bool:
        """Acquire the lock, or count one more level if this greenlet already holds it.

        A switch point while another greenlet holds it. *timeout* None or -1 waits forever.
        Returns whether the lock was acquired.
        """
        if timeout is not None and timeout != -1:
            timeout = _stdlib_timeout(blocking, timeout)
        me = getcurrent()
        if self._owner is me:
            self._count += 1
            return True
        block = self._block
        if block._counter > 0:
            block._counter -= 1
        elif not blocking:
            return block._failed_try()
        elif not block._acquire_slow(timeout):
            return False
        self._owner = me
        self._count = 1
        return True

    def release(self) -> None:
        """Drop one level; the last one releases the lock. RuntimeError if not the owner."""
        if self._owner is not getcurrent():
            raise RuntimeError(
                f"cannot release un-acquired lock. Owner: {self._owner!r} "
                f"Current: {getcurrent()!r}"
            )
        self._count = count = self._count - 1
        if not count:
            self._owner = None
            self._block.release()

    def __enter__(self) -> bool:
        return self.acquire()

    def __exit__(self, typ, value, tb) -> None:
        self.release()

    def locked(self) -> bool:
        """True if some greenlet holds the lock."""
        return self._block.locked()

    def _is_owned(self) -> bool:
        return self._owner is getcurrent()

    # threading.Condition.wait releases the lock completely and restores it afterwards.
    def _release_save(self) -> tuple:
        if self._owner is not getcurrent():
            raise RuntimeError("cannot release un-acquired lock")
        state = (self._count, self._owner)
        self._count = 0
        self._owner = None
        self._block.release()
        return state

    def _acquire_restore(self, state: tuple) -> None:
        self._block.acquire()
        self._count, self._owner = state

    def _recursion_count(self) -> int:
        """How many levels the current greenlet holds (0 if it does not own the lock)."""
        return self._count if self._owner is getcurrent() else 0

    def _at_fork_reinit(self) -> None:
        self._block = Semaphore(1)
        self._owner = None
        self._count = 0
