"""The standard :mod:`time` module, with a cooperative :func:`sleep`.

``gevent.time.sleep(seconds)`` is :func:`gevent.sleep`: it suspends only the calling greenlet.
Everything else is :mod:`time`'s own.
"""

from __future__ import annotations

import time as _time
from time import *  # noqa: F401,F403  (this module stands in for time)

# Replaces time.sleep from the star import; mypy keeps time.sleep's (compatible) type.
from .hub import sleep  # type: ignore[assignment]

__implements__ = ["sleep"]
__extensions__: list[str] = []
#: Names this module re-exports from :mod:`time` unchanged.
__imports__ = [name for name in dir(_time)
               if not name.startswith("_") and name not in __implements__]
__all__ = ["sleep"]
