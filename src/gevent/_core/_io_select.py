# Theory of operation: the select(2) readiness backend.
#
# The portable last resort. It keeps its own fd -> mask table and rebuilds the three lists for each
# call; an fd that select rejects (closed behind our back) is reported ready so that its waiter
# wakes and finds the error itself, rather than the whole loop failing.

import os
import select

from ._io_common import READ, WRITE

__all__ = ["SelectBackend"]

# Bound at import: monkey patching replaces select.select with the cooperative one.
_select = select.select


class SelectBackend:
    name = "select"
    # poll() already returns READ|WRITE bits: the loop's translation is the identity.
    events_mask = 3
    events_table = (0, 1, 2, 3)

    def __init__(self) -> None:
        self._masks: dict[int, int] = {}

    def fileno(self) -> int:
        return -1

    def register(self, fd: int, mask: int) -> None:
        self._masks[fd] = mask

    modify = register

    def unregister(self, fd: int) -> None:
        self._masks.pop(fd, None)

    def poll_now(self) -> list:
        """What is ready now; never waits."""
        return self.poll(0.0)

    def poll(self, timeout: float) -> list:
        masks = self._masks
        readers = [fd for fd, m in masks.items() if m & READ]
        writers = [fd for fd, m in masks.items() if m & WRITE]
        wait = None if timeout < 0 else timeout
        if not readers and not writers:
            if wait is None:
                raise RuntimeError("select backend asked to wait forever on nothing")
            _select([], [], [], wait)
            return []
        try:
            r, w, x = _select(readers, writers, readers, wait)
        except (OSError, ValueError):
            return self._find_bad_fds()
        ready: dict[int, int] = {}
        for fd in r:
            ready[fd] = READ
        for fd in x:
            ready[fd] = ready.get(fd, 0) | READ
        for fd in w:
            ready[fd] = ready.get(fd, 0) | WRITE
        return list(ready.items())

    def _find_bad_fds(self) -> list:
        bad = []
        for fd, mask in list(self._masks.items()):
            try:
                os.fstat(fd)
            except OSError:
                bad.append((fd, mask))
        return bad

    def close(self) -> None:
        self._masks.clear()
