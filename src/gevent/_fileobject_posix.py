"""Cooperative I/O on POSIX file descriptors: pipes, ttys, FIFOs, character devices.

:class:`GreenFileDescriptorIO` is a raw :mod:`io` stream over a non-blocking descriptor: a read
or write that would block parks the calling greenlet on the hub until the descriptor is ready.
The standard buffered and text layers of :mod:`io` sit on top of it unchanged, so what callers
get is an ordinary ``BufferedReader`` / ``TextIOWrapper`` that happens to cooperate.
"""

from __future__ import annotations

import errno
import io
import os

from ._core import READ, WRITE
from ._fileobject_common import (
    FileObjectBase,
    OpenDescriptor,
    WriteallMixin,
    _is_path,
    check_layering,
    open_io_stack,
    parse_mode,
)
from ._socket_wait import forget_closing_fd
from .hub import _get_hub_noargs as get_hub

__all__ = ["GreenFileDescriptorIO", "GreenOpenDescriptor", "FileObjectPosix"]

# Bound at import: under monkey patching os.close is gevent.os.close, which would recurse here.
_close = os.close
_read = os.read
_readv = os.readv
_write = os.write

#: How much ``readall`` asks the kernel for at a time.
_READALL_CHUNK = 65536


def _closed_error() -> OSError:
    return OSError(errno.EBADF, "File descriptor was closed in another greenlet")


class GreenFileDescriptorIO(io.RawIOBase):
    """A raw stream over file descriptor *fileno* that waits cooperatively.

    The descriptor is put in non-blocking mode; if *closefd* is false it is put back the way it
    was when this stream closes. Writes always write every byte (waiting as needed).
    """

    def __init__(self, fileno: int, mode: str = "rb", closefd: bool = True) -> None:
        super().__init__()
        if not isinstance(fileno, int) or isinstance(fileno, bool):
            raise TypeError(f"fileno must be an int, not {type(fileno).__name__}")
        if fileno < 0:
            raise ValueError("negative file descriptor")
        parsed = parse_mode(mode)
        self._fileno = fileno
        self._closefd = closefd
        self._readable = parsed.readable
        self._writable = parsed.writable
        self._mode = parsed.raw_mode
        self.name: int | str | bytes = fileno
        self._seekable: bool | None = None
        self._hub = None
        self._read_watcher = None
        self._write_watcher = None
        self._was_blocking = os.get_blocking(fileno)
        if self._was_blocking:
            os.set_blocking(fileno, False)

    # -- waiting --------------------------------------------------------------------------

    def _watcher(self, events: int):
        hub = get_hub()
        if self._hub is not hub:
            self._drop_watchers()
            self._hub = hub
        if events == READ:
            watcher = self._read_watcher
            if watcher is None:
                watcher = self._read_watcher = hub.loop.io(self._fileno, READ)
        else:
            watcher = self._write_watcher
            if watcher is None:
                watcher = self._write_watcher = hub.loop.io(self._fileno, WRITE)
        return hub, watcher

    def _wait(self, events: int) -> None:
        hub, watcher = self._watcher(events)
        hub.wait(watcher)
        if self._fileno < 0:
            raise _closed_error()

    def _drop_watchers(self) -> None:
        for watcher in (self._read_watcher, self._write_watcher):
            if watcher is not None:
                watcher.close()
        self._read_watcher = self._write_watcher = None
        self._hub = None

    # -- the RawIOBase interface ----------------------------------------------------------

    def _check_open(self) -> int:
        fd = self._fileno
        if fd < 0:
            raise ValueError("I/O operation on closed file")
        return fd

    def readable(self) -> bool:
        self._check_open()
        return self._readable

    def writable(self) -> bool:
        self._check_open()
        return self._writable

    def seekable(self) -> bool:
        fd = self._check_open()
        if self._seekable is None:
            try:
                os.lseek(fd, 0, os.SEEK_CUR)
            except OSError:
                self._seekable = False
            else:
                self._seekable = True
        return self._seekable

    def fileno(self) -> int:
        return self._check_open()

    def isatty(self) -> bool:
        return os.isatty(self._check_open())

    @property
    def mode(self) -> str:
        return self._mode

    @property
    def closefd(self) -> bool:
        return self._closefd

    def readinto(self, buffer) -> int:
        """Read into *buffer*; a switch point while nothing is available. 0 means EOF."""
        fd = self._check_open()
        if not self._readable:
            raise io.UnsupportedOperation("File not open for reading")
        while True:
            try:
                return _readv(fd, [buffer])
            except BlockingIOError:
                pass
            self._wait(READ)
            fd = self._check_open()

    def read(self, size: int = -1) -> bytes:
        """Read up to *size* bytes (all until EOF if negative). A switch point."""
        if size is None or size < 0:
            return self.readall()
        fd = self._check_open()
        if not self._readable:
            raise io.UnsupportedOperation("File not open for reading")
        while True:
            try:
                return _read(fd, size)
            except BlockingIOError:
                pass
            self._wait(READ)
            fd = self._check_open()

    def readall(self) -> bytes:
        """Read until end of file. A switch point."""
        chunks = []
        while True:
            data = self.read(_READALL_CHUNK)
            if not data:
                break
            chunks.append(data)
        return b"".join(chunks)

    def write(self, data) -> int:
        """Write all of *data*, waiting for room as needed. A switch point."""
        fd = self._check_open()
        if not self._writable:
            raise io.UnsupportedOperation("File not open for writing")
        view = memoryview(data)
        if view.ndim != 1 or view.itemsize != 1:
            view = view.cast("B")
        total = len(view)
        written = 0
        with view:
            while written < total:
                try:
                    written += _write(fd, view[written:])
                    continue
                except BlockingIOError:
                    pass
                self._wait(WRITE)
                fd = self._check_open()
        return written

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        return os.lseek(self._check_open(), offset, whence)

    def tell(self) -> int:
        return self.seek(0, os.SEEK_CUR)

    def truncate(self, size: int | None = None) -> int:
        fd = self._check_open()
        if size is None:
            size = self.tell()
        os.ftruncate(fd, size)
        return size

    def close(self) -> None:
        """Close the stream: greenlets waiting on it get ``OSError(EBADF)``.

        If some are waiting, the descriptor itself is closed once they have been woken, so its
        number cannot be reused under them.
        """
        fd = self._fileno
        if fd < 0:
            return
        try:
            super().close()
        finally:
            self._fileno = -1
            hub = self._hub
            watchers = [w for w in (self._read_watcher, self._write_watcher) if w is not None]
            self._read_watcher = self._write_watcher = None
            self._hub = None
            if hub is None:
                self._release(None, fd)
            else:
                hub.cancel_waits_close_and_then(watchers, _closed_error(), self._release,
                                                hub.loop, fd)

    def _release(self, loop, fd: int) -> None:
        if loop is not None and not loop.destroyed:
            forget_closing_fd(loop, fd)
        if self._closefd:
            _close(fd)
        elif self._was_blocking:
            try:
                os.set_blocking(fd, True)
            except OSError:
                pass  # the owner closed it already; nothing to restore

    @property
    def closed(self) -> bool:
        return self._fileno < 0

    def __repr__(self) -> str:
        state = "closed" if self._fileno < 0 else f"fileno={self._fileno}"
        return f"<{type(self).__name__} at {id(self):#x} {state} mode={self._mode!r}>"


def open_descriptor(fd: int, mode: str = "r", buffering: int = -1, closefd: bool = True,
                    encoding=None, errors=None, newline=None, *, line_buffering=None,
                    write_through: bool = False, name=None):
    """The :mod:`io` stack :func:`io.open` would build for *fd*, over a cooperative raw."""
    return _open_descriptor(fd, mode, buffering, closefd, encoding, errors, newline,
                            line_buffering, write_through, name)[0]


def _open_descriptor(fd, mode, buffering, closefd, encoding, errors, newline, line_buffering,
                     write_through, name):
    parsed = parse_mode(mode)
    check_layering(parsed, buffering, encoding, errors, newline)
    raw = GreenFileDescriptorIO(fd, parsed.raw_mode, closefd)
    if name is not None:
        raw.name = name
    try:
        stream = open_io_stack(raw, parsed, buffering, encoding, errors, newline,
                               line_buffering=line_buffering, write_through=write_through)
    except BaseException:
        raw.close()
        raise
    return stream, raw


class GreenFileDescriptorIOWriteall(WriteallMixin, GreenFileDescriptorIO):
    """The raw stream :class:`GreenOpenDescriptor` makes for *atomic_write*."""


class GreenOpenDescriptor(OpenDescriptor):
    """An :class:`~gevent._fileobject_common.OpenDescriptor` whose raw stream is a cooperative
    :class:`GreenFileDescriptorIO`; a path is opened with :func:`os.open` first."""

    def _open_raw(self):
        raw_class = GreenFileDescriptorIOWriteall if self.atomic_write else GreenFileDescriptorIO
        if self.is_fd():
            return raw_class(self.fobj, self._parsed.raw_mode, self.closefd)
        if not self.closefd:
            raise ValueError("Cannot use closefd=False with file name")
        fd = os.open(self.fobj, self._parsed.os_flags, 0o666)
        try:
            raw = raw_class(fd, self._parsed.raw_mode, True)
        except BaseException:
            _close(fd)
            raise
        raw.name = self.fobj
        return raw


class FileObjectPosix(FileObjectBase):
    """A cooperative file object over a non-blocking descriptor (pipes, ttys, FIFOs, sockets).

    ``FileObjectPosix(fobj, mode='r', buffering=-1, closefd=True, encoding=None, errors=None,
    newline=None)``: *fobj* is a descriptor, a path, or an object with ``fileno()`` (closed
    with this object when *closefd* is true). Reads and writes that would block are switch
    points. Regular files never report "would block", so they gain nothing here: use
    :class:`~gevent.fileobject.FileObjectThread` for those. ``fileio`` is the raw stream.
    """

    #: The buffer size used when *buffering* is negative.
    default_bufsize = io.DEFAULT_BUFFER_SIZE

    def _open(self, fobj, mode, buffering, closefd, encoding, errors, newline):
        self._owned = None
        if isinstance(fobj, int) or _is_path(fobj):
            descriptor = GreenOpenDescriptor(fobj, mode, buffering, closefd, encoding, errors,
                                             newline, atomic_write=self._atomic_write)
            stream = descriptor.opened()
            self.fileio = descriptor.opened_raw()
            return stream
        fileno = getattr(fobj, "fileno", None)
        if fileno is None:
            raise TypeError(f"Expected a file descriptor, path or object with fileno(): "
                            f"{fobj!r}")
        descriptor = GreenOpenDescriptor(fileno(), mode, buffering, False, encoding, errors,
                                         newline, atomic_write=self._atomic_write)
        stream = descriptor.opened()
        raw = self.fileio = descriptor.opened_raw()
        name = getattr(fobj, "name", None)
        if name is None:
            del raw.name  # as gevent: an object without a name gives a stream without one
        else:
            raw.name = name
        # The object owns the descriptor: closing it (not the bare fd) releases everything.
        self._owned = fobj if closefd else None
        return stream

    def _do_close(self, fobj, closefd: bool) -> None:
        # The raw stream knows whether the descriptor is ours to close.
        try:
            fobj.close()
        finally:
            owned = self._owned
            self._owned = None
            if owned is not None:
                owned.close()

