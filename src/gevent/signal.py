"""Cooperative special cases of :func:`signal.signal`, and the rest of :mod:`signal` unchanged.

:func:`signal` and :func:`getsignal` behave exactly as the standard ones, except for
``SIGCHLD``: a handler installed for it here runs in a new greenlet when the signal arrives
(like :class:`gevent.signal_handler`), called as ``handler(signum, None)``, instead of
interrupting whatever greenlet happens to be running. ``SIG_IGN`` and ``SIG_DFL`` go straight to
the process. Child processes are watched with pidfds, not ``SIGCHLD``, so a handler installed
either way never disturbs :mod:`gevent.subprocess` or :func:`gevent.os.waitpid` (but note that
ignoring ``SIGCHLD`` makes the kernel discard exit statuses: they read as 0).

For any signal, :class:`gevent.signal_handler` runs a function in a greenlet.
"""

from __future__ import annotations

import signal as _signal
from signal import *  # noqa: F401,F403  (this module stands in for signal)
from typing import Any

__implements__ = ["signal", "getsignal", "set_wakeup_fd"]
__extensions__: list[str] = []
#: Names this module re-exports from :mod:`signal` unchanged.
__imports__ = [name for name in dir(_signal)
               if not name.startswith("_") and name not in __implements__]
__all__ = list(__implements__)

# The real functions, bound before monkey patching can replace them.
_real_signal = _signal.signal
_real_getsignal = _signal.getsignal
_real_set_wakeup_fd = _signal.set_wakeup_fd
_SIGCHLD = getattr(_signal, "SIGCHLD", None)

#: The SIGCHLD handler installed through signal(), and the watcher that runs it.
_child_handler: Any = None
_child_watcher = None


# These three replace the names star-imported from signal (mypy keeps the stdlib's types).
def getsignal(signalnum: int) -> Any:  # type: ignore[no-redef]
    """:func:`signal.getsignal`; for ``SIGCHLD``, what :func:`signal` installed."""
    if _SIGCHLD is not None and signalnum == _SIGCHLD and _child_handler is not None:
        return _child_handler
    return _real_getsignal(signalnum)


def signal(signalnum: int, handler: Any) -> Any:  # type: ignore[no-redef]
    """:func:`signal.signal`; a ``SIGCHLD`` handler runs in a new greenlet (see the module).

    Returns the previous handler. Only the main thread may install handlers.
    """
    global _child_handler, _child_watcher
    if _SIGCHLD is None or signalnum != _SIGCHLD:
        return _real_signal(signalnum, handler)
    previous = getsignal(signalnum)
    if handler in (_signal.SIG_IGN, _signal.SIG_DFL):
        _stop_child_watcher()
        _real_signal(signalnum, handler)
        return previous
    if not callable(handler):
        raise TypeError("signal handler must be signal.SIG_IGN, signal.SIG_DFL, or a callable "
                        "object")
    if _child_watcher is None:
        from .hub import signal_handler

        # Outside the main thread this raises ValueError as signal.signal does, before any
        # hub is created for the calling thread.
        current = _real_getsignal(signalnum)
        if current is not None:
            _real_signal(signalnum, current)

        # Raises ValueError outside the main thread, as signal.signal does.
        _child_watcher = signal_handler(signalnum, _run_child_handler)
    _child_handler = handler
    return previous


def _stop_child_watcher() -> None:
    global _child_handler, _child_watcher
    watcher = _child_watcher
    _child_watcher = None
    _child_handler = None
    if watcher is not None:
        watcher.cancel()


def _run_child_handler() -> None:
    handler = _child_handler
    if callable(handler) and _SIGCHLD is not None:  # only installed where SIGCHLD exists
        handler(int(_SIGCHLD), None)


def set_wakeup_fd(fd: int, /, *, warn_on_full_buffer: bool = True) -> int:  # type: ignore[no-redef]
    """:func:`signal.set_wakeup_fd`, unchanged (gevent's loop does not use it)."""
    return _real_set_wakeup_fd(fd, warn_on_full_buffer=warn_on_full_buffer)
