# Theory of operation: measuring greenlet switches in one thread, only while asked to.
#
# ``greenlet.settrace`` installs a per-thread function called on every switch; it makes every
# switch slower, so it is installed only for the span of an ``assert_switches`` block and removed
# on the way out. The tracer chains to whatever trace function was installed before it, and
# restores it. The monitor thread does not use this: it samples a counter the loop bumps, which
# costs nothing in the loop (see _monitor.py).
#
# A "stretch" is a span of time during which nothing gave the event loop a chance to run:
# - by default, the time one non-hub greenlet runs between being switched in and switching out;
# - with ``hub_only``, the time from the hub switching out until something switches back into
#   the hub (several greenlets may run in between, switching directly among themselves).
# The hub's own time is never a stretch: most of it is spent waiting for I/O.

from __future__ import annotations

from time import perf_counter
from typing import Any

import greenlet
from greenlet import getcurrent

__all__: list[str] = []


class SwitchTracer:
    """Count switches in the current thread and time the longest stretch without the hub."""

    def __init__(self, hub: Any, hub_only: bool = False) -> None:
        self.hub = hub
        self.hub_only = hub_only
        #: How many switches (or throws) happened while installed.
        self.switch_count = 0
        #: The longest stretch, in seconds, and the greenlet that started it.
        self.longest = 0.0
        self.longest_greenlet: Any = None
        self.started_at = 0.0
        self.finished_at = 0.0
        self._previous: Any = None
        self._active = False
        self._stretch_start: float | None = None
        self._stretch_greenlet: Any = None
        #: How many of those switches went into the hub.
        self.hub_switch_count = 0
        #: The greenlet running now, as far as this tracer saw (gevent's name).
        self.active_greenlet: Any = None

    def install(self) -> None:
        """Start tracing the current thread; the current greenlet's stretch starts now."""
        self._previous = greenlet.settrace(self)
        self._active = True
        now = self.started_at = perf_counter()
        current = self.active_greenlet = getcurrent()
        if current is not self.hub:
            self._stretch_start = now
            self._stretch_greenlet = current

    def uninstall(self) -> None:
        """Stop tracing; the stretch running now ends now."""
        if not self._active:
            return
        self._active = False
        now = self.finished_at = perf_counter()
        self._end_stretch(now)
        if greenlet.gettrace() is self:
            greenlet.settrace(self._previous)
        # Otherwise someone installed a tracer on top of ours and chains to us; we stay in
        # their chain but only forward from now on.

    # Compatibility: names that gevent's users and tests reach.

    @property
    def previous_trace_function(self) -> Any:
        return self._previous

    @property
    def elapsed(self) -> float:
        end = self.finished_at if not self._active else perf_counter()
        return end - self.started_at

    def _end_stretch(self, now: float) -> None:
        start = self._stretch_start
        if start is not None:
            duration = now - start
            if duration > self.longest:
                self.longest = duration
                self.longest_greenlet = self._stretch_greenlet
            self._stretch_start = None
            self._stretch_greenlet = None

    def __call__(self, event: str, args: Any) -> None:
        if self._active and (event == "switch" or event == "throw"):
            origin, target = args
            self.active_greenlet = target
            self.switch_count += 1
            now = perf_counter()
            hub = self.hub
            if self.hub_only:
                if target is hub:
                    self.hub_switch_count += 1
                    self._end_stretch(now)
                elif origin is hub or self._stretch_start is None:
                    self._stretch_start = now
                    self._stretch_greenlet = target
            else:
                self._end_stretch(now)
                if target is not hub:
                    self._stretch_start = now
                    self._stretch_greenlet = target
        previous = self._previous
        if previous is not None:
            previous(event, args)
