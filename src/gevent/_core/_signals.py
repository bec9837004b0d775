# Theory of operation: delivering POSIX signals to loops as callbacks.
#
# A process-wide table signum -> active signal watchers. The first watcher for a signal installs
# one Python-level handler (signal.signal, so only from the main thread) and remembers the old
# handler; the last one to stop restores it. The handler runs in the main thread between
# bytecodes, possibly while that thread's loop sleeps in poll: it queues each watcher's callback
# with ``run_callback_threadsafe``, whose wake-up write makes the poll return at once (PEP 475
# retries the poll after running the handler, and finds the wake-up fd readable).

import signal as _signal
import threading
from typing import Any

__all__ = ["check_signum", "add", "remove"]

# Bound at import (before any monkey patching): the real signal.signal, and the native thread
# ident, since a greenlet in the main thread is still "the main thread" for signal handlers.
_signal_signal = _signal.signal
_native_get_ident = threading.get_ident

_watchers: dict[int, list] = {}
_previous: dict[int, Any] = {}


def check_signum(signum: int) -> None:
    if not isinstance(signum, int) or not 0 < signum < _signal.NSIG:
        raise ValueError(f"illegal signal number: {signum!r}")


def _handler(signum, frame) -> None:
    for w in list(_watchers.get(signum, ())):
        w.loop.run_callback_threadsafe(w._fire)


def add(watcher) -> None:
    signum = watcher.signum
    watchers = _watchers.get(signum)
    if watchers is None:
        if _native_get_ident() != threading.main_thread().ident:
            raise ValueError(
                f"signal watchers for {signum} can only be started in the main thread"
            )
        _previous[signum] = _signal_signal(signum, _handler)
        watchers = _watchers[signum] = []
    watchers.append(watcher)


def remove(watcher) -> None:
    signum = watcher.signum
    watchers = _watchers.get(signum)
    if not watchers:
        return
    try:
        watchers.remove(watcher)
    except ValueError:
        return
    if not watchers:
        del _watchers[signum]
        previous = _previous.pop(signum, _signal.SIG_DFL)
        try:
            _signal_signal(signum, previous if previous is not None else _signal.SIG_DFL)
        except ValueError:
            pass  # not in the main thread any more (interpreter shutdown): nothing to restore
