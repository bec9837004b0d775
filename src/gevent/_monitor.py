# Theory of operation: one native monitoring thread per hub, started on demand.
#
# ``Hub.run`` calls ``hub.start_periodic_monitoring_thread()``, which starts a
# PeriodicMonitoringThread when ``config.monitor_thread`` is on. The thread is a plain OS thread
# started with the *original* ``_thread.start_new_thread`` (monkey patching must not turn it
# into a greenlet), holds the hub only weakly, and calls its monitoring functions
# ``function(hub)`` each on its own period, sleeping on a lock in between so ``kill()`` wakes
# it at once.
#
# Blocking detection costs the hub nothing: the loop bumps ``loop._iterations`` once per
# iteration, right after polling, and sets ``loop._polling`` while it waits for I/O. The
# monitor samples both. If two samples at least ``max_blocking_time`` apart see the same count
# and the loop was not polling at either, no poll happened in between: something held the
# hub's thread that long without yielding. Only then does the monitor do real work: find the
# greenlet running in that thread (the one alive whose ``gr_frame`` is None), take the thread's
# stack from ``sys._current_frames()``, describe the greenlet tree, notify ``EventLoopBlocked``
# and print the report. One report per blocked stretch.
#
# Time the monitor spends on its own work (reports, memory checks, plugin functions) is not
# counted as the hub blocking. The memory monitor reads psutil if installed, else
# /proc/self/statm. Must not: switch greenlets, use gevent's blocking API, or keep the hub alive.

from __future__ import annotations

import os
import sys
import traceback
import warnings
from collections.abc import Callable
from datetime import datetime, timezone
from time import perf_counter
from typing import Any, NamedTuple
from weakref import WeakSet
from weakref import ref as wref

from greenlet import greenlet as RawGreenlet

from .events import (
    EventLoopBlocked,
    IPeriodicMonitorThread,
    MemoryUsageThresholdExceeded,
    MemoryUsageUnderThreshold,
    PeriodicMonitorThreadStartedEvent,
    implementer,
    notify,
    notify_and_call_entry_points,
)

__all__ = [
    "PeriodicMonitoringThread",
    "MonitorWarning",
    "start_periodic_monitoring_thread",
]


class MonitorWarning(RuntimeWarning):
    """The monitor cannot do something it was configured to do."""


def _original_thread_api() -> tuple[Callable, Callable, Callable]:
    """start_new_thread, allocate_lock and get_ident as they were before monkey patching."""
    names = ["start_new_thread", "allocate_lock", "get_ident"]
    try:
        from .monkey import get_original  # type: ignore[attr-defined]

        found = get_original("_thread", names)
        return found[0], found[1], found[2]
    except Exception:  # monkey is missing or cannot answer: _thread is then unpatched
        import _thread

        return _thread.start_new_thread, _thread.allocate_lock, _thread.get_ident


class _MonitorEntry(NamedTuple):
    function: Callable[[Any], Any]
    period: float
    last_run_time: float


# Live monitors, for fork handling and for labelling their threads in dumps.
_monitors: WeakSet = WeakSet()
_fork_hook_installed = [False]


def _monitor_thread_names() -> dict[int, str]:
    return {
        m._thread_ident: f"gevent monitor for hub {m._hub_id:#x}"
        for m in list(_monitors)
        if m._thread_ident is not None and not m._killed
    }


def _monitor_description(glet: Any) -> str | None:
    """For util's greenlet tree: name the monitor that owns the hub *glet*, if any."""
    monitor = getattr(glet, "periodic_monitoring_thread", None)
    if monitor is None:
        return None
    return f"Monitoring thread: {monitor!r}"


def _after_fork_in_child() -> None:
    for monitor in list(_monitors):
        monitor._on_fork()


@implementer(IPeriodicMonitorThread)
class PeriodicMonitoringThread:
    """A native thread that watches one hub: blocking, memory, and plugins' own checks.

    Created (and started) by :meth:`gevent.hub.Hub.start_periodic_monitoring_thread`.
    ``add_monitoring_function(function, period)`` adds a check called as ``function(hub)``
    about every *period* seconds in this thread; it must not use gevent's blocking API.
    """

    #: The shortest sleep between two rounds of checks.
    min_sleep_time = 0.005
    #: How long to sleep when there is nothing to check.
    inactive_sleep_time = 2.0
    #: The floor for ``config.memory_monitor_period``: measuring memory is not free.
    min_memory_monitor_period = 2.0
    #: How long ``kill()`` waits for the thread to finish.
    kill_timeout = 1.0

    def __init__(self, hub: Any) -> None:
        from ._config import config

        start_new_thread, allocate_lock, get_ident = _original_thread_api()
        self._get_ident = get_ident
        self._allocate_lock = allocate_lock
        self._start_new_thread = start_new_thread
        self._hub_ref = wref(hub, self._on_hub_gc)
        self._hub_id = id(hub)
        self._killed = False
        self._thread_ident: int | None = None
        self._wake: Any = None
        self._entries: list[list] = []  # [function, period, next_due, last_run]; copy on write
        self._max_blocking_time = float(config.max_blocking_time)
        # Blocking detection state (only the monitor thread touches it).
        self._last_count: int | None = None
        self._busy_since: float | None = None
        self._reported_count: int | None = None
        self._ignored: WeakSet = WeakSet()
        # Memory monitoring state.
        self._memory_exceeded = 0
        self._process: Any = None
        self.add_monitoring_function(self.monitor_blocking, self._max_blocking_time)
        _monitors.add(self)
        if not _fork_hook_installed[0]:
            from ._core import _fork

            _fork.add_child_hook(_after_fork_in_child)
            _fork_hook_installed[0] = True
        self._start()

    # -- the thread ----------------------------------------------------------------------

    def _start(self) -> None:
        self._wake = self._allocate_lock()
        self._wake.acquire()
        self._exited = self._allocate_lock()
        self._exited.acquire()
        self._killed = False
        # Known at once, so kill() right after starting still waits for the thread.
        self._thread_ident = self._start_new_thread(self._run, ())

    @property
    def hub(self) -> Any:
        """The hub watched, or None once it is gone."""
        return self._hub_ref()

    @property
    def should_run(self) -> bool:
        """False once killed, or once the hub, its loop or its thread is gone."""
        if self._killed:
            return False
        hub = self._hub_ref()
        if hub is None:
            return False
        root = hub.parent
        if root is not None and root.dead:
            return False  # the hub's thread has exited
        loop = hub.loop
        return loop is not None and not loop.destroyed

    def _run(self) -> None:
        self._thread_ident = self._get_ident()
        wake = self._wake
        try:
            while self.should_run:
                started = perf_counter()
                self._run_due_functions(started)
                own_work = perf_counter() - started
                if self._busy_since is not None:
                    # Our own work held the GIL: the hub may have had no chance to run.
                    self._busy_since += own_work
                wake.acquire(True, self.calculate_sleep_time())
        finally:
            self._thread_ident = None
            self._exited.release()

    def _run_due_functions(self, now: float) -> None:
        for entry in self._entries:
            if self._killed:
                return
            if entry[2] > now:
                continue
            entry[2] = now + entry[1]
            entry[3] = now
            hub = self._hub_ref()
            if hub is None:
                return
            try:
                entry[0](hub)
            except Exception:
                # A monitoring function's bug must not stop the monitor; say so and go on.
                self._report_function_error(entry[0])
            finally:
                del hub

    def _report_function_error(self, function: Callable) -> None:
        try:
            sys.stderr.write(f"gevent monitor: {function!r} failed\n")
            traceback.print_exc()
        except Exception:  # stderr is gone (interpreter shutdown): nowhere to report
            pass

    def calculate_sleep_time(self) -> float:
        """Seconds until the next monitoring function is due (at least ``min_sleep_time``)."""
        entries = self._entries
        if not entries:
            return self.inactive_sleep_time
        due = min(entry[2] for entry in entries) - perf_counter()
        return max(due, self.min_sleep_time)

    def _wake_up(self) -> None:
        wake = self._wake
        if wake is None:
            return
        try:
            wake.release()
        except RuntimeError:
            pass  # already released: the thread will wake anyway

    def kill(self) -> None:
        """Stop the thread; wait (briefly) for it to finish unless called from it."""
        if self._killed:
            return
        self._killed = True
        _monitors.discard(self)
        self._wake_up()
        if self._thread_ident is not None and self._thread_ident != self._get_ident():
            if self._exited.acquire(True, self.kill_timeout):
                self._exited.release()

    def _on_hub_gc(self, _ref: Any) -> None:
        # Called wherever the hub was collected: never wait here.
        self._killed = True
        _monitors.discard(self)
        self._wake_up()

    def _on_fork(self) -> None:
        """In a forked child: our thread is gone; restart it for the forking thread's hub."""
        self._thread_ident = None
        hub = self._hub_ref()
        if self._killed or hub is None or not self.should_run or \
                hub.thread_ident != self._get_ident():
            self._killed = True
            _monitors.discard(self)
            return
        self._process = None
        self._last_count = self._busy_since = self._reported_count = None
        hub.periodic_monitoring_thread = self
        self._start()

    # -- monitoring functions --------------------------------------------------------------

    def add_monitoring_function(self, function: Callable[[Any], Any],
                                period: float | None) -> None:
        """Call ``function(hub)`` about every *period* seconds in the monitoring thread.

        Adding a function again changes its period; a *period* of None removes it.
        """
        if not callable(function):
            raise ValueError(f"function must be callable, not {function!r}")
        if period is not None and period <= 0:
            raise ValueError(f"period must be positive or None, not {period!r}")
        entries = [entry for entry in self._entries if entry[0] != function]
        if period is not None:
            # Due at the monitor's next pass, as in gevent, then every *period*.
            entries.append([function, float(period), perf_counter(), 0.0])
        self._entries = entries
        self._wake_up()

    def monitoring_functions(self) -> list[_MonitorEntry]:
        """The functions called, with their periods and when each last ran."""
        return [_MonitorEntry(entry[0], entry[1], entry[3]) for entry in self._entries]

    # -- blocking --------------------------------------------------------------------------

    def ignore_current_greenlet_blocking(self) -> None:
        """Do not report the calling greenlet as blocking (until the call below)."""
        from greenlet import getcurrent

        self._ignored.add(getcurrent())

    def monitor_current_greenlet_blocking(self) -> None:
        """Report the calling greenlet again when it blocks."""
        from greenlet import getcurrent

        self._ignored.discard(getcurrent())

    def monitor_blocking(self, hub: Any) -> EventLoopBlocked | None:
        """Check whether *hub*'s loop has been held longer than ``max_blocking_time``.

        Called periodically from the monitoring thread. Returns the event it emitted, if any.
        """
        loop = hub.loop
        if loop is None or not hub:
            return None  # gone, or has not started running: nothing can block it yet
        count = getattr(loop, "_iterations", None)
        if count is None:
            return None  # a loop we cannot sample (not gevent's own)
        now = perf_counter()
        if loop._polling:
            self._busy_since = None
            self._last_count = count
            return None
        if count != self._last_count or self._busy_since is None:
            self._last_count = count
            self._busy_since = now
            return None
        if count == self._reported_count:
            return None
        blocked_for = now - self._busy_since
        if blocked_for < self._max_blocking_time:
            return None
        frame = sys._current_frames().get(hub.thread_ident)
        if frame is None:
            return None  # the hub's thread is gone
        greenlet = _running_greenlet(hub)
        if greenlet is not None and greenlet in self._ignored:
            return None
        if loop._iterations != count or loop._polling:
            return None  # it moved on while we looked
        self._reported_count = count
        info = _blocking_report(self, hub, greenlet, frame, blocked_for)
        del frame
        event = EventLoopBlocked(greenlet, blocked_for, info, hub=hub)
        try:
            notify(event)
        except Exception:
            self._report_function_error(notify)
        self._show_blocking_report(hub, event.info)
        return event

    def _show_blocking_report(self, hub: Any, lines: list[str]) -> None:
        from ._config import config

        if not config.print_blocking_reports:
            return
        stream = hub.exception_stream
        text = "\n".join(lines)
        try:
            if hasattr(stream, "write"):
                stream.write(text + "\n")
                flush = getattr(stream, "flush", None)
                if flush is not None:
                    flush()
            elif hasattr(stream, "warning"):
                # A logging.Logger (or alike) set as the hub's exception_stream.
                stream.warning("%s", text)
        except Exception:  # a broken stream must not stop the monitor
            pass

    # -- memory ----------------------------------------------------------------------------

    def can_monitor_memory_usage(self) -> bool:
        """True if memory usage can be measured here (psutil, or /proc on Linux)."""
        return _read_memory(self) is not None

    def install_monitor_memory_usage(self) -> None:
        """Start checking memory if ``config.max_memory_usage`` is set."""
        from ._config import config

        if config.max_memory_usage is None:
            return
        if not self.can_monitor_memory_usage():
            warnings.warn(
                "Unable to monitor memory usage: install psutil (or run on Linux, where "
                "/proc/self/statm is read)",
                MonitorWarning,
                stacklevel=2,
            )
            return
        period = max(float(config.memory_monitor_period), self.min_memory_monitor_period)
        self.add_monitoring_function(self.monitor_memory_usage, period)

    def monitor_memory_usage(self, _hub: Any) -> int | None:
        """Measure memory; notify when it crosses ``config.max_memory_usage`` either way.

        Returns the usage in bytes, or None if it cannot be measured or no limit is set.
        """
        from ._config import config

        max_allowed = config.max_memory_usage
        if max_allowed is None:
            return None
        measured = _read_memory(self)
        if measured is None:
            return None
        usage, info = measured
        if usage > max_allowed:
            if not self._memory_exceeded:
                self._memory_exceeded = usage
                notify(MemoryUsageThresholdExceeded(usage, max_allowed, info))
        elif self._memory_exceeded:
            previous = self._memory_exceeded
            self._memory_exceeded = 0
            notify(MemoryUsageUnderThreshold(usage, max_allowed, info, previous))
        return usage

    def __repr__(self) -> str:
        ident = self._thread_ident
        where = f"{ident:#x}" if ident is not None else "(not running)"
        return (f"<{type(self).__name__} at {id(self):#x} in thread {where} "
                f"for hub {self._hub_id:#x}>")


class _StatmInfo(NamedTuple):
    rss: int
    vms: int


def _read_memory(monitor: PeriodicMonitoringThread) -> tuple[int, Any] | None:
    """(resident bytes, details) from psutil if available, else /proc/self/statm."""
    process = monitor._process
    if process is None:
        try:
            import psutil  # type: ignore[import-not-found]

            process = monitor._process = psutil.Process()
        except Exception:  # psutil missing or unusable: use /proc below
            process = monitor._process = False
    if process:
        try:
            info = process.memory_info()
            return int(info.rss), info
        except Exception:  # the process vanished (after fork) or access denied: try /proc
            pass
    try:
        with open("/proc/self/statm", "rb") as statm:
            fields = statm.read().split()
        page = os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError):
        return None
    info = _StatmInfo(int(fields[1]) * page, int(fields[0]) * page)
    return info.rss, info


# -- finding and describing what blocks ------------------------------------------------------


def _running_greenlet(hub: Any) -> Any:
    """The greenlet running now in *hub*'s thread (asked from another thread), or None."""
    import gc

    root = hub.parent
    if root is None or root.dead:
        return None
    if root.gr_frame is None:
        # A thread's main greenlet has a saved frame whenever another greenlet runs.
        return root
    for obj in gc.get_objects():
        # type(), not isinstance(): __class__ raises for dead weak proxies.
        if not issubclass(type(obj), RawGreenlet) or obj.gr_frame is not None:
            continue
        if obj.dead or not RawGreenlet.__bool__(obj):
            continue  # finished, or never started
        glet = obj
        while glet.parent is not None:
            glet = glet.parent
        if glet is root:
            return obj
    return None


def _blocking_report(monitor: PeriodicMonitoringThread, hub: Any, greenlet: Any, frame: Any,
                     blocked_for: float) -> list[str]:
    from .util import GreenletTree, _format_stack, _safe_repr

    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    if greenlet is not None and greenlet is hub.parent:
        # Seen from this thread its repr would say "suspended": name it plainly instead.
        who = f"<main greenlet of thread {hub.thread_ident:#x} at {id(greenlet):#x}>"
    else:
        who = _safe_repr(greenlet)
    lines = [
        "=" * 80,
        f"{stamp} : Greenlet {who} appears to be blocked",
        f"    The event loop has not run for at least {blocked_for:.3f} seconds "
        f"(max_blocking_time is {monitor._max_blocking_time} seconds)",
        f"    Reported by {monitor!r}",
        f"Blocked Stack (for thread id {hub.thread_ident:#x}):",
    ]
    lines.extend(_format_stack(frame, None))
    lines.append("Greenlets in that thread:")
    for tree in GreenletTree.forest():
        if tree.greenlet is hub.parent:
            lines.extend("  " + line for line in tree.format_lines(
                {"running_stacks": False, "spawning_stacks": True, "locals": False}))
    lines.append("=" * 80)
    return lines


def start_periodic_monitoring_thread(hub: Any) -> PeriodicMonitoringThread:
    """Start *hub*'s monitoring thread and announce it (PeriodicMonitorThreadStartedEvent)."""
    monitor = PeriodicMonitoringThread(hub)
    hub.periodic_monitoring_thread = monitor
    monitor.install_monitor_memory_usage()
    try:
        notify_and_call_entry_points(PeriodicMonitorThreadStartedEvent(monitor))
    except Exception:
        hub.handle_error(monitor, *sys.exc_info())
    return monitor
