"""The greenlet tree of :mod:`gevent.util`: who spawned whom, drawn as text.

The picture follows gevent's: each child hangs from a ``+---`` connector, a ``|`` runs down
beside the children still to come, and a node's details (parent, stacks, locals) are data lines
marked ``:`` in the left margin. Siblings are ordered by ``minimal_ident``, not running first.
Building a tree reads ``gc.get_objects()`` once and never switches greenlets.
"""

from __future__ import annotations

import gc
import pprint
import sys
import traceback
from collections.abc import Iterable
from typing import Any

from greenlet import getcurrent
from greenlet import greenlet as RawGreenlet


def _safe_repr(obj: Any) -> str:
    try:
        return repr(obj)
    except Exception:  # a broken __repr__ must not break a debugging dump
        return object.__repr__(obj)


def _root_of(glet: Any) -> Any:
    """The root of *glet*'s tree: its thread's main greenlet, or the nearest greenlet marked
    ``greenlet_tree_is_root``."""
    while glet.parent is not None and not getattr(glet, "greenlet_tree_is_root", False):
        glet = glet.parent
    return glet


def _all_greenlets() -> list:
    # isinstance() would consult __class__, which raises for dead weak proxies; type() does not.
    return [obj for obj in gc.get_objects() if issubclass(type(obj), RawGreenlet)
            and not getattr(obj, "greenlet_tree_is_ignored", False)]


def _hub_class() -> Any:
    from .hub import Hub

    return Hub


def _thread_idents_of_roots(greenlets: Iterable) -> dict[int, int]:
    """{id(root greenlet): thread ident}, from the hubs (each knows its thread) and us."""
    idents = {id(_root_of(getcurrent())): _get_ident()}
    hub_type = _hub_class()
    for glet in greenlets:
        if isinstance(glet, hub_type) and glet.parent is not None:
            idents.setdefault(id(glet.parent), glet.thread_ident)
    return idents


def _get_ident() -> int:
    from threading import get_ident

    return get_ident()


def _thread_names() -> dict[int, str]:
    names: dict[int, str] = {}
    try:
        import threading

        for thread in threading.enumerate():
            if thread.ident is not None:
                names[thread.ident] = thread.name
    except Exception:  # threading in a strange state (shutdown): fall back to bare idents
        pass
    try:
        from ._monitor import _monitor_thread_names

        names.update(_monitor_thread_names())
    except Exception:  # the monitor module failed to import: it cannot own a thread then
        pass
    return names


def _format_stack(frame: Any, limit: int | None) -> list[str]:
    """The stack ending at *frame*, oldest call first, as text lines."""
    text = "".join(traceback.format_stack(frame, limit))
    return text.rstrip("\n").split("\n") if text else []


def _greenlet_module_file() -> str:
    from . import greenlet as greenlet_module

    return greenlet_module.__file__ or ""


def _format_spawning_stack(glet: Any, limit: int | None) -> list[str]:
    frame = getattr(glet, "spawning_stack", None)
    if frame is None:
        return []
    summaries = []
    # The innermost frames are the spawning machinery itself (Greenlet.spawn and friends):
    # the interesting location is the code that called it.
    machinery = _greenlet_module_file()
    while frame is not None and frame.f_code.co_filename == machinery:
        frame = frame.f_back
    while frame is not None:
        code = frame.f_code
        summaries.append(traceback.FrameSummary(code.co_filename, frame.f_lineno,
                                                code.co_name))
        frame = frame.f_back
    # The outermost frame of a greenlet spawned by another is that one's Greenlet.run: the
    # spawning greenlet's own code starts below it.
    while len(summaries) > 1 and summaries[-1].filename == machinery:
        summaries.pop()
    summaries.reverse()
    if limit is not None:
        summaries = summaries[-limit:]
    text = "".join(traceback.StackSummary.from_list(summaries).format())
    return text.rstrip("\n").split("\n") if text else []


# -- the greenlet tree ---------------------------------------------------------------------


def _not_ready() -> bool:
    # What a raw greenlet (which has no ready()) counts as when sorting and labelling.
    return False


def _sibling_order(tree: GreenletTree) -> tuple:
    glet = tree.greenlet
    # Reading minimal_ident hands one out if the greenlet had none, as in gevent.
    return (getattr(glet, "minimal_ident", -1), getattr(glet, "ready", _not_ready)(),
            id(glet.parent))


def _is_root(glet: Any) -> bool:
    return glet.parent is None or bool(getattr(glet, "greenlet_tree_is_root", False))


class GreenletTree:
    """A greenlet and the greenlets it spawned, as a tree.

    In gevent the ``parent`` of almost every greenlet is the hub, so the tree follows
    ``spawning_greenlet`` (kept when ``config.track_greenlet_tree`` is on); a greenlet whose
    spawner is unknown or gone hangs from its root. The roots are the main greenlets of threads
    (or greenlets marked ``greenlet_tree_is_root``); greenlets marked
    ``greenlet_tree_is_ignored`` are left out.

    ``str()`` gives a compact picture; :meth:`format` adds each greenlet's parent, stack, where
    it was spawned, its spawn-tree locals and its greenlet-local attributes. Get trees with
    :meth:`current_tree` (this thread) or :meth:`forest` (every thread). Other attributes are
    read from the greenlet.
    """

    #: What ``format(details=True)`` includes.
    DEFAULT_DETAILS = {
        "running_stacks": True,
        "running_stack_limit": None,
        "spawning_stacks": True,
        "locals": True,
    }

    greenlet: Any = None
    is_current_tree = False
    _thread_ident: int | None = None
    _current_frames: dict | None = None

    def __init__(self, greenlet: Any) -> None:
        self.greenlet = greenlet
        self.child_trees: list[GreenletTree] = []

    def __getattr__(self, name: str) -> Any:
        # gevent's trees stand in for their greenlet: tree.parent, tree.minimal_ident...
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(self.greenlet, name)

    @property
    def root(self) -> bool:
        """True if this greenlet is the main greenlet of its thread."""
        return self.greenlet.parent is None

    def add_child(self, tree: GreenletTree) -> None:
        if tree is not self:
            self.child_trees.append(tree)

    # -- building ------------------------------------------------------------------------

    @staticmethod
    def _build(greenlets: list) -> list[GreenletTree]:
        current_root = _root_of(getcurrent())
        nodes: dict[int, GreenletTree] = {}
        roots: list[GreenletTree] = []
        current = nodes[id(current_root)] = GreenletTree(current_root)
        current.is_current_tree = True
        roots.append(current)
        for glet in greenlets:
            if id(glet) in nodes:
                continue
            if _is_root(glet):
                if not glet.dead:
                    nodes[id(glet)] = GreenletTree(glet)
                    roots.append(nodes[id(glet)])
                continue
            if glet.dead and not hasattr(glet, "spawning_stack"):
                continue  # a finished raw greenlet tells nothing; finished Greenlets may
            root = _root_of(glet)
            if root.dead and root is not current_root:
                continue  # its thread is gone
            nodes[id(glet)] = GreenletTree(glet)
        for node in nodes.values():
            glet = node.greenlet
            if _is_root(glet):
                continue
            spawner = getattr(glet, "spawning_greenlet", None)
            spawner = spawner() if spawner is not None else None
            parent_node = nodes.get(id(spawner)) if spawner is not None else None
            if parent_node is None or GreenletTree._would_cycle(glet, spawner):
                parent_node = nodes.get(id(_root_of(glet)))
            if parent_node is not None:
                parent_node.add_child(node)
        return roots

    @staticmethod
    def _would_cycle(glet: Any, spawner: Any) -> bool:
        # A spawner is always older than what it spawned, so this cannot loop; the walk is
        # bounded anyway, as a debugging aid must never hang.
        for _ in range(10_000):
            if spawner is None:
                return False
            if spawner is glet:
                return True
            ref = getattr(spawner, "spawning_greenlet", None)
            spawner = ref() if ref is not None else None
        return True

    @classmethod
    def forest(cls) -> list[GreenletTree]:
        """One tree per thread that has greenlets; the current thread's tree comes first."""
        greenlets = _all_greenlets()
        roots = cls._build(greenlets)
        idents = _thread_idents_of_roots(greenlets)
        frames = sys._current_frames()
        for tree in roots:
            tree._thread_ident = idents.get(id(tree.greenlet))
            tree._set_frames(frames)
        return roots

    @classmethod
    def current_tree(cls) -> GreenletTree:
        """The tree of the current thread."""
        return cls.forest()[0]

    def _set_frames(self, frames: dict) -> None:
        self._current_frames = frames
        for child in self.child_trees:
            child._thread_ident = self._thread_ident
            child._set_frames(frames)

    # -- rendering -----------------------------------------------------------------------

    def _label(self) -> str:
        glet = self.greenlet
        text = _safe_repr(glet)
        if not glet:  # not started, or finished
            if getattr(glet, "ready", _not_ready)():
                text += "; finished"
                if glet.value is not None:
                    text += " with value " + _safe_repr(glet.value)[:30]
                elif getattr(glet, "exception", None) is not None:
                    text += " with exception " + _safe_repr(glet.exception)
            else:
                text += "; not running"
        return text

    def _running_frame(self, current_frame: Any) -> Any:
        glet = self.greenlet
        if glet is getcurrent():
            return current_frame
        frame = glet.gr_frame
        if frame is not None or glet.dead or not glet:
            return frame
        # Running now, in another thread: that thread's current frame is this greenlet's.
        if self._current_frames is not None and self._thread_ident is not None:
            return self._current_frames.get(self._thread_ident)
        return None

    def _details(self, details: dict, current_frame: Any) -> list[str]:
        glet = self.greenlet
        lines = [f"Parent: {_safe_repr(glet.parent)}"]
        try:
            from ._monitor import _monitor_description

            monitor = _monitor_description(glet)
        except Exception:  # no monitor module or a broken repr: nothing to add
            monitor = None
        if monitor:
            lines.append(monitor)
        if glet and details.get("running_stacks", True):
            frame = self._running_frame(current_frame)
            if frame is not None:
                lines.append("Running:")
                lines.extend(_format_stack(frame, details.get("running_stack_limit")))
        if details.get("spawning_stacks", True):
            spawned = _format_spawning_stack(glet, None)
            if spawned:
                lines.append("Spawned at:")
                lines.extend(spawned)
        if details.get("locals", True):
            self._locals_details(lines)
        return lines

    def _locals_details(self, lines: list[str]) -> None:
        glet = self.greenlet
        tree_locals = getattr(glet, "spawn_tree_locals", None)
        spawner = getattr(glet, "spawning_greenlet", None)
        spawner = spawner() if spawner is not None else None
        if tree_locals and tree_locals is not getattr(spawner, "spawn_tree_locals", None):
            lines.append("Spawn Tree Locals")
            lines.extend(_safe_pformat(tree_locals).splitlines())
        from .local import all_local_dicts_for_greenlet

        found = all_local_dicts_for_greenlet(glet)
        if found:
            lines.append("Greenlet Locals:")
            for (kind, ident), values in found:
                if values:
                    lines.append(f"  Local {kind} at {ident:#x}")
                    lines.extend(("    " + _safe_pformat(values)).splitlines())

    def _render(self, depth: int, details: dict | None, current_frame: Any) -> list[tuple]:
        """[(text, is_data)]: this node's label, its data lines, then its children's lines."""
        lines: list[tuple] = [(self._label(), False)]
        if details:
            margin = " :    " if depth == 0 else "      "
            for line in self._details(details, current_frame):
                lines.append((margin + line, True))
        children = sorted(self.child_trees, key=_sibling_order)
        for index, child in enumerate(children):
            last = index == len(children) - 1
            sub = child._render(depth + 1, details, current_frame)
            lines.append((" +--- " + sub[0][0], False))
            data_margin = " :    " if depth == 0 and not last else "      "
            tail_margin = "     " if last else " |   "
            for text, is_data in sub[1:]:
                lines.append(((data_margin if is_data else tail_margin) + text, is_data))
        return lines

    def format_lines(self, details: bool | dict = True) -> list[str]:
        """The tree as lines of text; *details* adds parents, stacks and locals (True, or a
        dict like :attr:`DEFAULT_DETAILS` to choose)."""
        if isinstance(details, dict):
            chosen: dict | None = dict(self.DEFAULT_DETAILS)
            chosen.update(details)  # type: ignore[union-attr]
        elif details:
            chosen = dict(self.DEFAULT_DETAILS)
        else:
            chosen = None
        # The current greenlet has no saved frame: show it running here, in our caller.
        return [text for text, _ in self._render(0, chosen, sys._getframe(1))]

    def format(self, details: bool | dict = True) -> str:
        """Like :meth:`format_lines`, as one string."""
        return "\n".join(self.format_lines(details))

    def __str__(self) -> str:
        return self.format(False)


def _safe_pformat(value: Any) -> str:
    try:
        return pprint.pformat(value)
    except Exception:  # a broken __repr__ inside must not break a debugging dump
        return _safe_repr(value)


GreenletTree.__module__ = "gevent.util"  # its public home, as its repr and pickles say
