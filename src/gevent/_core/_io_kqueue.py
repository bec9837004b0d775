# Theory of operation: the kqueue readiness backend (BSD, macOS).
#
# kqueue keeps one filter per direction, so a mask change becomes add/delete changes for
# EVFILT_READ and EVFILT_WRITE. Level-triggered (no EV_CLEAR) to match the other backends.

import select

from ._io_common import READ, WRITE

__all__ = ["KqueueBackend"]

# Bound at import: monkey patching may remove select.kqueue later.
_kqueue = getattr(select, "kqueue", None)


class KqueueBackend:
    name = "kqueue"
    # poll() already returns READ|WRITE bits: the loop's translation is the identity.
    events_mask = 3
    events_table = (0, 1, 2, 3)

    def __init__(self) -> None:
        self._kq = _kqueue()  # type: ignore[misc]
        self._masks: dict[int, int] = {}

    def fileno(self) -> int:
        return self._kq.fileno()

    def _apply(self, fd: int, old: int, new: int) -> None:
        kevent = select.kevent  # type: ignore[attr-defined]
        changes = []
        filters = ((READ, select.KQ_FILTER_READ), (WRITE, select.KQ_FILTER_WRITE))  # type: ignore[attr-defined]
        for bit, flt in filters:
            if new & bit and not old & bit:
                changes.append(kevent(fd, flt, select.KQ_EV_ADD))  # type: ignore[attr-defined]
            elif old & bit and not new & bit:
                changes.append(kevent(fd, flt, select.KQ_EV_DELETE))  # type: ignore[attr-defined]
        if changes:
            try:
                self._kq.control(changes, 0, 0)
            except OSError:
                # A delete for an fd the kernel already dropped (closed): the goal is reached.
                if new:
                    raise

    def register(self, fd: int, mask: int) -> None:
        self._apply(fd, self._masks.get(fd, 0), mask)
        self._masks[fd] = mask

    modify = register

    def unregister(self, fd: int) -> None:
        old = self._masks.pop(fd, 0)
        self._apply(fd, old, 0)

    def poll_now(self) -> list:
        """What is ready now; never waits."""
        return self.poll(0.0)

    def poll(self, timeout: float) -> list:
        wait = None if timeout < 0 else timeout
        events = self._kq.control(None, max(len(self._masks) * 2, 1), wait)
        ready: dict[int, int] = {}
        for ev in events:
            bit = READ if ev.filter == select.KQ_FILTER_READ else WRITE  # type: ignore[attr-defined]
            ready[ev.ident] = ready.get(ev.ident, 0) | bit
        return list(ready.items())

    def close(self) -> None:
        self._kq.close()
        self._masks.clear()
