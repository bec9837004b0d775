"""Compatibility: names that gevent's users and tests reach in ``gevent._greenlet_primitives``.

gevent keeps compiled switching helpers here; ours are in :mod:`gevent.hub`. Only the
introspection helper that leak checks use is provided.
"""

from __future__ import annotations

import gc

from greenlet import greenlet as _RawGreenlet

__all__ = ["get_reachable_greenlets"]


def get_reachable_greenlets() -> list:
    """Every greenlet the garbage collector can see, except those marked
    ``greenlet_tree_is_ignored`` (as :class:`gevent.util.GreenletTree` skips them)."""
    return [
        obj for obj in gc.get_objects()
        if isinstance(obj, _RawGreenlet) and not getattr(obj, "greenlet_tree_is_ignored", False)
    ]
