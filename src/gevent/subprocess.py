"""Cooperative :mod:`subprocess`: the standard interface, where waiting is a switch point.

:class:`Popen` takes every argument the running Python's ``subprocess.Popen`` takes (plus
gevent's *threadpool*, ignored on POSIX). It is the standard library class with the waiting
done differently:

- the pipes to the child are ordinary :mod:`io` objects (``BufferedReader``, ``TextIOWrapper``
  ...) over non-blocking descriptors, so reading and writing them are switch points;
- ``wait()``, ``communicate()`` and everything built on them (``run``, ``call``,
  ``check_output``...) wait on the loop's child watcher (a pidfd where the kernel has them:
  no SIGCHLD handler, and no other code's children are ever reaped);
- ``communicate()`` feeds and drains the pipes in greenlets; after a ``TimeoutExpired`` a
  later call picks up where the first left off, as the standard one does.

So ten ``sleep 0.5`` children started from ten greenlets finish together, in about 0.5 s.
Starting the child (fork/exec) is the standard library's code and takes the usual few
milliseconds without switching.
"""

from __future__ import annotations

import _posixsubprocess
import errno as _errno
import os as _os
import subprocess as __subprocess__
import weakref as _weakref
from subprocess import (  # noqa: F401  (re-exported unchanged)
    DEVNULL,
    PIPE,
    STDOUT,
    CalledProcessError,
    CompletedProcess,
    SubprocessError,
    TimeoutExpired,
    list2cmdline,
)
from time import monotonic as _monotonic
from time import sleep as _native_sleep
from typing import TYPE_CHECKING, Any

from ._core import _child
from ._fileobject_posix import open_descriptor as _open_descriptor
from ._linkable import AbstractLinkable as _AbstractLinkable
from .greenlet import Greenlet as _Greenlet
from .greenlet import joinall as _joinall
from .greenlet import killall as _killall
from .hub import _get_hub_noargs as _get_hub
from .hub import get_hub_if_exists as _get_hub_if_exists
from .hub import sleep as _sleep
from .os import _forget_child as _forget_os_child

__implements__ = [
    "Popen",
    "call",
    "check_call",
    "check_output",
    "run",
    "getoutput",
    "getstatusoutput",
]
__extensions__: list[str] = []
#: Names this module re-exports from :mod:`subprocess` unchanged.
__imports__ = [
    "PIPE",
    "STDOUT",
    "DEVNULL",
    "CalledProcessError",
    "SubprocessError",
    "TimeoutExpired",
    "CompletedProcess",
    "list2cmdline",
]
# The standard library's process-creation internals, under the names gevent exposes them by.
# Our Popen runs the standard _execute_child, so nothing here is replaced: posix_spawn is used
# where the standard library would use it.
_fork_exec = getattr(__subprocess__, "_fork_exec", _posixsubprocess.fork_exec)
_USE_POSIX_SPAWN = __subprocess__._USE_POSIX_SPAWN
_use_posix_spawn = __subprocess__._use_posix_spawn  # type: ignore[attr-defined]  # private, not in typeshed
__imports__ += [name for name in ("_posixsubprocess", "_fork_exec", "_USE_POSIX_SPAWN",
                                  "_use_posix_spawn") if hasattr(__subprocess__, name)]
__all__ = __implements__ + __imports__ + [
    name for name in ("_posixsubprocess", "_fork_exec") if name not in __imports__]

# The real calls, bound before monkey patching can swap the os module's attributes.
_waitpid = _os.waitpid
_WNOHANG = _os.WNOHANG
_reaped = _child.reaped

# Popen as the standard library defines it, even if this module is imported after patching.
if TYPE_CHECKING:
    from subprocess import Popen as _StdPopen
else:
    _StdPopen = next(cls for cls in __subprocess__.Popen.__mro__
                     if cls.__module__ == "subprocess")

#: How much one read in communicate() asks for.
_CHUNK = 32768


def _exitcode(status: int) -> int:
    if _os.WIFSTOPPED(status):
        return -_os.WSTOPSIG(status)
    return _os.waitstatus_to_exitcode(status)


class _ProcessExit(_AbstractLinkable):
    """Ready once the process's exit status is known."""

    __slots__ = ("done",)

    def __init__(self) -> None:
        super().__init__()
        self.done = False

    def ready(self) -> bool:
        return self.done


#: How long the status of a reaped child stays in the shared table for os.waitpid().
_STATUS_TTL = 60.0


def _on_child_exit(popen_ref, watcher) -> None:
    # The watcher reaped the child. As in gevent, returncode is set now (a program may watch
    # the attribute without calling poll()); for a while the status also sits in the shared
    # table, so code that calls os.waitpid(popen.pid) itself still gets it.
    pid, status = watcher.pid, watcher.rstatus
    _reaped[pid] = status
    watcher.loop._timers.add(_monotonic() + _STATUS_TTL, _expire_status, (pid, status), False)
    popen = popen_ref()
    if popen is not None:
        popen._watcher = None
        popen._exit_status = status
        if popen.returncode is None:
            popen.returncode = _exitcode(status)
        popen._exit.done = True
        popen._exit._check_and_notify()
    # else: the Popen was collected while the child ran; the standard library's _cleanup()
    # finds the status in the table through _internal_poll.


def _expire_status(pid: int, status: int) -> None:
    if _reaped.get(pid) == status:
        del _reaped[pid]


class Popen(_StdPopen):
    """Execute a child program in a new process; see :class:`subprocess.Popen`.

    The pipes (``stdin``, ``stdout``, ``stderr``) cooperate, and so do :meth:`wait` and
    :meth:`communicate`. *threadpool* is accepted for gevent compatibility and unused here.
    """

    # Set by the standard library's Popen.__init__; typeshed does not declare them.
    text_mode: bool
    encoding: str | None
    errors: str | None
    _child_created: bool

    def __init__(self, args, bufsize: int = -1, executable=None, stdin=None, stdout=None,
                 stderr=None, preexec_fn=None, close_fds: bool = True, shell: bool = False,
                 cwd=None, env=None, universal_newlines=None, startupinfo=None,
                 creationflags: int = 0, restore_signals: bool = True,
                 start_new_session: bool = False, pass_fds=(), *, user=None, group=None,
                 extra_groups=None, encoding=None, errors=None, text=None, umask: int = -1,
                 pipesize: int = -1, process_group=None, threadpool=None) -> None:
        hub = _get_hub()
        self._hub = hub
        self._watcher = None
        self._exit_status: int | None = None
        self._exit = _ProcessExit()
        self._communicating_greenlets: list | None = None
        self._communication_errors: list = []
        self._stdout_chunks: list | None = None
        self._stderr_chunks: list | None = None
        # We make the pipes, so that our ends are cooperative: the standard library sees
        # plain descriptors for the child's ends.
        made: list[int] = []
        child_in, child_out, child_err = stdin, stdout, stderr
        parent_in = parent_out = parent_err = -1
        extra: dict[str, Any] = {}
        if process_group is not None:
            extra["process_group"] = process_group
        try:
            for given in (stdin, stdout, stderr):
                _hand_over_blocking(given)
            if _is_pipe(stdin):
                child_in, parent_in = _os.pipe()
                made += (child_in, parent_in)
            if _is_pipe(stdout):
                parent_out, child_out = _os.pipe()
                made += (parent_out, child_out)
            if _is_pipe(stderr):
                parent_err, child_err = _os.pipe()
                made += (parent_err, child_err)
            if isinstance(pipesize, int) and pipesize > 0:
                _set_pipe_sizes(pipesize, parent_in, child_out, child_err, made)
            # Our ends become file objects just before the child starts (as the standard
            # library orders it: subclasses of _execute_child may look at them).
            self._made_fds = made
            self._pending_pipes: tuple[int, int, int, int] | None = (
                bufsize, parent_in, parent_out, parent_err)
            super().__init__(
                args, bufsize, executable, child_in, child_out, child_err, preexec_fn,
                close_fds, shell, cwd, env, universal_newlines, startupinfo, creationflags,
                restore_signals, start_new_session, pass_fds, user=user, group=group,
                extra_groups=extra_groups, encoding=encoding, errors=errors, text=text,
                umask=umask, pipesize=pipesize, **extra)
        except BaseException:
            for fd in made:
                try:
                    _os.close(fd)
                except OSError:
                    pass  # already closed by the failed start
            raise
        for fd in (child_in, child_out, child_err):
            if fd in made:
                _os.close(fd)
        if self._pending_pipes is not None:  # _execute_child was replaced (tests do that)
            self._wrap_pipes(*self._pending_pipes)
        self._start_watching(hub)

    def _execute_child(self, *args, **kwargs):
        pending = self._pending_pipes
        if pending is not None:
            self._wrap_pipes(*pending)
        return super()._execute_child(*args, **kwargs)

    def _wrap_pipes(self, bufsize, parent_in: int, parent_out: int, parent_err: int) -> None:
        self._pending_pipes = None
        text = bool(self.text_mode)
        encoding = self.encoding if text else None
        errors = self.errors if text else None
        line_buffering = False
        if bufsize is None:
            bufsize = -1
        if text and bufsize == 1:
            # Text streams do the line buffering; the binary layer gets the default size.
            line_buffering = True
            bufsize = -1
        made = self._made_fds
        for fd in (parent_in, parent_out, parent_err):
            if fd in made:
                made.remove(fd)  # owned by its file object from here on
        if parent_in != -1:
            self.stdin = _open_descriptor(parent_in, "w" if text else "wb", bufsize,
                                          encoding=encoding, errors=errors,
                                          line_buffering=line_buffering, write_through=True)
        if parent_out != -1:
            self.stdout = _open_descriptor(parent_out, "r" if text else "rb", bufsize,
                                           encoding=encoding, errors=errors)
        if parent_err != -1:
            self.stderr = _open_descriptor(parent_err, "r" if text else "rb", bufsize,
                                           encoding=encoding, errors=errors)

    def _start_watching(self, hub) -> None:
        if self.returncode is not None or not self._child_created:
            self._exit.done = True
            return
        # A status recorded under this pid belongs to an earlier process that had the number.
        _reaped.pop(self.pid, None)
        # Under monkey patching the standard _execute_child may have started the child with
        # gevent.os.posix_spawn, which watches it too: one watcher is enough.
        _forget_os_child(self.pid)
        watcher = self._watcher = hub.loop.child(self.pid)
        # A weak reference: a running child must not keep its Popen alive (the standard
        # library's __del__ / _cleanup() bookkeeping relies on collecting it).
        watcher.start(_on_child_exit, _weakref.ref(self), watcher)

    # -- exit status ----------------------------------------------------------------------

    def _record_status(self, status: int) -> None:
        if self.returncode is None:
            self.returncode = _exitcode(status)
        self._exit.done = True
        self._exit._check_and_notify()

    def _internal_poll(self, _deadstate=None, _waitpid=_waitpid, _WNOHANG=_WNOHANG,
                       _ECHILD=_errno.ECHILD, _reaped=_reaped):
        # Called by poll(), send_signal(), __del__ and the standard library's _cleanup():
        # never switches, and uses only its arguments (it may run at interpreter shutdown).
        status = self._exit_status
        if self.returncode is not None:
            # Set by the watcher (or an earlier poll): the status is ours now, as if we had
            # reaped it, so a later os.waitpid() gets ECHILD.
            if status is not None and _reaped.get(self.pid) == status:
                del _reaped[self.pid]
            return self.returncode
        if status is not None:
            # Ours now, as if we had reaped it: a later os.waitpid() gets ECHILD.
            if _reaped.get(self.pid) == status:
                del _reaped[self.pid]
        else:
            status = _reaped.pop(self.pid, None)  # reaped by a watcher nobody reported to
        if status is None:
            if not self._waitpid_lock.acquire(False):
                return None  # another thread is in waitpid for this child
            try:
                if self.returncode is not None:
                    return self.returncode
                try:
                    rpid, status = _waitpid(self.pid, _WNOHANG)
                except OSError as exc:
                    status = self._status_reaped_elsewhere(_reaped)
                    if status is None:
                        if _deadstate is not None:
                            self.returncode = _deadstate
                        elif exc.errno == _ECHILD:
                            # SIGCHLD ignored, or someone else reaped it: the status is lost.
                            self.returncode = 0
                        else:
                            return None
                        self._forget_watcher(None)
                        self._exit.done = True
                        self._exit._check_and_notify()
                        return self.returncode
                else:
                    if rpid == 0:
                        return None
                    self._forget_watcher(status)
            finally:
                self._waitpid_lock.release()
        self._record_status(status)
        return self.returncode

    def _status_reaped_elsewhere(self, reaped_table):
        """After ECHILD: a watcher in another thread may be recording the status right now."""
        status = reaped_table.pop(self.pid, None)
        if status is None and self._hub is not _get_hub_if_exists() and self._watcher:
            for _ in range(20):
                _native_sleep(0.0005)
                status = reaped_table.pop(self.pid, None)
                if status is not None:
                    break
        return status

    def _forget_watcher(self, status: int | None) -> None:
        """We reaped the child ourselves: the watcher has nothing left to see."""
        watcher = self._watcher
        if watcher is None:
            return
        if self._hub is _get_hub_if_exists():
            self._watcher = None
            watcher.stop()
        elif status is not None:
            # Its loop runs in another thread: let it find the status when it looks.
            _reaped[self.pid] = status

    # The public wait() and communicate() are the standard library's (with its KeyboardInterrupt
    # handling and single-pipe fast path); these are the two places where they block.

    def _wait(self, timeout: float | None) -> int:
        """Wait for the exit on the loop; TimeoutExpired after *timeout* seconds."""
        if self.returncode is not None:
            return self._internal_poll()  # type: ignore[return-value]  # the status is ours now
        deadline = None if timeout is None else _monotonic() + timeout
        exit_ = self._exit
        if not exit_.done and self._watcher is not None and self._hub is _get_hub_if_exists():
            while not exit_.done:
                remaining = None if deadline is None else deadline - _monotonic()
                if remaining is not None and remaining <= 0:
                    break
                exit_._wait_core(remaining)
        elif not exit_.done:
            # The watcher belongs to another thread's loop: poll, sleeping cooperatively here.
            delay = 0.0005
            while self.poll() is None:
                remaining = None if deadline is None else deadline - _monotonic()
                if remaining is not None and remaining <= 0:
                    break
                _sleep(delay if remaining is None else min(delay, remaining))
                delay = min(delay * 2, 0.05)
        if self._internal_poll() is None:
            # Still running only if a timeout ran out, so *timeout* is a number here.
            raise TimeoutExpired(self.args, timeout)  # type: ignore[arg-type]
        return self.returncode  # type: ignore[return-value]  # _internal_poll() set it

    def pipe_cloexec(self) -> tuple[int, int]:
        """A pipe whose descriptors are not inherited by children (gevent compatibility)."""
        return _os.pipe()

    def rawlink(self, callback) -> None:
        """Call ``callback(self)`` in the hub once the child has exited (gevent extension)."""
        def link(_exit) -> None:
            self.poll()  # sets returncode for the callback to read
            callback(self)

        self._exit.rawlink(link)

    def _communicate(self, input, endtime: float | None, orig_timeout: float | None):
        """Feed stdin and drain stdout/stderr in greenlets until EOF, then wait for the exit.

        On timeout raises TimeoutExpired with the output so far; the greenlets go on, and the
        next call collects what they read meanwhile.
        """
        glets = self._communicating_greenlets
        if glets is None:
            glets = self._communicating_greenlets = self._start_communicating(input)
        if glets:
            remaining = None if endtime is None else max(endtime - _monotonic(), 0)
            done = _joinall(glets, timeout=remaining)
            if len(done) < len(glets):
                # Only a call with a timeout has an *endtime* (typeshed wants a float here).
                raise TimeoutExpired(self.args, orig_timeout,  # type: ignore[arg-type]
                                     output=_joined(self._stdout_chunks),
                                     stderr=_joined(self._stderr_chunks))
            self._communicating_greenlets = []
            if self._communication_errors:
                error = self._communication_errors.pop(0)
                self._communication_errors.clear()
                raise error
        self._wait(None if endtime is None else max(endtime - _monotonic(), 0))
        return (self._result(self.stdout, self._stdout_chunks),
                self._result(self.stderr, self._stderr_chunks))

    def _start_communicating(self, input) -> list:
        glets = []
        if self.stdin:
            glets.append(_Greenlet.spawn(self._feed_stdin, input))
        if self.stdout:
            self._stdout_chunks = []
            glets.append(_Greenlet.spawn(self._drain, self.stdout, self._stdout_chunks))
        if self.stderr:
            self._stderr_chunks = []
            glets.append(_Greenlet.spawn(self._drain, self.stderr, self._stderr_chunks))
        return glets

    def _close_stdin(self) -> None:
        stdin: Any = self.stdin  # only called when there is one
        try:
            stdin.close()
        except BrokenPipeError:
            pass  # the child stopped reading: what it did not read is lost, as with stdlib
        except OSError as exc:
            if exc.errno != _errno.EINVAL or self.poll() is None:
                raise

    def _feed_stdin(self, input) -> None:
        # Set when this is called; a text stream (with .buffer) when text_mode is.
        stdin: Any = self.stdin
        try:
            try:
                # What the caller wrote without flushing goes first.
                stdin.flush()
            except BrokenPipeError:
                pass  # the child is gone; closing below is all that is left
            else:
                if input:
                    if self.text_mode:
                        stdin.buffer.write(input.encode(stdin.encoding, stdin.errors))
                    else:
                        stdin.write(input)
            self._close_stdin()
        except BrokenPipeError:
            self._close_stdin()
        except OSError as exc:
            if exc.errno == _errno.EINVAL and self.poll() is not None:
                self._close_stdin()
            else:
                self._communication_errors.append(exc)
        except Exception as exc:  # noqa: BLE001  re-raised by communicate() in the caller
            self._communication_errors.append(exc)

    def _drain(self, stream, chunks: list) -> None:
        binary = getattr(stream, "buffer", stream)
        read = getattr(binary, "read1", None) or binary.read
        try:
            while True:
                data = read(_CHUNK)
                if not data:
                    break
                chunks.append(data)
            stream.close()
        except Exception as exc:  # noqa: BLE001  re-raised by communicate() in the caller
            self._communication_errors.append(exc)

    def _result(self, stream, chunks):
        if chunks is None:
            return None
        data = b"".join(chunks)
        if self.text_mode:
            data = data.decode(stream.encoding, stream.errors)
            data = data.replace("\r\n", "\n").replace("\r", "\n")
        return data

    def _stop_communicating(self) -> None:
        glets = self._communicating_greenlets
        if glets:
            self._communicating_greenlets = []
            _killall(glets, block=True)

    def __exit__(self, exc_type: Any, value: Any, traceback: Any) -> None:
        # Readers still parked on the pipes (after a timeout) must go before the pipes close.
        self._stop_communicating()
        # The standard __exit__ closes the output pipes first: we do that here, so that a
        # greenlet of someone else's still reading one cannot make it fail; it then sees no
        # output pipes, and closes stdin and waits for the child as usual.
        stdout, stderr = self.stdout, self.stderr
        for stream in (stdout, stderr):
            if stream:
                _close_in_use(stream)
        self.stdout = self.stderr = None
        try:
            return super().__exit__(exc_type, value, traceback)
        finally:
            self.stdout, self.stderr = stdout, stderr


def _close_in_use(stream) -> None:
    """Close *stream*, even while another greenlet of this thread is inside a read on it.

    That greenlet holds the buffered layer's lock, so closing the buffered object raises
    ``RuntimeError: reentrant call``. Closing the raw stream under it instead wakes the reader
    with ``OSError(EBADF)``, and the buffered and text layers report closed from then on.
    """
    try:
        stream.close()
    except RuntimeError as exc:
        if "reentrant" not in str(exc):
            raise
        raw = getattr(stream, "buffer", stream)
        raw = getattr(raw, "raw", raw)
        raw.close()


def _hand_over_blocking(stream) -> None:
    """A descriptor given to the child must be in blocking mode: O_NONBLOCK belongs to the
    open file, which the child shares, and most programs fail on EAGAIN. So a cooperative pipe
    handed to another child (``Popen(..., stdin=p1.stdout)``) blocks from then on, as in gevent.
    """
    if stream is None or isinstance(stream, bool):
        return
    if isinstance(stream, int):
        fd = stream
    else:
        fileno = getattr(stream, "fileno", None)
        if fileno is None:
            return  # the standard library reports the bad argument
        try:
            fd = fileno()
        except (OSError, ValueError):
            return
    if fd < 0:
        return  # PIPE, STDOUT, DEVNULL
    try:
        if not _os.get_blocking(fd):
            _os.set_blocking(fd, True)
    except OSError:
        pass  # not a descriptor we can look at: the standard library reports it


def _is_pipe(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value == PIPE


def _joined(chunks):
    return b"".join(chunks) if chunks else None


def _set_pipe_sizes(pipesize: int, *fds_and_made) -> None:
    *fds, made = fds_and_made
    try:
        import fcntl
    except ImportError:
        return
    setsize = getattr(fcntl, "F_SETPIPE_SZ", None)
    if setsize is None:
        return
    for fd in fds:
        if fd in made:
            fcntl.fcntl(fd, setsize, pipesize)


# -- the convenience functions -------------------------------------------------------------

def call(*popenargs, timeout: float | None = None, **kwargs) -> int:
    """Run a command, wait for it, return its exit code. A switch point.

    *timeout* kills the child and raises :exc:`TimeoutExpired`.
    """
    with Popen(*popenargs, **kwargs) as process:
        try:
            return process.wait(timeout=timeout)
        except BaseException:
            process.kill()
            raise


def check_call(*popenargs, **kwargs) -> int:
    """Like :func:`call`, raising :exc:`CalledProcessError` for a non-zero exit code."""
    retcode = call(*popenargs, **kwargs)
    if retcode:
        cmd = kwargs.get("args")
        if cmd is None:
            cmd = popenargs[0]
        raise CalledProcessError(retcode, cmd)
    return 0


def check_output(*popenargs, timeout: float | None = None, **kwargs):
    """Run a command and return its standard output. A switch point.

    Raises :exc:`CalledProcessError` for a non-zero exit code, :exc:`TimeoutExpired` after
    *timeout* seconds.
    """
    for name in ("stdout", "check"):
        if name in kwargs:
            raise ValueError(f"{name} argument not allowed, it will be overridden.")
    if "input" in kwargs and kwargs["input"] is None:
        # input=None has always meant "an empty stdin" here, not "inherit stdin".
        text = kwargs.get("universal_newlines") or kwargs.get("text") or \
            kwargs.get("encoding") or kwargs.get("errors")
        kwargs["input"] = "" if text else b""
    return run(*popenargs, stdout=PIPE, timeout=timeout, check=True, **kwargs).stdout


def run(*popenargs, input=None, capture_output: bool = False, timeout: float | None = None,
        check: bool = False, **kwargs) -> CompletedProcess:
    """Run a command, wait for it, return a :class:`CompletedProcess`. A switch point.

    As :func:`subprocess.run`: *input* goes to stdin, *capture_output* pipes stdout and
    stderr, *timeout* kills the child and raises :exc:`TimeoutExpired`, *check* raises
    :exc:`CalledProcessError` for a non-zero exit code.
    """
    if input is not None:
        if kwargs.get("stdin") is not None:
            raise ValueError("stdin and input arguments may not both be used.")
        kwargs["stdin"] = PIPE
    if capture_output:
        if kwargs.get("stdout") is not None or kwargs.get("stderr") is not None:
            raise ValueError("stdout and stderr arguments may not be used with capture_output.")
        kwargs["stdout"] = PIPE
        kwargs["stderr"] = PIPE
    with Popen(*popenargs, **kwargs) as process:
        try:
            stdout, stderr = process.communicate(input, timeout=timeout)
        except TimeoutExpired:
            process.kill()
            process.wait()
            raise
        except BaseException:
            process.kill()
            raise
        retcode = process.poll()
        if check and retcode:
            raise CalledProcessError(retcode, process.args, output=stdout, stderr=stderr)
    # communicate() returned, so the child has exited and retcode is an int.
    return CompletedProcess(process.args, retcode, stdout, stderr)  # type: ignore[arg-type]


def getstatusoutput(cmd, *, encoding: str | None = None,
                    errors: str | None = None) -> tuple[int, str]:
    """Run *cmd* in a shell; return ``(exitcode, output)`` with stderr merged into the output
    and one trailing newline removed. A switch point."""
    try:
        data = check_output(cmd, shell=True, text=True, stderr=STDOUT, encoding=encoding,
                            errors=errors)
        exitcode = 0
    except CalledProcessError as exc:
        data = exc.output
        exitcode = exc.returncode
    if data[-1:] == "\n":
        data = data[:-1]
    return exitcode, data


def getoutput(cmd, *, encoding: str | None = None, errors: str | None = None) -> str:
    """Run *cmd* in a shell and return its output (see :func:`getstatusoutput`)."""
    return getstatusoutput(cmd, encoding=encoding, errors=errors)[1]


# Compatibility: names that gevent's users and tests reach.
from .fileobject import FileObject  # noqa: E402,F401  (gevent.subprocess.FileObject)
