"""The switch behind ``config.track_greenlet_tree``, and the locals a new spawn tree starts with.

Read on every spawn (by :class:`gevent.Greenlet` and :func:`gevent.spawn_raw`); what a greenlet
records when the switch is on is in :mod:`gevent.greenlet` (``_record_spawner``).
"""

from __future__ import annotations

# config.track_greenlet_tree, read once, on the first spawn.
_tracking = [True]
_config_checked = [False]


def _track_tree() -> bool:
    if not _config_checked[0]:
        _config_checked[0] = True
        try:
            from ._config import config

            _tracking[0] = bool(config.track_greenlet_tree)
        except Exception:  # config unavailable (bootstrapping): keep the default, tracking on
            pass
    return _tracking[0]


def _tree_locals_of(spawner) -> dict:
    """The spawn-tree locals for a child of *spawner*, which has none yet: a new tree. The
    dict is kept on a spawner that is not a root (the hub, a raw greenlet), so its other
    children share it; each child of a root (the main greenlet) starts a tree of its own."""
    tree_locals: dict = {}
    if spawner.parent is not None:
        spawner.spawn_tree_locals = tree_locals
    return tree_locals
