"""gevent: coroutine-based concurrency and networking on greenlets, in pure Python.

Importing gevent creates no hub, thread or patch: everything starts on first use.
"""

from __future__ import annotations

from greenlet import GreenletExit, getcurrent

from ._config import config
from ._waiting import iwait, wait
from .greenlet import Greenlet, joinall, killall
from .hub import get_hub, idle, kill, reinit, signal_handler, sleep, spawn_raw
from .timeout import Timeout, with_timeout

__version__ = "26.11.0"
version_info = (26, 11, 0, "final", 0)

__all__ = [
    "Greenlet",
    "GreenletExit",
    "Timeout",
    "config",
    "fork",
    "get_hub",
    "getcurrent",
    "getswitchinterval",
    "idle",
    "iwait",
    "joinall",
    "kill",
    "killall",
    "reinit",
    "setswitchinterval",
    "signal_handler",
    "sleep",
    "spawn",
    "spawn_later",
    "spawn_raw",
    "wait",
    "with_timeout",
]

spawn = Greenlet.spawn
spawn_later = Greenlet.spawn_later


def getswitchinterval() -> float:
    """The interval gevent's monitor and CPython use to switch threads (``sys``'s)."""
    import sys

    return sys.getswitchinterval()


def setswitchinterval(interval: float) -> None:
    import sys

    sys.setswitchinterval(interval)


def fork(*args, **kwargs):
    """``os.fork()`` that leaves the child with a fresh hub and loop (see gevent.os.fork)."""
    from .os import fork as _fork

    return _fork(*args, **kwargs)
