"""Timeouts: raise an exception in the current greenlet after a number of seconds.

:class:`Timeout` is a :class:`BaseException`, so ``except Exception`` in library code does not
swallow it (celery, gunicorn and locust rely on that). Use it as a context manager::

    with Timeout(5):
        data = sock.recv(1024)      # raises Timeout after 5 s

    with Timeout(5, False):
        data = sock.recv(1024)      # leaves the block silently after 5 s
"""

from __future__ import annotations

from collections.abc import Callable
from time import monotonic
from typing import Any, TypeVar

from greenlet import getcurrent

from .hub import _get_hub_noargs as get_hub
from .hub import _threadlocal

__all__ = ["Timeout", "with_timeout"]

T = TypeVar("T")


class _FakeTimer:
    # A stand-in for a timer that never fires: Timeout(None) costs nothing.
    pending = False
    active = False
    seconds = None

    def start(self, *args, **kwargs) -> None:
        raise AssertionError("non-expiring timer cannot be started")

    def stop(self) -> None:
        pass

    cancel = stop
    close = stop


_FAKE_TIMER = _FakeTimer()
_RAISE: Any = object()


class Timeout(BaseException):
    """Raise *exception* (default: this Timeout) in the current greenlet after *seconds*.

    ``seconds=None`` never expires. ``exception=False`` makes a ``with`` block exit silently.
    A started timeout must be cancelled (``cancel()``, or leaving the ``with`` block).
    """

    # Class-level defaults: an instance stores these only when they change.
    _entry: list | None = None
    _timers: Any = None

    def __init__(self, seconds: float | None = None, exception: Any = None, ref: bool = True,
                 priority: int = -1) -> None:
        self.seconds = seconds
        self.exception = exception
        self._ref = ref

    # -- starting and stopping ---------------------------------------------------------------

    def start(self) -> None:
        """Schedule the timeout. Starting a pending timeout is an error."""
        entry = self._entry
        if entry is not None and entry[2] is not None:
            raise AssertionError(f"{self!r} is already started; to restart it, cancel it first")
        seconds = self.seconds
        if seconds is None:
            return
        exc = self.exception
        if exc is None or exc is False or isinstance(exc, str):
            exc = self  # a str only changes the message
        elif not (isinstance(exc, BaseException)
                  or (isinstance(exc, type) and issubclass(exc, BaseException))):
            # What raising it would do, raised where the timeout fires, as in gevent.
            exc = TypeError(f"exceptions must derive from BaseException, not {exc!r}")
        hub = _threadlocal.hub
        if hub is None:
            hub = get_hub()
        timers = self._timers = hub.loop._timers
        self._entry = timers.add(
            monotonic() + (seconds if seconds > 0 else 0.0), self._expire, (getcurrent(), exc),
            self._ref
        )

    def _expire(self, glet, exc) -> None:
        self._entry = None
        glet.throw(exc)

    @classmethod
    def start_new(cls, timeout: Any = None, exception: Any = None, ref: bool = True) -> Timeout:
        """Create and start a Timeout; an existing Timeout instance is started if needed."""
        if isinstance(timeout, Timeout):
            if not timeout.pending:
                timeout.start()
            return timeout
        t = cls(timeout, exception, ref=ref)
        t.start()
        return t

    @staticmethod
    def _start_new_or_dummy(timeout: Any, exception: Any = None) -> Any:
        """A started timer for *timeout*: a number of seconds (a new Timeout raising
        *exception*), a Timeout instance (started unless pending), or None (a dummy that
        never fires). Either way the caller cancels it when done."""
        if timeout is None:
            return _FAKE_TIMER
        return Timeout.start_new(timeout, exception)

    @property
    def pending(self) -> bool:
        """True while the timeout is scheduled and has not fired."""
        entry = self._entry
        return entry is not None and entry[2] is not None

    @property
    def timer(self):
        return self

    def cancel(self) -> None:
        """Stop the timeout if it is pending. Safe to call more than once."""
        entry = self._entry
        if entry is not None:
            self._entry = None
            self._timers.cancel(entry)

    def close(self) -> None:
        """Cancel the timeout."""
        self.cancel()

    # -- presentation ------------------------------------------------------------------------

    def __repr__(self) -> str:
        classname = type(self).__name__
        pending = " pending" if self.pending else ""
        exception = "" if self.exception is None else f" exception={self.exception!r}"
        return f"<{classname} at {id(self):#x} seconds={self.seconds}{exception}{pending}>"

    def __str__(self) -> str:
        if self.seconds is None:
            return ""
        suffix = "" if self.seconds == 1 else "s"
        if self.exception is None:
            return f"{self.seconds} second{suffix}"
        if self.exception is False:
            return f"{self.seconds} second{suffix} (silent)"
        return f"{self.seconds} second{suffix}: {self.exception}"

    # -- context manager ---------------------------------------------------------------------

    def __enter__(self) -> Timeout:
        if not self.pending:
            self.start()
        return self

    def __exit__(self, typ, value, tb) -> bool:
        self.cancel()
        if value is self and self.exception is False:
            return True
        return False


def _wait_under(timeout: Timeout, wait: Callable[[None], T], timed_out: Any = _RAISE) -> T:
    """Run ``wait(None)`` under *timeout*, a Timeout instance given where seconds are accepted.

    As gevent does: the Timeout is started unless already pending, and cancelled afterwards
    whatever happened. When it fires with itself as the error, a waiting call that reports a
    timeout by its result (``Event.wait``, ``join``) returns *timed_out*; a call that raises
    on timeout (``get``, or no *timed_out* given) lets it propagate, as does any other error.
    """
    timer = Timeout._start_new_or_dummy(timeout)
    try:
        return wait(None)
    except Timeout as ex:
        if ex is not timer or timed_out is _RAISE:
            raise
        return timed_out
    finally:
        timer.cancel()


def with_timeout(seconds: float | None, function: Callable[..., T], *args: Any,
                 **kwds: Any) -> T:
    """Call ``function(*args, **kwds)``; if it does not finish within *seconds*, raise Timeout,
    or return ``timeout_value`` if that keyword was given. A switch point."""
    timeout_value = kwds.pop("timeout_value", _NONE)
    timeout = Timeout.start_new(seconds)
    try:
        try:
            return function(*args, **kwds)
        except Timeout as ex:
            if ex is timeout and timeout_value is not _NONE:
                return timeout_value
            raise
    finally:
        timeout.cancel()


_NONE: Any = object()
