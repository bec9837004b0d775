# Theory of operation: gevent's microkernel.
#
# ``Loop`` (``_loop.py``) runs ready callbacks, timers and fd readiness on one backend
# (``_io_*.py``); ``_watchers.py`` is the public libev-style watcher API on top of it. This
# package imports nothing from the rest of gevent, so the layers above can be reasoned about
# (and tested) against it alone.

from ._io_common import BACKENDS, READ, WRITE, available_backends
from ._loop import Callback, Loop
from ._watchers import GEVENT_CORE_EVENTS

__all__ = ["Loop", "Callback", "READ", "WRITE", "BACKENDS", "available_backends",
           "GEVENT_CORE_EVENTS"]
