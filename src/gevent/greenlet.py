"""Greenlet: a function running concurrently in its own greenlet, with a result and links.

``gevent.spawn(func, *args)`` creates and starts one. ``join()`` waits for it, ``get()`` returns
its value or raises its exception, ``kill()`` raises GreenletExit (or another exception) in it.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from itertools import count
from time import monotonic
from types import GenericAlias
from typing import Any, Generic, TypeVar, overload
from weakref import ref as wref

from greenlet import GreenletExit, getcurrent
from greenlet import greenlet as RawGreenlet

from ._core._loop import QUEUED as _QUEUED
from ._linkable import _TIMED_OUT, _ForeignLink
from ._spawn_tree import _config_checked, _track_tree, _tracking, _tree_locals_of
from .hub import _get_hub_noargs as get_hub
from .hub import _threadlocal
from .timeout import Timeout, _wait_under

__all__ = ["Greenlet", "joinall", "killall"]

T = TypeVar("T")
_R = TypeVar("_R")

# Compatibility: gevent's tests replace greenlet.sys_getframe; read at each spawn.
sys_getframe = sys._getframe
_THIS_FILE = __file__


class _StartState:
    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


# _start_event is None (not started), _QUEUED (the greenlet itself sits in the loop's ready
# queue: the loop switches into it while the state is still _QUEUED, see _core/_loop.py), a
# timer entry (start_later), _RUNNING (the function was entered) or _CANCELLED (killed before it
# ever ran; the loop then drops it from the queue unrun).
_RUNNING = _StartState("running")
_CANCELLED = _StartState("cancelled")

_NO_ERROR = (None, None, None)
_NO_SPAWN_INFO = ()
_new_greenlet = RawGreenlet.__new__
_NO_RUN: Any = _StartState("no run")


class _Frame:
    """A frame's code and line, kept instead of the frame so nothing else stays alive."""

    __slots__ = ("f_code", "f_lineno", "f_back", "f_globals")

    def __init__(self, code, lineno, back) -> None:
        self.f_code = code
        self.f_lineno = lineno
        self.f_back = back
        self.f_globals = {"__name__": code.co_filename}


def _line_of(code, lasti: int) -> int:
    for start, end, line in code.co_lines():
        if start <= lasti < end and line is not None:
            return line
    return code.co_firstlineno


class SpawnedLink:
    """A link that runs its callback in a new greenlet."""

    __slots__ = ("callback",)

    def __init__(self, callback) -> None:
        if not callable(callback):
            raise TypeError(f"Expected callable: {callback!r}")
        self.callback = callback

    def __call__(self, source) -> None:
        # Called from the hub: run the callback at once in a plain greenlet (as gevent does),
        # so a callback that unlinks the others stops them before the hub calls them.
        RawGreenlet(self.callback, getcurrent()).switch(source)

    def __hash__(self) -> int:
        return hash(self.callback)

    def __eq__(self, other) -> bool:
        return self.callback == getattr(other, "callback", other)

    def __repr__(self) -> str:
        return repr(self.callback)


class SuccessSpawnedLink(SpawnedLink):
    """Runs its callback only if the source finished without an error."""

    __slots__ = ()

    def __call__(self, source) -> None:
        if source.successful():
            SpawnedLink.__call__(self, source)


class FailureSpawnedLink(SpawnedLink):
    """Runs its callback only if the source raised an error."""

    __slots__ = ()

    def __call__(self, source) -> None:
        if not source.successful():
            SpawnedLink.__call__(self, source)


class Greenlet(RawGreenlet, Generic[T]):
    """A greenlet that runs ``run(*args, **kwargs)`` (or a subclass's ``_run``) once started."""

    #: How many frames of the spawning stack are remembered (for ``spawning_stack``).
    spawning_stack_limit = 10

    __class_getitem__: Any = classmethod(GenericAlias)

    # Slots, not the instance dict: greenlet instances can still take any attribute (the
    # dict is made on the first one; celery sets its own), but a plain spawn makes no dict,
    # one allocation and one object for the garbage collector to walk fewer per greenlet.
    # _run holds the function given to __init__; a subclass's _run method stays visible
    # because a subclass's attribute comes first in the lookup (then a given function goes
    # to the instance dict).
    __slots__ = (
        "_run", "args", "_kwargs", "value", "_exc_info", "_start_event", "_notifier",
        "_links", "spawning_greenlet", "_spawn_info", "_name", "_formatted_info",
        "_finish_seq",
    )  # fmt: skip
    value: Any
    # None when there are none: an empty dict is one more object per greenlet for the
    # collector to count (the kwargs property makes one when asked).
    _kwargs: dict | None
    _exc_info: tuple | None
    _start_event: Any
    _notifier: Any
    # The links list is made on first link: most greenlets never get one.
    _links: Any
    #: A weak reference to the greenlet that created this one (None when
    #: ``config.track_greenlet_tree`` is off).
    spawning_greenlet: Any
    # (spawn-tree locals, code, lasti, code, ...) when config.track_greenlet_tree is on,
    # else _NO_SPAWN_INFO. The locals are None for a child of a root (a tree of its own) until
    # someone asks for them: no dict per spawn, and a tuple the collector can untrack.
    _spawn_info: tuple
    _formatted_info: str

    def __init__(self, run: Callable[..., T] | None = None, *args: Any, **kwargs: Any) -> None:
        hub = _threadlocal.hub
        if hub is None:
            hub = get_hub()
        # What greenlet.__init__(self, None, hub) does, in a third of the time. (mypy takes
        # the base class's parent property for an attribute missing from __slots__.)
        self.parent = hub  # type: ignore[misc]
        if run is not None:
            if not callable(run):
                raise TypeError("The run argument or self._run must be callable")
            self._run = run
        else:
            own = getattr(self, "_run", _default_run)
            if own is _default_run:
                # A plain Greenlet() runs nothing (returns None) unless _run is set before
                # it starts, as gevent's does.
                self._run = _default_run  # type: ignore[assignment]
            elif not callable(own):
                raise TypeError("The run argument or self._run must be callable")
        self.args = args
        self._kwargs = kwargs or None
        self.value = None
        self._exc_info = None
        self._start_event = None
        self._notifier = None
        self._links = ()
        if _tracking[0] and (_config_checked[0] or _track_tree()):
            _record_spawner(self)
        else:
            self.spawning_greenlet = None
            self._spawn_info = _NO_SPAWN_INFO

    # -- identity ----------------------------------------------------------------------------

    @property
    def minimal_ident(self) -> int:
        """A small integer naming this greenlet among its hub's, reused once it is gone."""
        # The hub keeps the registry: a greenlet whose parent is not a hub has no ident.
        return self.parent.ident_registry.get(self)

    @property
    def name(self) -> str:
        try:
            return self._name
        except AttributeError:
            return f"{type(self).__name__}-{self.minimal_ident}"

    @name.setter
    def name(self, value: str) -> None:
        self._name = value

    @property
    def spawn_tree_locals(self) -> dict | None:
        """The dict shared by every greenlet spawned from the same root (None when
        ``config.track_greenlet_tree`` is off)."""
        info = self._spawn_info
        if not info:
            return None
        tree_locals = info[0]
        if tree_locals is None:
            tree_locals = {}
            self._spawn_info = (tree_locals, *info[1:])
        return tree_locals

    @property
    def spawning_stack(self):
        """Where this greenlet was spawned, as a chain of frame-like objects (newest first)."""
        frames = self._spawn_info
        back = None
        for index in range(len(frames) - 2, 0, -2):
            code = frames[index]
            back = _Frame(code, _line_of(code, frames[index + 1]), back)
        return back

    @property
    def kwargs(self) -> dict:
        """The keyword arguments for the function (a dict, empty when there are none)."""
        kwargs = self._kwargs
        if kwargs is None:
            kwargs = self._kwargs = {}
        return kwargs

    @kwargs.setter
    def kwargs(self, value: dict) -> None:
        self._kwargs = value

    @property
    def loop(self):
        return self.parent.loop

    def _formatinfo(self) -> str:
        # Computed once: the function and arguments are dropped when the greenlet finishes.
        try:
            return self._formatted_info
        except AttributeError:
            pass
        func = _given_run(self)
        if func is None or func is _default_run:
            text = "_run"  # a subclass's _run method, or nothing to run
        else:
            bound_to = getattr(func, "__self__", None)
            if bound_to is self:
                text = "_run"
            elif bound_to is not None:
                text = repr(func)
            else:
                text = getattr(func, "__name__", None) or repr(func)
        args = [repr(arg)[:50] for arg in self.args]
        args.extend(f"{key}={repr(value)[:50]}" for key, value in self.kwargs.items())
        if args:
            text += f"({', '.join(args)})"
        self._formatted_info = text
        return text

    def __repr__(self) -> str:
        # The name shows once it was given or asked for (asking allocates the ident).
        try:
            name = f' "{self._name}"'
        except AttributeError:
            parent = self.parent
            registry = getattr(parent, "_ident_registry", None)
            name = f' "{self.name}"' if registry is not None and registry.has(self) else ""
        return f"<{type(self).__name__}{name} at {id(self):#x}: {self._formatinfo()}>"

    __str__ = __repr__

    # -- state -------------------------------------------------------------------------------

    def __bool__(self) -> bool:
        """True while started and not finished."""
        return self._start_event is not None and self._exc_info is None and \
            self._start_event is not _CANCELLED

    @property
    def dead(self) -> bool:
        """True once finished, or killed before it could run."""
        return self._start_event is _CANCELLED or RawGreenlet.dead.__get__(self)

    @property
    def started(self) -> bool:
        """The same as ``bool(self)``: started and not finished (gevent's meaning)."""
        return self.__bool__()

    def ready(self) -> bool:
        """True once the greenlet has finished (with a value or an exception)."""
        return self._exc_info is not None or self.dead

    def successful(self) -> bool:
        """True if it finished without raising (GreenletExit counts as success)."""
        exc_info = self._exc_info
        return exc_info is not None and exc_info[1] is None

    @property
    def exception(self) -> BaseException | None:
        """The exception the function raised, or None."""
        exc_info = self._exc_info
        return exc_info[1] if exc_info is not None else None

    @property
    def exc_info(self):
        """``(type, value, traceback)`` if the function raised, else None."""
        exc_info = self._exc_info
        if exc_info is not None and exc_info[0] is not None:
            return exc_info
        return None

    # -- starting ----------------------------------------------------------------------------

    def start(self) -> None:
        """Schedule the greenlet to run in this loop iteration or the next."""
        if self._start_event is None:
            self._start_event = _QUEUED
            self.parent.loop._ready.append(self)  # the loop switches into it
            if _spawn_callbacks:
                _call_spawn_callbacks(self)

    def start_later(self, seconds: float) -> None:
        """Schedule the greenlet to run after *seconds*."""
        if self._start_event is None:
            self._start_event = self.parent.loop._timers.add(
                monotonic() + seconds, self.switch, (), True
            )
            if _spawn_callbacks:
                _call_spawn_callbacks(self)

    # The overloads only tell type checkers that spawn(func, ...) is a Greenlet of func's
    # return type; a subclass may take other constructor arguments, hence the second.
    @overload
    @classmethod
    def spawn(cls, run: Callable[..., _R], /, *args: Any, **kwargs: Any) -> Greenlet[_R]: ...
    @overload
    @classmethod
    def spawn(cls, *args: Any, **kwargs: Any) -> Greenlet[Any]: ...
    @classmethod  # type: ignore[misc]  # run= given as a keyword lands in kwargs: handled below
    def spawn(cls, run: Any = _NO_RUN, /, *args: Any, **kwargs: Any) -> Greenlet[Any]:
        """Create a greenlet and start it: ``Greenlet.spawn(func, *args, **kwargs)``."""
        if cls is not Greenlet or run is None or run is _NO_RUN or "run" in kwargs:
            g = cls(*args, **kwargs) if run is _NO_RUN else cls(run, *args, **kwargs)
            g.start()
            return g
        # The plain case, what __init__ + start() do without the second call and its copies
        # of the arguments: the tuple and dict this call received are kept as they are.
        if not callable(run):
            raise TypeError("The run argument or self._run must be callable")
        hub = _threadlocal.hub
        if hub is None:
            hub = get_hub()
        g = _new_greenlet(Greenlet)
        g.parent = hub
        g._run = run
        g.args = args
        g._kwargs = kwargs or None
        g.value = None
        g._exc_info = None
        g._notifier = None
        g._links = ()
        if _tracking[0] and (_config_checked[0] or _track_tree()):
            _record_spawner(g)
        else:
            g.spawning_greenlet = None
            g._spawn_info = _NO_SPAWN_INFO
        g._start_event = _QUEUED
        hub.loop._ready.append(g)
        if _spawn_callbacks:
            _call_spawn_callbacks(g)
        return g

    @overload
    @classmethod
    def spawn_later(cls, seconds: float, run: Callable[..., _R], /, *args: Any,
                    **kwargs: Any) -> Greenlet[_R]: ...
    @overload
    @classmethod
    def spawn_later(cls, seconds: float, *args: Any, **kwargs: Any) -> Greenlet[Any]: ...
    @classmethod
    def spawn_later(cls, seconds: float, *args: Any, **kwargs: Any) -> Greenlet[Any]:
        """Create a greenlet and start it after *seconds*."""
        if cls is Greenlet and not args and "run" not in kwargs:
            # spawn_later(func) forgot the seconds; gevent refuses it the same way.
            raise TypeError("spawn_later() needs the seconds and a function to run")
        g = cls(*args, **kwargs)
        g.start_later(seconds)
        return g

    def _cancel_start(self) -> None:
        # Callers then set _CANCELLED, which is what makes the loop drop a queued greenlet.
        event = self._start_event
        if event is None or event is _RUNNING or event is _CANCELLED or event is _QUEUED:
            return
        self.parent.loop._timers.cancel(event)

    # -- running -----------------------------------------------------------------------------

    def run(self) -> None:
        try:
            self._start_event = _RUNNING
            try:
                kwargs = self._kwargs
                if kwargs is None:
                    result = self._run(*self.args)
                else:
                    result = self._run(*self.args, **kwargs)
            except BaseException:
                self._report_error(sys.exc_info())
                return
            self._report_result(result)
        finally:
            try:
                del self._run  # the function given to __init__ (never a subclass's method)
            except AttributeError:
                pass
            self.args = ()
            self._kwargs = None

    def _report_result(self, result: Any) -> None:
        self._exc_info = _NO_ERROR
        self._finish_seq = _next_finish_seq()  # joinall() returns in completion order
        self.value = result
        if self._links and self._notifier is None:
            self._schedule_notify()

    def _report_error(self, exc_info) -> None:
        if isinstance(exc_info[1], GreenletExit):
            # A kill is a result, not an error: drop its traceback, whose frames would keep
            # the killed function's locals (a handler's socket, say) alive with the greenlet.
            exc_info[1].__traceback__ = None
            self._report_result(exc_info[1])
            return
        self._exc_info = (exc_info[0], exc_info[1], exc_info[2])
        self._finish_seq = _next_finish_seq()
        if self._links and self._notifier is None:
            self._schedule_notify()
        try:
            self.parent.handle_error(self, *exc_info)
        finally:
            del exc_info

    def _handle_death_before_start(self, exception) -> None:
        if self._exc_info is None and self.dead:
            if isinstance(exception, type):
                exception = exception()
            self._report_error((type(exception), exception, None))

    def throw(self, *args) -> None:
        """Raise an exception in the greenlet now (from the hub). Use ``kill()`` instead."""
        self._cancel_start()
        try:
            if self._start_event is not _RUNNING:
                self._start_event = _CANCELLED
            if not self.dead:
                RawGreenlet.throw(self, *args)
        finally:
            if self._start_event is _CANCELLED:
                exc = args[0] if args else GreenletExit
                self._handle_death_before_start(exc)

    def kill(self, exception: Any = GreenletExit, block: bool = True,
             timeout: float | None = None) -> None:
        """Raise *exception* in the greenlet; by default wait (up to *timeout*) for it to die.

        A greenlet that has not started yet never runs. Killing a dead greenlet does nothing.
        """
        event = self._start_event
        if event is not _RUNNING:
            if event is _CANCELLED or self.dead:
                return
            # Not running yet: it never will. Like gevent, drop the function and its
            # arguments first (their references go with it; the repr then shows "_run").
            self._cancel_start()
            self._start_event = _CANCELLED
            try:
                del self._run
            except AttributeError:
                pass
            self.args = ()
            self._kwargs = None
            self._handle_death_before_start(exception)
            return
        if self.dead:
            return
        hub = self.parent
        if getcurrent() is self:
            raise exception if isinstance(exception, BaseException) else exception()
        hub.loop.run_callback(_kill, self, exception)
        if block and getcurrent() is not hub:
            self.join(timeout)

    # -- links -------------------------------------------------------------------------------

    def rawlink(self, callback: Callable[[Greenlet], Any]) -> None:
        """Call ``callback(self)`` from the hub when the greenlet finishes."""
        if not callable(callback):
            raise TypeError(f"Expected callable: {callback!r}")
        if type(self._links) is list:
            self._links.append(callback)
        else:
            self._links = [callback]
        if self._exc_info is not None and self._notifier is None:
            self._schedule_notify()

    def link(self, callback: Callable[[Greenlet], Any], SpawnedLink=SpawnedLink) -> None:
        """Call ``callback(self)`` in a new greenlet when this one finishes."""
        self.rawlink(SpawnedLink(callback))

    def link_value(self, callback, SpawnedLink=SuccessSpawnedLink) -> None:
        """Like ``link``, only if the greenlet finished successfully."""
        self.link(callback, SpawnedLink=SpawnedLink)

    def link_exception(self, callback, SpawnedLink=FailureSpawnedLink) -> None:
        """Like ``link``, only if the greenlet raised an error."""
        self.link(callback, SpawnedLink=SpawnedLink)

    def unlink(self, callback) -> None:
        """Remove a callback added by ``link``/``rawlink``."""
        try:
            self._links.remove(callback)
        except (ValueError, AttributeError):
            pass  # not linked (or already called): nothing to remove

    def unlink_all(self) -> None:
        self._links = ()

    def has_links(self) -> bool:
        return bool(self._links)

    def _schedule_notify(self) -> None:
        loop = self.parent.loop
        if loop is None:
            return
        hub = _threadlocal.hub
        if hub is self.parent:
            entry = [self._notify_links, ()]
            loop._ready.append(entry)
            self._notifier = entry
        else:
            self._notifier = True
            loop.run_callback_threadsafe(self._notify_links)

    def _notify_links(self) -> None:
        links = self._links
        try:
            while links:
                link = links.pop(0)
                try:
                    link(self)
                except BaseException:
                    self.parent.handle_error((link, self), *sys.exc_info())
        finally:
            self._notifier = None

    # -- waiting -----------------------------------------------------------------------------

    def _wait(self, timeout: float | None) -> bool:
        # The deadline first: a bad timeout must raise before anything is registered.
        deadline = None if timeout is None else monotonic() + max(timeout, 0.0)
        current = getcurrent()
        hub = _threadlocal.hub
        if hub is None:
            hub = get_hub()
        if current is hub:
            from .exceptions import BlockingSwitchOutError

            raise BlockingSwitchOutError(
                "Impossible to call blocking function in the event loop callback"
            )
        foreign = hub is not self.parent
        link = _ForeignLink(hub, current.switch) if foreign else current.switch
        if type(self._links) is list:
            self._links.append(link)
        else:
            self._links = [link]
        if self._exc_info is not None and self._notifier is None:
            self._schedule_notify()
        if foreign:
            # Another thread will wake us: our loop must not decide it has nothing left to do.
            hub.loop._add_ref()
        timer = None
        if deadline is not None:
            timer = hub.loop._timers.add(deadline, current.switch, (_TIMED_OUT,), True)
        try:
            result = hub.switch()
        except BaseException:
            self.unlink(link)
            raise
        finally:
            if timer is not None:
                hub.loop._timers.cancel(timer)
            if foreign:
                hub.loop._drop_ref()
        if result is _TIMED_OUT:
            self.unlink(link)
            return False
        return True

    def join(self, timeout: float | None = None) -> None:
        """Wait until the greenlet finishes or *timeout* seconds pass. A switch point."""
        if self._exc_info is not None or self.dead:
            return
        if timeout is not None and isinstance(timeout, Timeout):
            _wait_under(timeout, self._wait, False)
        else:
            self._wait(timeout)

    def get(self, block: bool = True, timeout: float | None = None) -> T:
        """Return the result, or raise the greenlet's exception. A switch point.

        Raises Timeout if the greenlet has not finished after *timeout* seconds (or at once when
        *block* is false).
        """
        if not self.ready():
            if not block:
                raise Timeout()
            if timeout is not None and isinstance(timeout, Timeout):
                _wait_under(timeout, self._wait)
            elif not self._wait(timeout):
                raise Timeout(timeout)
            if not self.ready():
                raise Timeout(timeout)
        exc_info = self._exc_info
        if exc_info is not None and exc_info[1] is not None:
            raise exc_info[1].with_traceback(exc_info[2])
        return self.value

    # -- context manager ---------------------------------------------------------------------

    def __enter__(self) -> Greenlet:
        return self

    def __exit__(self, typ, value, tb) -> None:
        # A clean exit joins; a body that raised kills the greenlet with that exception. The
        # greenlet is killed even when join() itself raises.
        if typ is None:
            try:
                self.join()
            finally:
                self.kill()
        else:
            self.kill(value if value is not None else typ)

    # -- the run-time checks some libraries use ----------------------------------------------

    @staticmethod
    def add_spawn_callback(callback) -> None:
        """Call ``callback(greenlet)`` whenever a Greenlet is started (once per callback)."""
        _spawn_callbacks.add(callback)

    @staticmethod
    def remove_spawn_callback(callback) -> None:
        _spawn_callbacks.discard(callback)


def _default_run(*args: Any, **kwargs: Any) -> None:
    return None


_default_run.__name__ = _default_run.__qualname__ = "_run"

_spawn_callbacks: set = set()
_next_finish_seq = count().__next__
_RUN_SLOT = Greenlet.__dict__["_run"]


def _given_run(glet: Greenlet):
    """The function given to ``Greenlet(run)``, if any (not a subclass's ``_run`` method)."""
    try:
        return _RUN_SLOT.__get__(glet, Greenlet)
    except AttributeError:
        pass
    try:
        return vars(glet).get("_run")  # a subclass with a _run method that was given one
    except TypeError:
        return None


def _record_spawner(glet: Greenlet) -> None:
    """Remember who spawned *glet* and from where (config.track_greenlet_tree)."""
    try:
        frame: Any = sys_getframe()  # this frame: skipped below with the others of this module
    except ValueError:  # no frame at all (called from C at the bottom of a stack)
        frame = None
    spawner = getcurrent()
    if spawner.parent is None:
        tree_locals = None  # each child of a root (the main greenlet) is a new tree, made lazily
    else:
        tree_locals = getattr(spawner, "spawn_tree_locals", None)
        if tree_locals is None:
            tree_locals = _tree_locals_of(spawner)
    # The spawner's one weak reference (CPython hands out the same one again).
    glet.spawning_greenlet = wref(spawner)
    # (tree locals, code, lasti, code, lasti, ...): one flat tuple that the collector untracks
    # after its first pass (nothing in it is tracked while the tree locals are None). f_lasti,
    # not f_lineno: a line number walks the line table; lines are computed only when someone
    # asks (spawning_stack).
    while frame is not None and frame.f_code.co_filename == _THIS_FILE:
        frame = frame.f_back  # Greenlet.spawn, subclasses' __init__ in this module
    info: list = [tree_locals]
    append = info.append
    for _ in range(glet.spawning_stack_limit):
        if frame is None:
            break
        append(frame.f_code)
        append(frame.f_lasti)
        frame = frame.f_back
    glet._spawn_info = tuple(info)


def _call_spawn_callbacks(glet: Greenlet) -> None:
    for callback in list(_spawn_callbacks):
        try:
            callback(glet)
        except Exception:
            glet.parent.handle_error(callback, *sys.exc_info())


def _kill(glet: Greenlet, exception: Any) -> None:
    try:
        glet.throw(exception)
    except BaseException:
        glet.parent.handle_error(glet, *sys.exc_info())


# joinall and killall live in their own module, which builds on Greenlet, so it is imported
# last (kept apart for the size of this module).
from ._greenlet_join import joinall, killall  # noqa: E402
