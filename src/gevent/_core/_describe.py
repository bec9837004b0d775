# Theory of operation: the loop's debugging view (``Loop.describe_watchers``), kept apart from
# the loop's hot code: what waits on fds, the next timers, and the prepare/check/idle watchers,
# as lines for LoopExit messages and ``gevent.util.format_run_info``.

from __future__ import annotations

from time import monotonic

from ._io_common import READ, WRITE

__all__ = ["describe_watchers"]


def describe_watchers(loop) -> list[str]:
    """Human-readable lines naming the watchers of *loop* that are still active."""
    lines = []
    for fd, state in loop._fds.items():
        for which, direction in ((READ, "read"), (WRITE, "write")):
            waiter = state.slots[which]
            if waiter is not None:
                lines.append(f"<fd {fd} waited on to {direction} by {waiter!r}>")
        if state.direct is not None:
            lines.append(f"<fd {fd} events={state.direct_events} handled by {state.direct!r}>")
        for w in state.watchers:
            if w is loop._wakeup_watcher:
                continue
            lines.append(f"{w!r}")
    live_timers = [e for e in loop._timers.heap if e[2] is not None]
    # Timers that keep the loop alive first: those are what a LoopExit reader or a
    # format_run_info reader is after; unref'd bookkeeping timers go last.
    for e in sorted(live_timers, key=lambda e: (not e[4], e[0]))[:10]:
        lines.append(
            f"<timer due in {e[0] - monotonic():.3f}s ref={e[4]} callback={e[2]!r}>"
        )
    if len(live_timers) > 10:
        lines.append(f"... and {len(live_timers) - 10} more timers")
    for kind, watchers in (
        ("prepare", loop._prepare),
        ("check", loop._check),
        ("idle", loop._idle),
    ):
        for w in watchers:
            lines.append(f"<{kind} {w!r}>")
    return lines
