"""signal_handler: call a function in a new greenlet whenever a signal arrives.

Re-exported by :mod:`gevent.hub` (also as ``gevent.hub.signal``) and :mod:`gevent`, where users
import it.
"""

from __future__ import annotations

import sys

from .hub import get_hub


class signal_handler:
    """Call ``handler(*args, **kwargs)`` in a new greenlet when *signalnum* arrives.

    ``cancel()`` stops it. The watcher does not keep the loop running unless ``ref=True``.
    An exception from *handler* is reported and then raised in the main greenlet, as an
    exception from a standard signal handler interrupts the main thread (and as in gevent).
    """

    greenlet_class = None

    def __init__(self, signalnum: int, handler, *args, **kwargs) -> None:
        if not callable(handler):
            raise TypeError("signal handler must be callable.")
        self.hub = get_hub()
        ref = kwargs.pop("ref", False)
        self.watcher = self.hub.loop.signal(signalnum, ref=ref)
        self.handler = handler
        self.args = args
        self.kwargs = kwargs
        self.watcher.start(self._start)

    @property
    def ref(self) -> bool:
        return self.watcher.ref

    @ref.setter
    def ref(self, value: bool) -> None:
        self.watcher.ref = value

    def cancel(self) -> None:
        self.watcher.stop()
        self.hub = None

    def _start(self) -> None:
        cls = self.greenlet_class
        if cls is None:
            from .greenlet import Greenlet

            cls = Greenlet
        try:
            glet = cls(self.handle)
            glet.start()
        except BaseException:
            self.hub.handle_error(self, *sys.exc_info())

    def handle(self) -> None:
        try:
            self.handler(*self.args, **self.kwargs)
        except BaseException:
            # No context: the error path raises it in the main greenlet once reported.
            get_hub().handle_error(None, *sys.exc_info())


# Users meet it as gevent.hub's (reprs, pickling, introspection).
signal_handler.__module__ = "gevent.hub"
