"""patch_asyncio: asyncio's policy hands out EventLoops that run on the hub (gevent.asyncio).

If asyncio has not been imported yet, nothing is imported now (asyncio costs ~40 ms to import):
a one-shot import hook installs the policy right after asyncio's own import finishes.
"""

from __future__ import annotations

import sys

from ._state import patch_item

__all__ = ["patch_asyncio"]


def patch_asyncio() -> bool:
    """Install :class:`gevent.asyncio.EventLoopPolicy` (now, or when asyncio is imported).

    Afterwards ``asyncio.run()`` works in any number of greenlets at once, each on its own
    EventLoop sharing the hub, and ``asyncio.get_event_loop()``/``set_event_loop()`` are per
    greenlet. Patching twice does nothing more.
    """
    if "asyncio.events" in sys.modules and "asyncio" in sys.modules:
        return _install()
    if not any(isinstance(finder, _ImportHook) for finder in sys.meta_path):
        sys.meta_path.insert(0, _ImportHook())
    return True


#: Set when asyncio finished importing while gevent.asyncio itself was being imported (it
#: imports asyncio first): gevent.asyncio installs the policy at the end of its own import.
pending = False


def _install() -> bool:
    global pending
    ours = sys.modules.get("gevent.asyncio")
    if ours is not None and not getattr(ours, "_ready_to_patch", False):
        pending = True
        return True
    pending = False
    from asyncio import events

    from gevent.asyncio import EventLoopPolicy, _current_policy

    if isinstance(_current_policy(), EventLoopPolicy):
        return False
    # Exactly what set_event_loop_policy() does, recorded so get_original() can undo it
    # (and without 3.14's deprecation warning for the public setter).
    patch_item(events, "_event_loop_policy", EventLoopPolicy())
    return True


def install_pending() -> None:
    """Called by gevent.asyncio once it is fully imported."""
    if pending:
        _install()


class _ImportHook:
    """Finds nothing itself; wraps the loader of ``asyncio`` to patch once it has run."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname != "asyncio":
            return None
        sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, _ImportHook)]
        from importlib.util import find_spec

        spec = find_spec(fullname)
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        exec_module = spec.loader.exec_module

        def exec_then_patch(module) -> None:
            exec_module(module)
            _install()

        spec.loader.exec_module = exec_then_patch
        return spec
