# Theory of operation: the greenlets that run asyncio handles, and what happens when one blocks.
#
# An EventLoop (``_asyncio_loop.py``) runs its ready handles in batches, each batch inside a
# *runner* greenlet whose parent is the hub. While a batch runs, asyncio's per-thread state says
# "this loop is running" (``events._set_running_loop``), the loop's async-generator hooks are
# installed, and a task step marks its task current; when the batch ends the runner puts back
# what was there and switches to the hub.
#
# A handle may make a blocking gevent call (``time.sleep`` under patch_all, a green socket, a
# ``Queue.get``): the runner switches to the hub in the middle of the batch. The hub notices
# (the switch into the runner did not come back with "batch done"), *detaches* that runner
# (it now belongs to the handle that blocked, like a greenlet per task) and the loop's next batch
# gets a fresh runner. Only the blocked task waits; every other task and greenlet goes on.
#
# A detached runner is parked by gevent, not by us, and gevent wakes it directly, so asyncio's
# per-thread state has to follow it: while any runner is detached, a greenlet switch tracer
# (``greenlet.settrace``) restores the loop's state on every switch into it and takes it away on
# every switch out of it. The tracer exists only while some handle is blocked, so the ordinary
# path pays nothing for it. When the blocked handle returns, the runner gives the state back and
# ends.

from __future__ import annotations

import sys
import weakref
from asyncio import events, tasks
from typing import Any

import greenlet as _greenlet

__all__ = ["hub_state", "HubState", "swap_current_task", "take_current_task"]

get_running_loop = events._get_running_loop
set_running_loop = events._set_running_loop
_get_asyncgen_hooks = sys.get_asyncgen_hooks
_set_asyncgen_hooks = sys.set_asyncgen_hooks

swap_current_task: Any = getattr(tasks, "_swap_current_task", None)  # Python 3.12+
if swap_current_task is None:  # 3.10, 3.11: the current task lives in a plain dict keyed by loop
    _current_tasks = getattr(tasks, "_current_tasks")  # noqa: B009 (not in the stubs)

    def swap_current_task(loop, task):
        previous = _current_tasks.get(loop)
        if task is None:
            _current_tasks.pop(loop, None)
        else:
            _current_tasks[loop] = task
        return previous


def take_current_task(loop):
    """Clear *loop*'s current task and return it (None if there was none)."""
    try:
        return swap_current_task(loop, None)
    except KeyError:  # 3.12's C version refuses to clear an empty slot
        return None


class _Detached:
    """What a detached runner needs restored around its own execution."""

    __slots__ = ("loop", "task", "saved_loop", "saved_hooks")

    def __init__(self, loop, task, saved_loop, saved_hooks) -> None:
        self.loop = loop
        self.task = task
        self.saved_loop = saved_loop
        self.saved_hooks = saved_hooks

    def suspend(self) -> None:
        # The order matters on 3.14, where the current task is kept for the running loop only.
        self.task = take_current_task(self.loop)
        set_running_loop(self.saved_loop)
        _set_asyncgen_hooks(*self.saved_hooks)

    def resume(self) -> None:
        loop = self.loop
        self.saved_loop = get_running_loop()
        self.saved_hooks = _get_asyncgen_hooks()
        set_running_loop(loop)
        _set_asyncgen_hooks(loop._asyncgen_firstiter_hook, loop._asyncgen_finalizer_hook)
        if self.task is not None:
            swap_current_task(loop, self.task)


class HubState:
    """Per hub: its default EventLoop and the runners detached by a blocking call."""

    def __init__(self, hub) -> None:
        self.hub_ref = weakref.ref(hub)
        self.default_loop: Any = None
        self.detached: dict = {}
        self._previous_tracer = None
        self._tracing = False

    # -- detaching -----------------------------------------------------------------------------

    def detach(self, loop, runner, saved_loop, saved_hooks) -> None:
        """Called in the hub right after *runner* blocked inside one of *loop*'s handles."""
        task = take_current_task(loop)
        set_running_loop(saved_loop)
        _set_asyncgen_hooks(*saved_hooks)
        self.detached[runner] = _Detached(loop, task, saved_loop, saved_hooks)
        if not self._tracing:
            self._previous_tracer = _greenlet.settrace(self._trace)
            self._tracing = True

    def finish(self, runner) -> None:
        """Called by a detached runner once its handle returned, just before it ends."""
        record = self.detached.pop(runner, None)
        if record is not None:
            take_current_task(record.loop)
            set_running_loop(record.saved_loop)
            _set_asyncgen_hooks(*record.saved_hooks)
        if not self.detached and self._tracing and _greenlet.gettrace() == self._trace:
            _greenlet.settrace(self._previous_tracer)
            self._previous_tracer = None
            self._tracing = False

    def _trace(self, event, args) -> None:
        if event == "switch" or event == "throw":
            origin, target = args
            detached = self.detached
            record = detached.get(origin)
            if record is not None:
                record.suspend()
            record = detached.get(target)
            if record is not None:
                record.resume()
        previous = self._previous_tracer
        if previous is not None:
            previous(event, args)


_states: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def hub_state(hub) -> HubState:
    state = _states.get(hub)
    if state is None:
        state = _states[hub] = HubState(hub)
    return state
