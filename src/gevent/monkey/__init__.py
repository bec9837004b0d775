"""Make the standard library cooperative: replace its blocking pieces with gevent's.

Call :func:`patch_all` first thing in the main module (or run the program with
``python -m gevent.monkey script.py``)::

    from gevent import monkey
    monkey.patch_all()

Patching happens at the narrow seams: ``_thread``, ``socket``, ``ssl``, ``select``,
``selectors``, ``time.sleep``, ``os``, ``signal``, ``subprocess``, ``queue``. Each green module
declares the names it replaces (``__implements__``) and ``patch_*`` installs exactly those, so
the standard library's own Python code (``threading``, ``http.client``, ``socketserver``,
``concurrent.futures``...) runs unchanged on top. Existing objects are never hunted down and
changed: a module that did ``from socket import socket`` before patching keeps the blocking
class, and patching warns about it (:class:`MonkeyPatchWarning`).

Every module patched notifies :mod:`gevent.events` (``GeventWillPatchModuleEvent`` before,
``GeventDidPatchModuleEvent`` after; a subscriber raising ``DoNotPatch`` skips that module), and
``patch_all`` adds ``GeventWillPatchAllEvent``, ``GeventDidPatchBuiltinModulesEvent`` and
``GeventDidPatchAllEvent``. Plugins registered under the ``gevent.plugins.monkey.*`` entry points
are called with the same events.
"""

from __future__ import annotations

import importlib
import sys as _sys
from types import ModuleType
from typing import Any

from ._errors import MonkeyPatchWarning, process_warnings, queue_warning
from ._state import (
    get_original,
    is_anything_patched,
    is_module_patched,
    is_object_patched,
    patch_item,
    remove_item,
    saved,
)

__all__ = [
    "patch_all",
    "patch_asyncio",
    "patch_builtins",
    "patch_contextvars",
    "patch_dns",
    "patch_os",
    "patch_queue",
    "patch_select",
    "patch_selectors",
    "patch_signal",
    "patch_socket",
    "patch_ssl",
    "patch_subprocess",
    "patch_sys",
    "patch_thread",
    "patch_time",
    "get_original",
    "is_anything_patched",
    "is_module_patched",
    "is_object_patched",
    "patch_item",
    "patch_module",
    "remove_item",
    "saved",
    "main",
    "MonkeyPatchWarning",
]

_DNS_NAMES = ("getaddrinfo", "gethostbyname", "gethostbyname_ex", "gethostbyaddr",
              "getnameinfo", "getfqdn")

_primed = False


def _prime() -> None:
    """Import gevent's own machinery before anything is patched.

    The loop binds the real ``select.epoll``, ``os.waitpid``, ``signal.signal``... when its
    modules are imported; importing them after patching would give it the green versions.
    """
    global _primed
    if _primed:
        return
    import gevent.hub  # noqa: F401  (imports the loop core)
    from gevent._core import _child, _io_common, _signals, _wakeup, _watchers  # noqa: F401

    for backend in _io_common.available_backends():
        importlib.import_module(f"gevent._core._io_{backend}")
    _primed = True


def _as_module(module: ModuleType | str) -> ModuleType:
    if isinstance(module, str):
        return importlib.import_module(module)
    return module


def _notify(event: Any) -> None:
    from gevent.events import notify_and_call_entry_points

    notify_and_call_entry_points(event)


def patch_module(target_module: ModuleType | str, source_module: ModuleType | str,
                 items: list[str] | None = None, _warnings: list[str] | None = None,
                 _patch_kwargs: dict | None = None, _notify_will_subscribers: bool = True,
                 _notify_did_subscribers: bool = True, _call_hooks: bool = True) -> bool:
    """Replace the attributes *items* of *target_module* with those of *source_module*.

    *items* defaults to ``source_module.__implements__`` (AttributeError if it has none).
    Either module may be given by name. The source may define
    ``_gevent_will_monkey_patch(target, items, warn, **kwargs)`` and
    ``_gevent_did_monkey_patch(...)`` hooks. Returns False if a ``GeventWillPatchModuleEvent``
    subscriber raised ``DoNotPatch``, True once patched.
    """
    from gevent.events import DoNotPatch, GeventDidPatchModuleEvent, GeventWillPatchModuleEvent

    _prime()
    target = _as_module(target_module)
    source = _as_module(source_module)
    if items is None:
        items = getattr(source, "__implements__", None)
        if items is None:
            raise AttributeError(f"{source.__name__!r} does not have __implements__")
    items = list(items)
    kwargs = dict(_patch_kwargs or {})

    def warn(message: str) -> None:
        queue_warning(message, _warnings)

    try:
        if _call_hooks:
            will = getattr(source, "_gevent_will_monkey_patch", None)
            if will is not None:
                will(target, items, warn, **kwargs)
        if _notify_will_subscribers:
            event = GeventWillPatchModuleEvent(target.__name__, source, target, items)
            _notify(event)
            items = list(event.target_item_names)
    except DoNotPatch:
        return False

    saved.setdefault(target.__name__, {})
    for attr in items:
        if not hasattr(source, attr):
            continue  # declared for another Python version or platform
        patch_item(target, attr, getattr(source, attr))

    if _call_hooks:
        did = getattr(source, "_gevent_did_monkey_patch", None)
        if did is not None:
            did(target, items, warn, **kwargs)
    if _notify_did_subscribers:
        _notify(GeventDidPatchModuleEvent(target.__name__, source, target))
    return True


def _patch_module(name: str, items: list[str] | None = None, _warnings: list[str] | None = None,
                  _patch_kwargs: dict | None = None) -> bool:
    source = importlib.import_module(f"gevent.{name}")
    target = getattr(source, "__target__", name)
    return patch_module(target, source, items=items, _warnings=_warnings,
                        _patch_kwargs=_patch_kwargs)


def _warn_direct_importers(target_name: str, originals: dict[str, Any],
                           what: str, _warnings: list[str] | None) -> None:
    from ._early import direct_importers

    importers = direct_importers(target_name, originals)
    if importers:
        queue_warning(
            f"Monkey-patching {target_name} after these modules imported names from it "
            f"directly; they keep the originals (NOT patched): {importers}. {what} "
            "Patch before importing them (first thing in the main module, or "
            "python -m gevent.monkey).",
            _warnings,
        )


def _originals(module_name: str, names: list[str]) -> dict[str, Any]:
    module = _sys.modules.get(module_name)
    if module is None:
        return {}
    return {name: module.__dict__[name] for name in names if name in module.__dict__}


# -- the individual patches -------------------------------------------------------------------


def patch_os() -> bool:
    """Make ``os.fork`` reset gevent in the child and ``os.waitpid`` cooperative (gevent.os)."""
    return _patch_module("os")


def patch_queue() -> bool:
    """Replace ``queue.Queue``, ``LifoQueue``, ``PriorityQueue`` and ``SimpleQueue``."""
    return _patch_module("queue")


def patch_time() -> bool:
    """Replace ``time.sleep`` with :func:`gevent.sleep`."""
    return _patch_module("time")


def patch_contextvars() -> bool:
    """Greenlets already run in their own contexts; this installs gevent.contextvars' names."""
    return _patch_module("contextvars")


def patch_thread(threading: bool = True, _threading_local: bool = True, Event: bool = True,
                 logging: bool = True, existing_locks: bool = True,
                 _warnings: list[str] | None = None) -> bool:
    """Make threads greenlets: the green ``_thread`` under the standard ``threading``.

    *threading*: rebind the ``_thread`` functions ``threading`` copied at import (and its
    ``local`` and ``_DummyThread``). *_threading_local*: ``_threading_local.local`` becomes
    :class:`gevent.local.local`. *Event*: ``threading.Event`` becomes
    :class:`gevent.event.Event`. *logging*: the module lock of :mod:`logging` and the locks of
    existing handlers become green. *existing_locks*: accepted for compatibility; locks made
    before patching keep working because the main greenlet keeps the main thread's ident.
    """
    from ._threads import patch_thread_modules

    _prime()
    return patch_thread_modules(patch_module, threading, _threading_local, Event, logging,
                                existing_locks, _warnings)


def patch_socket(dns: bool = True, aggressive: bool = True,
                 _warnings: list[str] | None = None) -> bool:
    """Replace ``socket.socket`` and friends with gevent.socket's.

    With ``dns=False`` the name-resolution functions are left alone. *aggressive* is accepted
    for compatibility (nothing blocking is left to remove on Python 3).
    """
    from gevent import socket as gsocket

    dns_names = list(getattr(gsocket, "__dns__", _DNS_NAMES))
    items = list(gsocket.__implements__)
    if not dns:
        items = [name for name in items if name not in dns_names]
    originals = _originals("socket", items)
    patched = _patch_module("socket", items=items, _warnings=_warnings)
    if patched:
        _warn_direct_importers(
            "socket", originals,
            "Sockets they create block the whole thread instead of one greenlet.", _warnings)
    return patched


def patch_dns() -> bool:
    """Replace only the name-resolution functions of :mod:`socket`."""
    from gevent import socket as gsocket

    return _patch_module("socket", items=list(getattr(gsocket, "__dns__", _DNS_NAMES)))


def patch_ssl(_warnings: list[str] | None = None, _first_time: bool = True) -> bool:
    """Replace ``ssl.SSLContext`` and friends with gevent.ssl's.

    Safe whatever was imported or created before (contexts made earlier keep working); modules
    that imported ssl's classes directly are named in a warning since they keep the blocking ones.
    """
    from gevent import ssl as gssl

    originals = _originals("ssl", list(gssl.__implements__))
    patched = _patch_module("ssl", _warnings=_warnings)
    if patched and _first_time:
        _warn_direct_importers(
            "ssl", originals,
            "SSL sockets they create block the whole thread instead of one greenlet.",
            _warnings)
    return patched


def patch_select(aggressive: bool = True) -> bool:
    """Replace ``select.select`` and ``select.poll``; then patch :mod:`selectors`.

    *aggressive* also removes what cannot be made cooperative (``select.epoll``,
    ``kqueue``, ``kevent``, ``devpoll``), so libraries fall back to what can.
    """
    from gevent import select as gselect

    patched = _patch_module("select", _patch_kwargs={"aggressive": aggressive})
    if patched and aggressive:
        import select

        for name in ("epoll", "kqueue", "kevent", "devpoll"):
            if name not in gselect.__implements__:
                remove_item(select, name)
    patch_selectors(aggressive=aggressive)
    return patched


def patch_selectors(aggressive: bool = True) -> bool:
    """Make ``selectors.DefaultSelector`` gevent's; *aggressive* removes the epoll, kqueue and
    devpoll selectors, which would block."""
    from gevent import selectors as gselectors

    patched = _patch_module("selectors", _patch_kwargs={"aggressive": aggressive})
    if patched and aggressive:
        import selectors

        for name in ("EpollSelector", "KqueueSelector", "DevpollSelector"):
            if name not in gselectors.__implements__:
                remove_item(selectors, name)
    return patched


def patch_subprocess() -> bool:
    """Replace ``subprocess.Popen`` and the functions built on it."""
    return _patch_module("subprocess")


def patch_builtins() -> bool:
    """Patch :mod:`builtins` with what gevent.builtins implements (nothing on Python 3)."""
    return _patch_module("builtins")


def patch_signal() -> bool:
    """Replace ``signal.signal`` so handlers cooperate with gevent's child watching."""
    return _patch_module("signal")


def patch_sys(stdin: bool = True, stdout: bool = True, stderr: bool = True) -> None:
    """Wrap ``sys.stdin``/``stdout``/``stderr`` in thread-pool file objects (experimental).

    Not done by ``patch_all()`` unless ``sys=True``: reading a terminal in a thread pool has
    surprising effects on interactive programs.
    """
    from gevent.fileobject import FileObjectThread

    _prime()
    for name, wanted in (("stdin", stdin), ("stdout", stdout), ("stderr", stderr)):
        if not wanted:
            continue
        stream = getattr(_sys, name)
        if stream is not None and not isinstance(stream, FileObjectThread):
            patch_item(_sys, name, FileObjectThread(stream))


from ._asyncio import patch_asyncio  # noqa: E402  (issue 12: gevent.asyncio)

# -- patch_all ---------------------------------------------------------------------------------

_patch_all_arguments: dict | None = None


def _check_repatching(arguments: dict, kwargs: dict,
                      _warnings: list[str]) -> tuple[bool, bool]:
    """(first_time, proceed)."""
    global _patch_all_arguments
    current = dict(arguments, **kwargs)
    previous = _patch_all_arguments
    if previous is None:
        _patch_all_arguments = current
        return True, True
    if previous == current:
        return False, False
    queue_warning(
        "Patching more than once will result in the union of all True parameters being "
        f"patched (previously {previous}, now {current}).",
        _warnings,
    )
    _patch_all_arguments = current
    return False, True


def patch_all(socket: bool = True, dns: bool = True, time: bool = True, select: bool = True,
              thread: bool = True, os: bool = True, ssl: bool = True, subprocess: bool = True,
              sys: bool = False, aggressive: bool = True, Event: bool = True,
              builtins: bool = True, signal: bool = True, queue: bool = True,
              contextvars: bool = True, asyncio: bool = True, **kwargs: Any) -> bool | None:
    """Patch every module gevent can make cooperative (each keyword turns one off).

    Call it first, before other imports. Calling it again with the same arguments does
    nothing. Returns False if a ``GeventWillPatchAllEvent`` subscriber raised ``DoNotPatch``.
    """
    from gevent import events

    arguments = dict(socket=socket, dns=dns, time=time, select=select, thread=thread, os=os,
                     ssl=ssl, subprocess=subprocess, sys=sys, aggressive=aggressive,
                     Event=Event, builtins=builtins, signal=signal, queue=queue,
                     contextvars=contextvars, asyncio=asyncio)
    pending: list[str] = []
    first_time, proceed = _check_repatching(arguments, kwargs, pending)
    if not proceed:
        return None
    _prime()
    try:
        _notify(events.GeventWillPatchAllEvent(arguments, kwargs))
    except events.DoNotPatch:
        return False

    if os:
        patch_os()
    if thread:
        patch_thread(Event=Event, _warnings=pending)
    if time:
        patch_time()
    if sys:
        patch_sys()
    if socket:
        patch_socket(dns=dns, aggressive=aggressive, _warnings=pending)
    if select:
        patch_select(aggressive=aggressive)
    if ssl:
        patch_ssl(_warnings=pending, _first_time=first_time)
    if subprocess:
        patch_subprocess()
    if builtins:
        patch_builtins()
    if signal:
        patch_signal()
    if queue:
        patch_queue()
    if contextvars:
        patch_contextvars()
    if asyncio:
        patch_asyncio()

    _notify(events.GeventDidPatchBuiltinModulesEvent(arguments, kwargs))
    _notify(events.GeventDidPatchAllEvent(arguments, kwargs))
    process_warnings(pending)
    return True


def main() -> None:
    """``python -m gevent.monkey [options] [--module] script_or_module args...``"""
    from ._main import main as _main

    _main()
