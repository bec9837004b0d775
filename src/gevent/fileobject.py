"""Cooperative file objects.

All classes take :func:`io.open`'s arguments: ``(fobj, mode='r', buffering=-1, closefd=True,
encoding=None, errors=None, newline=None)``, where *fobj* is a file descriptor, a path or a
file-like object (``bufsize`` and ``close`` are accepted as the older names of *buffering* and
*closefd*).

- :class:`FileObjectPosix`: a non-blocking descriptor, waited on by the hub. For pipes, ttys,
  FIFOs and sockets; regular files never "would block", so they gain nothing from it.
- :class:`FileObjectThread`: every blocking call runs in the hub's thread pool. For regular
  files.
- :class:`FileObjectBlock`: no cooperation at all (testing and debugging).

:data:`FileObject` is the class named by ``gevent.config.fileobject`` (the ``GEVENT_FILE``
environment variable: ``posix``, ``thread``, ``block`` or a dotted class name), read when this
module is first imported. The default is :class:`FileObjectPosix`.
"""

from __future__ import annotations

import functools
from sys import is_finalizing as _is_finalizing
from typing import Any

from ._fileobject_common import FileObjectBase, FileObjectBlock, OpenDescriptor, _is_path
from ._fileobject_posix import FileObjectPosix
from .hub import _get_hub_noargs as get_hub

__all__ = ["FileObjectPosix", "FileObjectThread", "FileObjectBlock", "FileObject"]

# Calls that may block on the underlying file, so they go to the thread pool.
_BLOCKING_METHODS = frozenset({
    "read", "read1", "readinto", "readinto1", "readline", "readlines", "readall", "peek",
    "write", "writelines", "flush", "seek", "tell", "truncate",
})


class _NoLock:
    def __enter__(self):
        return self

    def __exit__(self, *exc_info) -> None:
        return None


class FileObjectThread(FileObjectBase):
    """A file object whose blocking calls run in a thread pool (``get_hub().threadpool`` unless
    *threadpool* is given). A switch point for each of them.

    *lock* (default True) serialises the calls with a :class:`gevent.lock.Semaphore`; pass
    False for none, or your own lock to share with other code. Changing the thread pool or the
    lock of an existing object is not supported.
    """

    def __init__(self, fobj, mode: str = "r", buffering: int = -1, closefd: bool = True,
                 encoding: str | None = None, errors: str | None = None,
                 newline: str | None = None, *, bufsize: int | None = None,
                 close: bool | None = None, atomic_write: bool = False, threadpool=None,
                 lock: Any = True) -> None:
        self.threadpool = threadpool if threadpool is not None else get_hub().threadpool
        if lock is True:
            from .lock import Semaphore

            lock = Semaphore()
        elif not lock:
            lock = _NoLock()
        self.lock = lock
        super().__init__(fobj, mode, buffering, closefd, encoding, errors, newline,
                         bufsize=bufsize, close=close, atomic_write=atomic_write)

    def _apply(self, func, args: tuple = ()):
        if _is_finalizing():
            # The interpreter flushing sys.stdout (patch_sys) on its way out: greenlets can no
            # longer switch, and nothing else runs, so the call is made here.
            return func(*args)
        with self.lock:
            return self.threadpool.apply(func, args)

    def _open(self, fobj, mode, buffering, closefd, encoding, errors, newline):
        if isinstance(fobj, int) or _is_path(fobj):
            descriptor = OpenDescriptor(fobj, mode, buffering, closefd, encoding, errors, newline,
                                        atomic_write=self._atomic_write)
            # Opening can block too (network file systems): do it in the pool.
            return self._apply(descriptor.opened)
        return fobj

    def _do_close(self, fobj, closefd: bool) -> None:
        self._apply(fobj.close if closefd else fobj.flush)

    def __getattr__(self, name: str) -> Any:
        if name == "_io":
            raise AttributeError(name)
        attr = getattr(self._io, name)
        if name in _BLOCKING_METHODS and callable(attr):
            method = functools.partial(self._call_in_pool, attr)
            # Cache on the instance: later lookups skip __getattr__.
            self.__dict__[name] = method
            return method
        return attr

    def _call_in_pool(self, method, *args, **kwargs):
        if kwargs:
            return self._apply(functools.partial(method, **kwargs), args)
        return self._apply(method, args)

    def __next__(self):
        line = self._apply(self._io.readline)
        if not line:
            raise StopIteration
        return line

    next = __next__

    def _extra_repr(self) -> str:
        return f" threadpool={self.threadpool!r}"


def _configured_class():
    from ._config import config

    return config.fileobject


FileObject = _configured_class()
