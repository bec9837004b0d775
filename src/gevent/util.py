"""Seeing inside a running gevent process: stacks, greenlet trees, switch assertions.

``format_run_info()`` / ``print_run_info()`` describe every thread's stack, every greenlet (its
stack, who spawned it and where) and every hub's active watchers. ``GreenletTree`` is the
spawn tree those use. ``register_dump_signal()`` prints all of it when a signal arrives, like
:func:`faulthandler.register` does for threads. ``assert_switches`` checks that a block of code
gives other greenlets a chance to run. The output of the formatting functions is meant for
humans; its exact shape is not a contract.
"""

from __future__ import annotations

import gc
import os
import signal as _signal
import sys
import traceback
from collections.abc import Callable, Iterable
from typing import IO, Any

from greenlet import getcurrent
from greenlet import greenlet as RawGreenlet

__all__ = [
    "format_run_info",
    "print_run_info",
    "GreenletTree",
    "wrap_errors",
    "assert_switches",
    "register_dump_signal",
    "unregister_dump_signal",
]

_RULE = "*" * 80


# -- small helpers -------------------------------------------------------------------------


class wrap_errors:
    """Make *func* return the exceptions listed in *errors* instead of raising them.

    ``wrap_errors((TypeError, ValueError), func)(*args)`` returns ``func(*args)``, or the
    ``TypeError``/``ValueError`` instance it raised. Useful for greenlets whose "failure" is an
    expected result that should not be reported as an error. ``str()`` and ``repr()`` are those
    of *func*, and other attributes are looked up on *func*.
    """

    def __init__(self, errors: type[BaseException] | tuple[type[BaseException], ...],
                 func: Callable[..., Any]) -> None:
        self.__errors = errors
        self.__func = func

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return self.__func(*args, **kwargs)
        except self.__errors as ex:
            return ex

    def __str__(self) -> str:
        return str(self.__func)

    def __repr__(self) -> str:
        return repr(self.__func)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.__func, name)


def clear_stack_frames(frame: Any) -> None:
    """Drop the local variables of *frame* and every frame below it (``f_back``).

    Frames still executing cannot be cleared and are skipped. Helps break reference cycles
    through a saved traceback or stack.
    """
    while frame is not None:
        try:
            frame.clear()
        except RuntimeError:
            pass  # the frame is still executing: its locals are in use and must stay
        frame = frame.f_back


def _format_context(obj: Any) -> str:
    """Format a spawn-tree local with ``gevent.config.format_context`` (pprint.saferepr)."""
    try:
        from ._config import config

        return str(config.format_context(obj))
    except Exception:  # a broken formatter must not break the report: fall back to repr
        return _safe_repr(obj)


def _safe_repr(obj: Any) -> str:
    try:
        return repr(obj)
    except Exception:  # a broken __repr__ must not break a debugging dump
        return object.__repr__(obj)


def _root_of(glet: Any) -> Any:
    while True:
        parent = glet.parent
        if parent is None:
            return glet
        glet = parent


def _all_greenlets() -> list:
    # isinstance() would consult __class__, which raises for dead weak proxies; type() does not.
    return [obj for obj in gc.get_objects() if issubclass(type(obj), RawGreenlet)]


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
    summaries.reverse()
    if limit is not None:
        summaries = summaries[-limit:]
    text = "".join(traceback.StackSummary.from_list(summaries).format())
    return text.rstrip("\n").split("\n") if text else []


# -- the greenlet tree ---------------------------------------------------------------------


class GreenletTree:
    """A greenlet and the greenlets it spawned, as a tree.

    In gevent the ``parent`` of almost every greenlet is the hub, so the tree follows
    ``spawning_greenlet`` instead when it is known (``config.track_greenlet_tree``), and
    ``parent`` otherwise. The roots are the main greenlets of threads.

    ``str()`` gives a compact picture; :meth:`format` adds each greenlet's stack, where it was
    spawned and its spawn-tree locals. Get trees with :meth:`current_tree` (this thread) or
    :meth:`forest` (every thread).
    """

    #: What ``format(details=True)`` includes.
    DEFAULT_DETAILS = {
        "running_stacks": True,
        "running_stack_limit": None,
        "spawning_stacks": True,
        "locals": True,
    }

    def __init__(self, greenlet: Any) -> None:
        self.greenlet = greenlet
        self.child_trees: list[GreenletTree] = []
        self.is_current_tree = False
        self._tree_parent: Any = None
        self._thread_ident: int | None = None
        self._current_frames: dict | None = None

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
        for glet in greenlets:
            if glet.parent is None:
                if not glet.dead:
                    nodes[id(glet)] = GreenletTree(glet)
                continue
            if glet.dead and not hasattr(glet, "spawning_stack"):
                continue  # a finished raw greenlet tells nothing; finished Greenlets may
            if _root_of(glet).dead:
                continue  # its thread is gone
            nodes[id(glet)] = GreenletTree(glet)
        for node in nodes.values():
            glet = node.greenlet
            if glet.parent is None:
                roots.append(node)
                node.is_current_tree = glet is current_root
                continue
            parent_node = GreenletTree._tree_parent_node(glet, nodes)
            node._tree_parent = parent_node.greenlet
            parent_node.add_child(node)
        roots.sort(key=lambda node: not node.is_current_tree)
        return roots

    @staticmethod
    def _tree_parent_node(glet: Any, nodes: dict) -> GreenletTree:
        candidates = []
        spawning = getattr(glet, "spawning_greenlet", None)
        if spawning is not None:
            candidates.append(spawning())
        candidates.append(glet.parent)
        for candidate in candidates:
            node = nodes.get(id(candidate)) if candidate is not None else None
            if node is not None and not GreenletTree._would_cycle(glet, candidate, nodes):
                return node
        return nodes[id(_root_of(glet))]

    @staticmethod
    def _would_cycle(glet: Any, parent: Any, nodes: dict) -> bool:
        # Spawning and parent links together could in theory loop (parents can be
        # reassigned); walk up the chosen parents to make sure *glet* is not among them.
        seen = 0
        while parent is not None and seen < 10_000:
            if parent is glet:
                return True
            node = nodes.get(id(parent))
            if node is None:
                return False
            parent = node._tree_parent if parent.parent is not None else None
            seen += 1
        return False

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
        for tree in cls.forest():
            if tree.is_current_tree:
                return tree
        tree = cls(_root_of(getcurrent()))
        tree.is_current_tree = True
        return tree

    def _set_frames(self, frames: dict) -> None:
        self._current_frames = frames
        for child in self.child_trees:
            child._thread_ident = self._thread_ident
            child._set_frames(frames)

    # -- rendering -----------------------------------------------------------------------

    def _title(self) -> str:
        glet = self.greenlet
        text = _safe_repr(glet)
        if glet.parent is None:
            ident = self._thread_ident
            text += f" [thread {ident:#x}]" if ident is not None else " [thread unknown]"
        if glet is getcurrent():
            text += " (current)"
        elif glet.dead:
            text += "; finished"
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
        lines: list[str] = []
        if glet.parent is not None:
            lines.append(f"Parent: {_safe_repr(glet.parent)}")
        if details.get("running_stacks", True):
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
            tree_locals = getattr(glet, "spawn_tree_locals", None)
            parent = self._tree_parent
            inherited = parent is not None and \
                getattr(parent, "spawn_tree_locals", None) is tree_locals
            if tree_locals and not inherited:
                lines.append("Spawn Tree Locals:")
                for key, value in list(tree_locals.items()):
                    lines.append(f"  {key!r}: {_format_context(value)}"[:200])
        try:
            from ._monitor import _monitor_description

            text = _monitor_description(glet)
        except Exception:  # no monitor module or a broken repr: nothing to add
            text = None
        if text:
            lines.append(text)
        return lines

    def _render(self, lines: list[str], first: str, rest: str, details: dict | None,
                current_frame: Any) -> None:
        lines.append(first + self._title())
        children = self.child_trees
        if details is not None:
            bar = " |   " if children else "     "
            for line in self._details(details, current_frame):
                lines.append(f"{rest}{bar}  {line}")
        for index, child in enumerate(children):
            last = index == len(children) - 1
            child._render(lines, rest + " +-- ", rest + ("     " if last else " |   "), details,
                          current_frame)

    def format_lines(self, details: bool | dict = True) -> list[str]:
        """The tree as lines of text; *details* adds stacks (True, or a dict like
        :attr:`DEFAULT_DETAILS` to choose)."""
        if details is True:
            chosen: dict | None = dict(self.DEFAULT_DETAILS)
        elif not details:
            chosen = None
        else:
            chosen = dict(self.DEFAULT_DETAILS)
            chosen.update(details)  # type: ignore[arg-type]
        lines: list[str] = []
        # The current greenlet has no saved frame: show it running here, in our caller.
        self._render(lines, "", "", chosen, sys._getframe(1))
        return lines

    def format(self, details: bool | dict = True) -> str:
        """Like :meth:`format_lines`, as one string."""
        return "\n".join(self.format_lines(details))

    def __str__(self) -> str:
        return self.format(False)


# -- run info ------------------------------------------------------------------------------


def _format_thread_info(lines: list[str], thread_stacks: bool, limit: int | None,
                        current_thread_ident: int | None) -> None:
    names = _thread_names()
    current = current_thread_ident if current_thread_ident is not None else _get_ident()
    lines.append(_RULE)
    lines.append("* Threads")
    lines.append(_RULE)
    for ident, frame in sorted(sys._current_frames().items()):
        title = f"Thread {ident:#x} ({names.get(ident, 'unnamed')})"
        if ident == current:
            title += " (CURRENT)"
        lines.append(title)
        if thread_stacks:
            lines.append("")
            lines.extend(_format_stack(frame, limit))
        lines.append("")
        del frame


def _format_greenlet_info(lines: list[str], greenlet_stacks: bool, limit: int | None) -> None:
    lines.append(_RULE)
    lines.append("* Greenlets")
    lines.append(_RULE)
    forest = GreenletTree.forest()
    details = {
        "running_stacks": greenlet_stacks,
        "running_stack_limit": limit,
        "spawning_stacks": True,
        "locals": True,
    }
    for tree in forest:
        lines.append("---- Thread boundary")
        lines.extend(tree.format_lines(details))
    _format_hub_watchers(lines, forest)


def _format_hub_watchers(lines: list[str], forest: list[GreenletTree]) -> None:
    hub_type = _hub_class()
    hubs = []
    stack = list(forest)
    while stack:
        tree = stack.pop()
        if isinstance(tree.greenlet, hub_type):
            hubs.append(tree.greenlet)
        stack.extend(tree.child_trees)
    if not hubs:
        return
    lines.append(_RULE)
    lines.append("* Hub watchers")
    lines.append(_RULE)
    for hub in hubs:
        lines.append(_safe_repr(hub))
        loop = hub.loop
        if loop is None:
            lines.append("    (loop destroyed)")
            continue
        try:
            watchers = loop.describe_watchers()
        except Exception as ex:  # the loop is being torn down by its own thread
            watchers = [f"(cannot describe watchers: {ex!r})"]
        pending = getattr(loop, "pendingcnt", None)
        if pending:
            lines.append(f"    {pending} callbacks pending")
        if not watchers:
            lines.append("    (no active watchers)")
        lines.extend("    " + line for line in watchers)


def format_run_info(thread_stacks: bool = True, greenlet_stacks: bool = True,
                    limit: int | None = None,
                    current_thread_ident: int | None = None) -> list[str]:
    """Describe every thread and greenlet of the process, as lines of text.

    The lines hold each thread's stack (with *thread_stacks*), each greenlet's spawn tree with
    where it was spawned and, with *greenlet_stacks*, where it is running or suspended, and
    each hub's active watchers. *limit* is passed to :func:`traceback.format_stack`.
    Never switches greenlets.
    """
    lines: list[str] = []
    _format_thread_info(lines, thread_stacks, limit, current_thread_ident)
    _format_greenlet_info(lines, greenlet_stacks, limit)
    return lines


#: The name this function had before gevent 1.3a2.
dump_stacks = format_run_info


def print_run_info(thread_stacks: bool = True, greenlet_stacks: bool = True,
                   limit: int | None = None, file: IO[str] | None = None) -> None:
    """Print :func:`format_run_info` to *file* (default: ``sys.stderr``)."""
    lines = format_run_info(thread_stacks=thread_stacks, greenlet_stacks=greenlet_stacks,
                            limit=limit)
    stream = sys.stderr if file is None else file
    for line in lines:
        stream.write(line + "\n")
    flush = getattr(stream, "flush", None)
    if flush is not None:
        flush()


# -- dumping on a signal -------------------------------------------------------------------

# {signum: previous handler}, for the signals register_dump_signal() took over.
_dump_previous: dict[int, Any] = {}


class _FdWriter:
    def __init__(self, fd: int) -> None:
        self.fd = fd

    def write(self, text: str) -> None:
        data = text.encode("utf-8", "replace")
        while data:
            data = data[os.write(self.fd, data):]


def register_dump_signal(signum: int = _signal.SIGUSR1, file: IO[str] | int | None = None, *,
                         chain: bool = False, thread_stacks: bool = True,
                         greenlet_stacks: bool = True, limit: int | None = None) -> None:
    """When *signum* arrives, print :func:`format_run_info` to *file* (like
    :func:`faulthandler.register`, with greenlets).

    *file* is a text stream or a file descriptor; the default is ``sys.stderr`` as it is when
    the signal arrives. With *chain*, the handler that was installed before is called after
    the dump. The dump runs in the main thread as soon as it executes Python code, even when
    the event loop is blocked. Must be called from the main thread (a rule of
    :func:`signal.signal`). Undo with :func:`unregister_dump_signal`.
    """
    if file is not None and not isinstance(file, int) and not hasattr(file, "write"):
        raise TypeError(f"file must be a stream or a file descriptor, not {file!r}")
    sink = _FdWriter(file) if isinstance(file, int) else file

    def dump(received: int, frame: Any) -> None:
        del frame
        stream = sink if sink is not None else sys.stderr
        try:
            stream.write(f"gevent: received signal {received}, dumping run info\n")
            print_run_info(thread_stacks=thread_stacks, greenlet_stacks=greenlet_stacks,
                           limit=limit, file=stream)  # type: ignore[arg-type]
        except (OSError, ValueError):
            pass  # the stream is closed or broken: there is nowhere to write the dump
        previous = _dump_previous.get(received)
        if chain and callable(previous):
            previous(received, sys._getframe(1))

    previous = _signal.signal(signum, dump)
    _dump_previous.setdefault(signum, previous)


def unregister_dump_signal(signum: int = _signal.SIGUSR1) -> bool:
    """Restore the handler *signum* had before :func:`register_dump_signal`.

    Returns False if no dump was registered for *signum*.
    """
    if signum not in _dump_previous:
        return False
    previous = _dump_previous.pop(signum)
    _signal.signal(signum, previous if previous is not None else _signal.SIG_DFL)
    return True


# -- asserting that code switches ----------------------------------------------------------


class _FailedToSwitch(AssertionError):
    pass


class assert_switches:
    """A context manager that fails when its body does not let other greenlets run.

    Without *max_blocking_time*, leaving the block raises :exc:`AssertionError` if the body
    never switched greenlets. With *max_blocking_time* (seconds), it raises if the body ran
    for longer than that without switching, whether or not it switched at other times; a
    fast body that never switched passes. With *hub_only*, only switches into the hub end a
    stretch (greenlets switching directly among themselves still count as blocking); it
    matters only together with *max_blocking_time*. Nothing is checked when the body raises.
    The message says how long the longest stretch was and shows the current greenlet tree.

    Switches are traced (``greenlet.settrace``) only inside the block.
    """

    hub: Any = None
    tracer: Any = None

    def __init__(self, max_blocking_time: float | None = None, hub_only: bool = False) -> None:
        self.max_blocking_time = max_blocking_time
        self.hub_only = hub_only

    def __enter__(self) -> assert_switches:
        from ._tracer import SwitchTracer
        from .hub import get_hub

        self.hub = hub = get_hub()
        hub_only = self.hub_only and self.max_blocking_time is not None
        self.tracer = SwitchTracer(hub, hub_only)
        self.tracer.install()
        return self

    def __exit__(self, typ: Any, value: Any, tb: Any) -> None:
        tracer = self.tracer
        self.tracer = None
        self.hub = None
        tracer.uninstall()
        if typ is not None:
            return
        limit = self.max_blocking_time
        if limit is None:
            if tracer.switch_count:
                return
            message = f"To any greenlet in {tracer.elapsed:.4f} seconds"
        else:
            # With hub_only, never giving the hub a turn fails too, however short (gevent).
            never_hub = self.hub_only and not tracer.hub_switch_count
            if tracer.longest <= limit and not never_hub:
                return
            where = "the hub" if self.hub_only else "any greenlet"
            took = tracer.elapsed if never_hub and tracer.longest <= limit else tracer.longest
            message = (f"To {where} in {took:.4f} seconds "
                       f"(max allowed {limit:.4f} seconds)")
        blamed = tracer.longest_greenlet
        if blamed is not None and limit is not None:
            message += f"\nThe greenlet that ran longest: {_safe_repr(blamed)}"
        report = GreenletTree.current_tree().format_lines(
            {"running_stacks": True, "spawning_stacks": True, "locals": False}
        )
        raise _FailedToSwitch("\n".join([message, "", *report]))

    def __repr__(self) -> str:
        return (f"<{type(self).__name__} max_blocking_time={self.max_blocking_time!r} "
                f"hub_only={self.hub_only!r}>")
