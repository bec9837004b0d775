"""Seeing inside a running gevent process: stacks, greenlet trees, switch assertions.

``format_run_info()`` / ``print_run_info()`` describe every thread's stack, every greenlet (its
stack, who spawned it and where) and every hub's active watchers. ``GreenletTree`` is the
spawn tree those use. ``register_dump_signal()`` prints all of it when a signal arrives, like
:func:`faulthandler.register` does for threads. ``assert_switches`` checks that a block of code
gives other greenlets a chance to run. The output of the formatting functions is meant for
humans; its exact shape is not a contract.
"""

from __future__ import annotations

import os
import signal as _signal
import sys
from collections.abc import Callable
from typing import IO, Any

from ._greenlet_tree import (
    GreenletTree,
    _format_stack,
    _get_ident,
    _hub_class,
    _safe_repr,
    _thread_names,
)

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
        ident = tree._thread_ident
        where = f" [thread {ident:#x}]" if ident is not None else ""
        lines.append("---- Thread boundary" + where)
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
