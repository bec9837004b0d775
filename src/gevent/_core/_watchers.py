# Theory of operation: the public watcher API (``loop.io``, ``loop.timer`` ...), as libev-style
# objects over the loop's machinery.
#
# Every watcher has ``start(callback, *args)``, ``stop()``, ``close()``, ``active``, ``pending``,
# ``ref``, ``callback``, ``args``, ``priority`` and works as a context manager (closing on exit).
# A started watcher with ``ref=True`` keeps its loop running. Callbacks run in the loop's thread;
# passing ``GEVENT_CORE_EVENTS`` among the args substitutes the event mask (as gevent does).
# Nothing here switches greenlets.

from __future__ import annotations

import os
from time import monotonic

from . import _child, _signals
from ._io_common import READ, WRITE

__all__ = [
    "GEVENT_CORE_EVENTS",
    "watcher",
    "io",
    "timer",
    "signal",
    "async_",
    "child",
    "stat",
    "idle",
    "prepare",
    "check",
    "fork",
]


class _EventsMarker:
    def __repr__(self) -> str:
        return "GEVENT_CORE_EVENTS"


GEVENT_CORE_EVENTS = _EventsMarker()


class watcher:
    """Base of all watchers."""

    _kind = "watcher"

    def __init__(self, loop, ref: bool = True, priority=None) -> None:
        self.loop = loop
        self._ref = bool(ref)
        self.priority = priority
        self.callback = None
        self.args: tuple = ()
        self._active = False

    # ref ----------------------------------------------------------------------------------
    @property
    def ref(self) -> bool:
        return self._ref

    @ref.setter
    def ref(self, value: bool) -> None:
        value = bool(value)
        if value == self._ref:
            return
        if self._active:
            self._unhook()
            self._ref = value
            self._hook()
        else:
            self._ref = value

    @property
    def active(self) -> bool:
        return self._active

    @property
    def pending(self) -> bool:
        return False

    def start(self, callback, *args) -> None:
        if callback is None:
            raise TypeError("callback must be callable, not None")
        self.callback = callback
        self.args = args
        if not self._active:
            self._active = True
            try:
                self._hook()
            except BaseException:
                self._active = False
                raise

    def stop(self) -> None:
        if self._active:
            self._active = False
            self._unhook()
        self.callback = None
        self.args = ()

    def close(self) -> None:
        self.stop()

    def feed(self, revents: int, callback, *args) -> None:
        self.callback = callback
        self.args = args
        self.loop.run_callback(self._fire)

    def _hook(self) -> None:
        if self._ref:
            self.loop._add_ref()

    def _unhook(self) -> None:
        if self._ref:
            self.loop._drop_ref()

    def _call(self, revents: int = 0) -> None:
        callback = self.callback
        if callback is None:
            return
        args = self.args
        if GEVENT_CORE_EVENTS in args:
            args = tuple(revents if a is GEVENT_CORE_EVENTS else a for a in args)
        callback(*args)

    def _fire(self, revents: int = 0) -> None:
        self._call(revents)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def _describe(self) -> str:
        return ""

    def __repr__(self) -> str:
        extra = self._describe()
        return (
            f"<{self._kind} at {id(self):#x}{extra} active={self._active} ref={self._ref}"
            f" callback={self.callback!r}>"
        )


class io(watcher):
    """Readiness of a file descriptor: *events* is READ (1), WRITE (2) or both."""

    _kind = "io"

    def __init__(self, loop, fd: int, events: int, ref: bool = True, priority=None) -> None:
        if fd < 0:
            raise ValueError(f"fd must be non-negative: {fd!r}")
        if not events or events & ~(READ | WRITE):
            raise ValueError(f"illegal event mask: {events!r}")
        super().__init__(loop, ref, priority)
        self.fd = fd
        self.events = events
        loop._io_created(fd)

    # start/stop/_fire are spelled out here (not inherited): they run on every socket wait.
    _pass_events = False

    def start(self, callback, *args, pass_events: bool = False) -> None:
        if callback is None:
            raise TypeError("callback must be callable, not None")
        if pass_events:
            args = (GEVENT_CORE_EVENTS,) + args
        self._pass_events = pass_events or GEVENT_CORE_EVENTS in args
        self.callback = callback
        self.args = args
        if not self._active:
            self._active = True
            try:
                self.loop._io_start(self)
            except BaseException:
                self._active = False
                raise

    def stop(self) -> None:
        if self._active:
            self._active = False
            self.loop._io_stop(self)
        self.callback = None
        self.args = ()

    def _hook(self) -> None:
        self.loop._io_start(self)

    def _unhook(self) -> None:
        self.loop._io_stop(self)

    def _fire(self, revents: int = 0) -> None:
        callback = self.callback
        if callback is None:
            return
        if self._pass_events:
            callback(*[revents if a is GEVENT_CORE_EVENTS else a for a in self.args])
        else:
            callback(*self.args)

    @property
    def events_str(self) -> str:
        return "|".join(n for bit, n in ((READ, "READ"), (WRITE, "WRITE")) if self.events & bit)

    def _describe(self) -> str:
        return f" fd={self.fd} events={self.events_str}"


class timer(watcher):
    """Fires *after* seconds, then every *repeat* seconds if that is non-zero."""

    _kind = "timer"

    def __init__(self, loop, after: float = 0.0, repeat: float = 0.0, ref: bool = True,
                 priority=None) -> None:
        if repeat < 0:
            raise ValueError(f"repeat must be positive or zero: {repeat!r}")
        super().__init__(loop, ref, priority)
        self.after = after
        self.repeat = repeat
        self._entry: list | None = None
        self.at = 0.0

    def start(self, callback, *args, update=None) -> None:
        super().start(callback, *args)

    def _hook(self) -> None:
        self.at = monotonic() + max(self.after, 0.0)
        self._entry = self.loop._timer_at(self.at, self._fire, (), self._ref)

    def _unhook(self) -> None:
        if self._entry is not None:
            self.loop._timer_cancel(self._entry)
            self._entry = None

    def _fire(self, revents: int = 0) -> None:
        self._entry = None
        callback, args = self.callback, self.args
        if self.repeat:
            self.at = monotonic() + self.repeat
            self._entry = self.loop._timer_at(self.at, self._fire, (), self._ref)
        else:
            self._active = False
            self.callback = None
            self.args = ()
        if callback is not None:
            self.callback, self.args = callback, args
            try:
                self._call(revents)
            finally:
                if not self._active:
                    self.callback = None
                    self.args = ()

    def again(self, callback, *args, update: bool = True) -> None:
        """Restart the timer from now, with a new callback."""
        self.stop()
        if self.repeat and not self.after:
            self.after = self.repeat
        self.start(callback, *args)

    def _describe(self) -> str:
        return f" after={self.after} repeat={self.repeat}"


class async_(watcher):
    """Wakes the loop from any thread: ``send()`` makes the callback run once in the loop."""

    _kind = "async"

    def __init__(self, loop, ref: bool = True, priority=None) -> None:
        super().__init__(loop, ref, priority)
        self._pending = False

    @property
    def pending(self) -> bool:
        return self._pending

    def send(self) -> None:
        if self._pending:
            return
        self._pending = True
        self.loop.run_callback_threadsafe(self._fire)

    def send_ignoring_arg(self, _ignored) -> None:
        self.send()

    def _fire(self, revents: int = 0) -> None:
        self._pending = False
        if self._active:
            self._call(revents)


class signal(watcher):
    """Runs the callback in the loop when the process receives *signum*."""

    _kind = "signal"

    def __init__(self, loop, signalnum: int, ref: bool = True, priority=None) -> None:
        _signals.check_signum(signalnum)
        super().__init__(loop, ref, priority)
        self.signum = signalnum

    def _hook(self) -> None:
        _signals.add(self)
        super()._hook()

    def _unhook(self) -> None:
        _signals.remove(self)
        super()._unhook()

    def _describe(self) -> str:
        return f" signum={self.signum}"


class child(watcher):
    """Runs the callback when process *pid* changes state; ``rpid``/``rstatus`` tell how."""

    _kind = "child"

    def __init__(self, loop, pid: int, trace: int = 0, ref: bool = True) -> None:
        super().__init__(loop, ref)
        self.pid = pid
        self.trace = trace
        self.rpid = 0
        self.rstatus = 0
        self._impl: _child.ChildWatch | None = None

    def _hook(self) -> None:
        self._impl = _child.ChildWatch(self.loop, self.pid, self._on_exit)
        super()._hook()

    def _unhook(self) -> None:
        if self._impl is not None:
            self._impl.close()
            self._impl = None
        super()._unhook()

    def _on_exit(self, rpid: int, rstatus: int) -> None:
        self.rpid = rpid
        self.rstatus = rstatus
        callback, args = self.callback, self.args
        self.stop()
        if callback is not None:
            callback(*args)

    def _format_status(self) -> str:
        return f" pid={self.pid} rstatus={self.rstatus}"

    _describe = _format_status


class stat(watcher):
    """Polls ``os.stat(path)`` every *interval* seconds and calls back when it changes."""

    _kind = "stat"

    def __init__(self, loop, path, interval: float = 0.0, ref: bool = True, priority=None) -> None:
        super().__init__(loop, ref, priority)
        self.path = os.fsdecode(path) if isinstance(path, bytes) else str(path)
        self.interval = interval
        self.attr = self._read()
        self.prev = None
        self._timer: timer | None = None

    def _read(self):
        try:
            return os.stat(self.path)
        except OSError:
            return None

    def _hook(self) -> None:
        self.attr = self._read()
        self._timer = timer(self.loop, self.interval or 0.1, self.interval or 0.1, ref=self._ref)
        self._timer.start(self._poll)

    def _unhook(self) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None

    def _poll(self) -> None:
        current = self._read()
        old = self.attr
        if _stat_key(current) != _stat_key(old):
            self.prev = old
            self.attr = current
            self._call()

    def _describe(self) -> str:
        return f" path={self.path!r}"


def _stat_key(st):
    if st is None:
        return None
    return (st.st_ino, st.st_dev, st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_mode,
            st.st_nlink, st.st_uid, st.st_gid)


class _listed(watcher):
    """Watchers kept in one of the loop's lists (prepare, check, idle, fork)."""

    _list_name = ""

    def _hook(self) -> None:
        getattr(self.loop, self._list_name).append(self)
        super()._hook()

    def _unhook(self) -> None:
        try:
            getattr(self.loop, self._list_name).remove(self)
        except ValueError:
            pass  # already removed (loop destroyed)
        super()._unhook()


class idle(_listed):
    """Runs the callback on iterations that have no other ready callbacks."""

    _kind = "idle"
    _list_name = "_idle"


class prepare(_listed):
    """Runs the callback before each poll."""

    _kind = "prepare"
    _list_name = "_prepare"


class check(_listed):
    """Runs the callback after each poll."""

    _kind = "check"
    _list_name = "_check"


class fork(_listed):
    """Runs the callback in the child's loop after ``os.fork()``."""

    _kind = "fork"
    _list_name = "_fork_watchers"

    def _hook(self) -> None:
        # A fork watcher never keeps the loop alive on its own.
        getattr(self.loop, self._list_name).append(self)

    def _unhook(self) -> None:
        try:
            self.loop._fork_watchers.remove(self)
        except ValueError:
            pass  # already removed
