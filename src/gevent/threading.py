"""What ``gevent.monkey.patch_thread()`` puts into the standard library's ``threading``.

``threading`` copied some ``_thread`` functions into its own namespace when it was imported
(``_start_new_thread``, ``_allocate_lock``, ``get_ident``...). Patching rebinds exactly those
names to the green versions from :mod:`gevent.thread`; ``threading``'s classes and functions are
not replaced or subclassed, so they behave as the running Python's documentation says, with
greenlets for threads. The one class gevent supplies is ``_DummyThread``, the object
``threading.current_thread()`` returns in a greenlet that no ``Thread`` started: gevent's version
forgets the greenlet when it ends, so spawning many greenlets that log does not leak.

This module is a helper for :mod:`gevent.monkey`; to run code concurrently, use
:func:`gevent.spawn` or, after patching, ``threading.Thread``.
"""

from __future__ import annotations

import threading as __threading__
import weakref
from typing import Any

from greenlet import getcurrent

from . import thread as _gthread
from .local import local  # noqa: F401  (threading.local under patching)

__all__ = ["main_native_thread"]

_stdlib_dummy: Any = __threading__._DummyThread  # type: ignore[attr-defined]
while getattr(_stdlib_dummy, "_gevent_dummy", False):
    # Imported again after patching: find the standard library's class.
    _stdlib_dummy = _stdlib_dummy.__mro__[1]

# The green counterparts of what threading took from _thread.
_start_new_thread = _gthread.start_new_thread
_start_joinable_thread = _gthread.start_joinable_thread
_allocate_lock = _gthread.allocate_lock
_LockType = _gthread.LockType
Lock = _gthread.LockType
_set_sentinel = _gthread._set_sentinel
get_ident = _gthread.get_ident
# None, as in gevent: threading.RLock() is then the standard library's own Python RLock, built
# on the green lock and idents above (its ``_block`` is a green LockType, which code and
# gevent's tests look at).
_CRLock = None
_thread_shutdown = _gthread._shutdown
_make_thread_handle = _gthread._make_thread_handle
_ThreadHandle = _gthread._ThreadHandle
_daemon_threads_allowed = _gthread.daemon_threads_allowed
_set_name = _gthread.set_name
stack_size = _gthread.stack_size

# Public names gevent's module offers too. Thread and Timer are the standard library's own
# classes: they are green exactly when threading runs on the green _thread (after patching).
start_new_thread = _gthread.start_new_thread
start_joinable_thread = _gthread.start_joinable_thread
allocate_lock = _gthread.allocate_lock
RLock = _gthread.RLock
Thread = __threading__.Thread
Timer = __threading__.Timer


def _forget_dummy(ident: int, dummy) -> None:
    threading = __threading__
    with threading._active_limbo_lock:  # type: ignore[attr-defined]
        if threading._active.get(ident) is dummy:  # type: ignore[attr-defined]
            del threading._active[ident]  # type: ignore[attr-defined]


class _DummyThread(_stdlib_dummy):  # type: ignore[misc, valid-type]
    """``threading.current_thread()`` in a greenlet that no ``Thread`` started.

    The standard library's dummy threads stay in ``threading._active`` for as long as their OS
    thread lives; for a greenlet that would be forever. This one is forgotten when its greenlet
    ends (or is garbage collected, for a raw greenlet).
    """

    _gevent_dummy = True

    def __init__(self) -> None:
        super().__init__()
        glet = getcurrent()
        if glet.parent is None:
            return  # the root greenlet of an OS thread: the standard library's rules apply
        ident: Any = self.ident
        # 3.13+ ties a dummy's lifetime to a native thread-local, which every greenlet of this
        # thread shares: each new dummy would evict the previous one from threading._active, and
        # the last one would be deleted during interpreter shutdown. We track it ourselves.
        info: Any = getattr(__threading__, "_thread_local_info", None)
        tracker = getattr(info, "_track_dummy_thread_ref", None)
        if tracker is not None and getattr(tracker, "_dummy_thread", None) is self:
            tracker._dummy_thread = None
            del info._track_dummy_thread_ref
        # The callbacks hold the dummy weakly: a dead greenlet must not keep it alive.
        self_ref = weakref.ref(self)

        def forget(_arg) -> None:
            dummy = self_ref()
            if dummy is not None:
                _forget_dummy(ident, dummy)

        rawlink = getattr(glet, "rawlink", None)
        if rawlink is not None:
            rawlink(forget)
        else:
            self._gevent_greenlet_ref = weakref.ref(glet, forget)


def main_native_thread():
    """The ``threading.Thread`` object of the main OS thread (the one running the main greenlet).

    Unlike ``threading.main_thread()`` after a fork, this is always the native main thread of
    this process as ``threading`` knew it.
    """
    return __threading__.main_thread()


# What monkey patching rebinds in ``threading``: the names this Python's threading has.
__implements__ = [
    name
    for name in (
        "_start_new_thread", "_start_joinable_thread", "_allocate_lock", "_LockType", "Lock",
        "_set_sentinel", "get_ident", "_CRLock", "_thread_shutdown", "_make_thread_handle",
        "_ThreadHandle", "_daemon_threads_allowed", "_set_name", "stack_size", "local",
        "_DummyThread",
    )
    if name in vars(__threading__)
]
__extensions__ = ["main_native_thread"]
