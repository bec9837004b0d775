"""``patch_thread``: the green ``_thread`` under an unmodified ``threading``.

``_thread`` gets every name :mod:`gevent.thread` implements. ``threading`` copied some of them
into its own globals at import; exactly those globals are rebound (gevent.threading's
``__implements__``, plus any other global that *is* one of the replaced ``_thread`` objects, for
Pythons newer than this code). Nothing in ``threading`` is subclassed or rewritten.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from ._early import direct_importers
from ._errors import queue_warning
from ._state import get_original, patch_item

__all__ = ["patch_thread_modules"]

def _native_threads_running(threading) -> list[str]:
    native_ident = get_original("_thread", "get_ident")()
    main = threading.main_thread()
    names = []
    for thread in threading.enumerate():
        if thread is main or getattr(type(thread), "_gevent_dummy", False):
            continue
        if thread.ident == native_ident:
            continue  # the thread that patches (warned about on its own)
        names.append(thread.name)
    return names


def _patch_logging(threading) -> None:
    """logging's module lock and existing handlers' locks become green RLocks."""
    logging = sys.modules.get("logging")
    if logging is None:
        return
    if getattr(logging, "_lock", None) is not None:
        patch_item(logging, "_lock", threading.RLock())
    for ref in list(getattr(logging, "_handlerList", ())):
        handler = ref()
        if handler is not None and getattr(handler, "lock", None) is not None:
            handler.createLock()


def _patch_event(threading) -> None:
    from gevent import event

    # threading.Thread calls _at_fork_reinit on its _started event after fork.
    if hasattr(event.Event, "_at_fork_reinit"):
        patch_item(threading, "Event", event.Event)


def _green_main_thread_join(threading) -> None:
    """Make joining the main thread wait for a greenlet, not for the OS thread.

    A green thread that joins the main thread waits on what ``threading._shutdown`` releases
    at exit (3.11/3.12: the main Thread's ``_tstate_lock``; 3.13+: its ``_handle``). Left
    native, that wait blocks the one OS thread, so the main greenlet never reaches
    ``_shutdown`` and the exit hangs. Only from the main OS thread: the object must be the one
    the running thread will release.
    """
    main = threading.main_thread()
    if get_original("_thread", "get_ident")() != main.ident:
        return
    from gevent import thread as gthread

    tstate_lock = getattr(main, "_tstate_lock", None)
    if tstate_lock is not None and not isinstance(tstate_lock, gthread._ExitLatch):
        if tstate_lock.locked():
            latch = main._tstate_lock = gthread._ExitLatch()
            latch.acquire()  # held while the main thread runs, as the native one was
            # The main Thread registered its lock among those _shutdown waits for (and
            # discards when the thread stops): the latch takes its place there too.
            shutdown_locks = getattr(threading, "_shutdown_locks", None)
            if shutdown_locks is not None and tstate_lock in shutdown_locks:
                with threading._shutdown_locks_lock:
                    shutdown_locks.discard(tstate_lock)
                    shutdown_locks.add(latch)
        return
    handle = getattr(main, "_handle", None)
    if handle is not None and not isinstance(handle, gthread._ThreadHandle):
        if not handle.is_done():
            main._handle = gthread._make_main_thread_handle(main.ident)


def patch_thread_modules(patch_module: Callable[..., bool], threading: bool,
                         _threading_local: bool, Event: bool, logging: bool,
                         existing_locks: bool, warnings: list[str] | None) -> bool:
    import _thread as thread_module

    from gevent import local as glocal
    from gevent import thread as gthread

    replaced: dict[str, Any] = {
        name: thread_module.__dict__[name]
        for name in gthread.__implements__ if name in thread_module.__dict__
    }
    if not patch_module(thread_module, gthread, _warnings=warnings):
        return False

    import threading as threading_module

    if threading:
        from gevent import threading as gthreading

        before = {name: threading_module.__dict__.get(name) for name in gthreading.__implements__}
        by_identity = {id(value): name for name, value in replaced.items()}
        extra = []
        for name, value in list(vars(threading_module).items()):
            source_name = by_identity.get(id(value))
            if (name not in gthreading.__implements__ and source_name is not None
                    and replaced[source_name] is value):
                extra.append((name, getattr(gthread, source_name)))
        if patch_module(threading_module, gthreading, _warnings=warnings):
            for name, value in extra:
                patch_item(threading_module, name, value)
            if Event:
                _patch_event(threading_module)
            replaced.update({f"threading.{k}": v for k, v in before.items() if v is not None})

    if threading:
        _green_main_thread_join(threading_module)

    if _threading_local:
        import _threading_local as threading_local_module

        patch_item(threading_local_module, "local", glocal.local)

    if logging:
        _patch_logging(threading_module)

    # existing_locks: nothing to do. Our main greenlet keeps the main thread's native ident, so
    # locks (and RLocks) created before patching still see their owner as the same thread.

    _warn_about_early_state(threading_module, replaced, warnings)
    return True


def _warn_about_early_state(threading, replaced: dict[str, Any],
                            warnings: list[str] | None) -> None:
    native_ident = get_original("_thread", "get_ident")()
    if native_ident != threading.main_thread().ident:
        # gevent's two warnings, word for word (programs and gevent's tests match them).
        queue_warning(
            "Monkey-patching outside the main native thread. Some APIs will not be available. "
            "Expect a KeyError to be printed at shutdown.",
            warnings,
        )
        queue_warning(
            "Monkey-patching not on the main thread; threading.main_thread().join() will hang "
            "from a greenlet",
            warnings,
        )
    running = _native_threads_running(threading)
    if running:
        queue_warning(
            f"Monkey-patching threading while native threads are running: {running}. They stay "
            "native threads; a green lock or queue they share with greenlets works, but a "
            "native lock held across a greenlet switch blocks the whole thread. Patch earlier.",
            warnings,
        )
    importers = direct_importers("threading", replaced)
    if importers:
        queue_warning(
            "Modules imported threading/_thread names before monkey-patching and keep the "
            f"native versions (NOT patched): {importers}. Their locks block the whole thread "
            "instead of one greenlet, and their idents are per thread, not per greenlet. "
            "Patch before importing them.",
            warnings,
        )
