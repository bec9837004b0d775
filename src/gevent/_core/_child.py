# Theory of operation: watching one child process.
#
# With a pidfd (Linux >= 5.3) the child's exit makes an fd readable: no SIGCHLD handler, no
# waitpid(-1), so children that other code started are never reaped behind its back. Without
# pidfds we poll ``waitpid(pid, WNOHANG)`` for the watched pid alone on a short timer.
# Either way the status is reaped for *that pid only* and recorded in ``reaped`` so that a later
# cooperative ``waitpid(pid)`` (gevent.os) can still return it.

import os

from ._io_common import READ

__all__ = ["ChildWatch", "reaped", "POLL_INTERVAL"]

# Bound at import: monkey patching replaces os.waitpid and os.close with cooperative versions.
_waitpid = os.waitpid
_close = os.close

#: pid -> raw wait status of children reaped by a watcher and not yet collected.
reaped: dict[int, int] = {}

POLL_INTERVAL = 0.02


class ChildWatch:
    def __init__(self, loop, pid: int, on_exit) -> None:
        self.loop = loop
        self.pid = pid
        self.on_exit = on_exit
        self._pidfd = -1
        self._io = None
        self._timer = None
        if pid in reaped:
            loop.run_callback(self._report, pid, reaped[pid])
            return
        if pid > 0 and hasattr(os, "pidfd_open"):
            try:
                self._pidfd = os.pidfd_open(pid)
            except OSError:
                self._pidfd = -1
        if self._pidfd >= 0:
            from ._watchers import io

            self._io = io(loop, self._pidfd, READ, ref=False)
            self._io.start(self._check)
        else:
            from ._watchers import timer

            self._timer = timer(loop, POLL_INTERVAL, POLL_INTERVAL, ref=False)
            self._timer.start(self._check)
        # Catch an exit that happened before we started watching.
        loop.run_callback(self._check)

    def _check(self) -> None:
        if self.on_exit is None:
            return
        try:
            rpid, status = _waitpid(self.pid, os.WNOHANG)
        except ChildProcessError:
            # Already reaped elsewhere (or not our child): report what we know.
            status = reaped.get(self.pid, 0)
            self._report(self.pid if self.pid > 0 else 0, status)
            return
        if rpid == 0:
            return
        reaped[rpid] = status
        self._report(rpid, status)

    def _report(self, rpid: int, status: int) -> None:
        on_exit = self.on_exit
        self.close()
        if on_exit is not None:
            on_exit(rpid, status)

    def close(self) -> None:
        self.on_exit = None
        if self._io is not None:
            self._io.stop()
            self._io = None
            self.loop.closing_fd(self._pidfd)
        if self._pidfd >= 0:
            _close(self._pidfd)
            self._pidfd = -1
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
