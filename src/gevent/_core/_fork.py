# Theory of operation: keeping loops sane across os.fork().
#
# One process-wide ``os.register_at_fork`` hook, installed when the first loop is created (never
# at import). In the child it tells every live loop whether it belongs to the forking thread: that
# one rebuilds its backend and wake-up fd and queues its fork watchers; the others are dead, since
# their threads do not exist in the child. The hook never switches greenlets and never blocks.
# Other layers (the hub's thread pool) add their own hooks with ``add_child_hook``.

import os
import weakref
from threading import get_ident

__all__ = ["track", "untrack", "add_child_hook"]

_loops: "weakref.WeakSet" = weakref.WeakSet()
_child_hooks: list = []
_installed = False


def _after_fork_in_child() -> None:
    me = get_ident()
    for loop in list(_loops):
        rebuild_in_child(loop, loop.thread_ident == me)
    for hook in list(_child_hooks):
        hook()


def _install() -> None:
    global _installed
    if not _installed and hasattr(os, "register_at_fork"):
        os.register_at_fork(after_in_child=_after_fork_in_child)
        _installed = True


def track(loop) -> None:
    _install()
    _loops.add(loop)


def untrack(loop) -> None:
    _loops.discard(loop)


def add_child_hook(hook) -> None:
    """Call ``hook()`` in the child after every fork, after the loops were rebuilt."""
    _install()
    if hook not in _child_hooks:
        _child_hooks.append(hook)


def rebuild_in_child(loop, forking_thread: bool) -> None:
    """Rebuild *loop*'s kernel state (a Loop's) inside ``os.fork``'s child hook; never
    switch."""
    from ._io_common import READ, WRITE, make_backend
    from ._loop import _FdState
    from ._wakeup import Wakeup

    if not forking_thread:
        # That thread does not exist in the child; the loop can never run again.
        loop._destroyed = True
        return
    old_fds = loop._fds
    name = loop._backend.name
    try:
        loop._backend.close()
    except OSError:
        pass  # the parent's epoll fd is shared; closing our copy is all we can do
    loop._backend = make_backend(name)
    loop._wakeup_watcher.stop()
    loop._wakeup.close()
    loop._wakeup = Wakeup()
    loop._fds = {}
    # The refs of started watchers are counted again as they restart below; greenlets
    # parked in fast-wait slots survive the fork and drop their own refs when they wake.
    loop._io_refs -= sum(
        1 for state in old_fds.values() for w in state.watchers if w._active and w._ref
    )
    loop.thread_ident = get_ident()
    for fd, state in old_fds.items():
        slots = state.slots
        if slots[READ] is not None or slots[WRITE] is not None or state.direct is not None:
            new = loop._fds[fd] = _FdState()
            new.slots = slots
            new.direct, new.direct_events = state.direct, state.direct_events
            try:
                loop._slot_state(fd, new.wanted())
            except OSError:
                pass  # the fd did not survive the fork: the parked greenlets stay parked
    for state in old_fds.values():
        for w in list(state.watchers):
            if w is not loop._wakeup_watcher:
                w._active = False
                _io_start_after_fork(loop, w)
    loop._register_wakeup()
    for w in list(loop._fork_watchers):
        loop._ready.append([loop._invoke, (w,)])

def _io_start_after_fork(loop, watcher) -> None:
    watcher._active = True
    try:
        loop._io_start(watcher)
    except OSError:
        watcher._active = False  # the fd did not survive the fork
