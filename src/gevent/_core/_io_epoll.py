# Theory of operation: the epoll readiness backend (Linux).
#
# A thin, level-triggered wrapper: the loop decides which fds are registered with which mask and
# changes masks lazily; this file only translates between the loop's READ/WRITE bits and epoll's
# and makes ``modify``/``register`` forgiving about the kernel having already dropped an fd (an fd
# closed behind the loop's back disappears from the epoll set by itself).

import errno
import select
from functools import partial

from ._io_common import READ, WRITE

__all__ = ["EpollBackend"]

# Bound at import: monkey patching may remove select.epoll later.
_epoll = select.epoll
_EPOLLIN = select.EPOLLIN
_EPOLLOUT = select.EPOLLOUT
_READ_LIKE = select.EPOLLIN | select.EPOLLERR | select.EPOLLHUP | select.EPOLLPRI
_WRITE_LIKE = select.EPOLLOUT | select.EPOLLERR | select.EPOLLHUP


def _to_epoll(mask: int) -> int:
    return (_EPOLLIN if mask & READ else 0) | (_EPOLLOUT if mask & WRITE else 0)


class EpollBackend:
    name = "epoll"

    def __init__(self) -> None:
        self._epoll = _epoll()
        #: ``poll_now()`` is ``poll(0.0)`` in one C call: what is ready now, never waiting.
        self.poll_now = partial(self._epoll.poll, 0)

    def fileno(self) -> int:
        return self._epoll.fileno()

    def register(self, fd: int, mask: int) -> None:
        try:
            self._epoll.register(fd, _to_epoll(mask))
        except FileExistsError:
            self._epoll.modify(fd, _to_epoll(mask))

    def modify(self, fd: int, mask: int) -> None:
        try:
            self._epoll.modify(fd, _to_epoll(mask))
        except FileNotFoundError:
            self._epoll.register(fd, _to_epoll(mask))

    def unregister(self, fd: int) -> None:
        try:
            self._epoll.unregister(fd)
        except (FileNotFoundError, ValueError, OSError) as ex:
            # The fd was already closed or never registered: nothing to undo.
            if getattr(ex, "errno", errno.ENOENT) not in (errno.ENOENT, errno.EBADF, None):
                raise

    #: ``events_table[raw & events_mask]`` is the READ|WRITE mask of a raw epoll event: the
    #: loop translates while it dispatches, so polling builds no second list.
    events_mask = 0x1F
    events_table = tuple(
        (READ if raw & _READ_LIKE else 0) | (WRITE if raw & _WRITE_LIKE else 0)
        for raw in range(0x20)
    )

    def poll(self, timeout: float) -> list:
        """Return ``[(fd, raw epoll events), ...]``; timeout < 0 waits forever."""
        return self._epoll.poll(timeout)

    def close(self) -> None:
        self._epoll.close()
