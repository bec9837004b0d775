# Theory of operation: the poll(2) readiness backend.
#
# Level-triggered like epoll; kept for systems without epoll/kqueue and to run the loop tests
# through a second implementation. Timeouts are converted to poll's milliseconds, rounding up so a
# timer is never polled for too short a time.

import math
import select

from ._io_common import READ, WRITE

__all__ = ["PollBackend"]

# Bound at import: monkey patching replaces select.poll with the cooperative one.
_poll = select.poll
_POLLIN = select.POLLIN
_POLLOUT = select.POLLOUT
_READ_LIKE = select.POLLIN | select.POLLERR | select.POLLHUP | select.POLLPRI | select.POLLNVAL
_WRITE_LIKE = select.POLLOUT | select.POLLERR | select.POLLHUP | select.POLLNVAL


def _to_poll(mask: int) -> int:
    return (_POLLIN if mask & READ else 0) | (_POLLOUT if mask & WRITE else 0)


class PollBackend:
    name = "poll"
    # poll() already returns READ|WRITE bits: the loop's translation is the identity.
    events_mask = 3
    events_table = (0, 1, 2, 3)

    def __init__(self) -> None:
        self._poll = _poll()

    def fileno(self) -> int:
        return -1

    def register(self, fd: int, mask: int) -> None:
        self._poll.register(fd, _to_poll(mask))

    def modify(self, fd: int, mask: int) -> None:
        self._poll.register(fd, _to_poll(mask))

    def unregister(self, fd: int) -> None:
        try:
            self._poll.unregister(fd)
        except KeyError:
            pass  # never registered: nothing to undo

    def poll_now(self) -> list:
        """What is ready now; never waits."""
        return self.poll(0.0)

    def poll(self, timeout: float) -> list:
        ms = None if timeout < 0 else math.ceil(timeout * 1000)
        result = []
        for fd, ev in self._poll.poll(ms):
            result.append(
                (fd, (READ if ev & _READ_LIKE else 0) | (WRITE if ev & _WRITE_LIKE else 0))
            )
        return result

    def close(self) -> None:
        self._poll = _poll()
