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
        loop._after_fork_child(loop.thread_ident == me)
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
