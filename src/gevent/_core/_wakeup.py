# Theory of operation: waking a loop from another thread (or a signal handler).
#
# One eventfd (else a non-blocking pipe) per loop. ``wake()`` may be called from any thread; it
# writes at most a few bytes and never blocks (a full pipe or a saturated eventfd already means
# "wake up"). The loop registers ``fileno()`` for READ and calls ``drain()`` when it fires.

import os

__all__ = ["Wakeup"]

# Bound at import: monkey patching replaces os.close with a cooperative version.
_close = os.close


class Wakeup:
    __slots__ = ("_rfd", "_wfd", "_eventfd")

    def __init__(self) -> None:
        if hasattr(os, "eventfd"):
            fd = os.eventfd(0, os.EFD_NONBLOCK | os.EFD_CLOEXEC)  # type: ignore[attr-defined]
            self._rfd = self._wfd = fd
            self._eventfd = True
        else:
            r, w = os.pipe()
            os.set_blocking(r, False)
            os.set_blocking(w, False)
            self._rfd, self._wfd = r, w
            self._eventfd = False

    def fileno(self) -> int:
        return self._rfd

    def wake(self) -> None:
        try:
            if self._eventfd:
                os.eventfd_write(self._wfd, 1)  # type: ignore[attr-defined]
            else:
                os.write(self._wfd, b"\0")
        except (BlockingIOError, OSError):
            # Full: a wake-up is already pending, which is all we wanted. Closed: the loop is gone.
            pass

    def drain(self) -> None:
        try:
            if self._eventfd:
                os.eventfd_read(self._rfd)  # type: ignore[attr-defined]
            else:
                while os.read(self._rfd, 4096):
                    pass
        except (BlockingIOError, OSError):
            pass  # nothing left to read

    def close(self) -> None:
        rfd, wfd = self._rfd, self._wfd
        self._rfd = self._wfd = -1
        for fd in {rfd, wfd}:
            if fd >= 0:
                try:
                    _close(fd)
                except OSError:
                    pass  # already closed (for instance by a fork's cleanup)

    # No __del__ here on purpose: a finalizer in a reference cycle with a greenlet of an exited
    # thread crashes the interpreter when another thread's gc frees the cycle (greenlet 3.5,
    # CPython 3.11). Loops are destroyed explicitly (Hub.destroy, and the hub's thread-exit
    # reaper for threads that never called it).
