"""gevent's version of :mod:`builtins`.

On Python 3 every builtin already cooperates as far as gevent needs: imports take per-module
locks, which the green ``_thread`` locks serve under monkey patching. So nothing is replaced and
``__implements__`` is empty; the builtins are re-exported so the module stands in for
:mod:`builtins`.
"""

from __future__ import annotations

import builtins as _builtins
from builtins import *  # noqa: F401,F403,UP029  (this module stands in for builtins)

__implements__: list[str] = []
__extensions__: list[str] = []
#: Names this module re-exports from :mod:`builtins` unchanged.
__imports__ = [name for name in dir(_builtins)
               if not name.startswith("_") and name not in __implements__]
__all__: list[str] = []
