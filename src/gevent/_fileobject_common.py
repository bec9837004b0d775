"""What every gevent file object shares: argument handling, delegation, iteration, closing.

A gevent file object wraps an :mod:`io` object (``.io``) and forwards attribute access to it;
subclasses decide how the blocking calls run (a non-blocking fd and the hub, a thread pool, or
nothing at all).
"""

from __future__ import annotations

import io
import os
import warnings
from typing import Any

__all__ = ["FileObjectBase", "FileObjectBlock", "OpenDescriptor", "WriteallMixin", "parse_mode",
           "check_layering", "open_io_stack"]

_MODE_CHARS = frozenset("rwxab+tU")


class ParsedMode:
    """The meaning of an :func:`open` mode string.

    ``U`` (universal newlines, long the default) is accepted alone or with ``r`` and dropped,
    as gevent does: ``'rU'`` means ``'r'``. :attr:`mode` is the string without it.
    """

    __slots__ = ("mode", "readable", "writable", "binary", "creating", "appending",
                 "truncating", "updating")

    def __init__(self, mode: str) -> None:
        if not isinstance(mode, str):
            raise TypeError(f"invalid mode: {mode!r}")
        if set(mode) - _MODE_CHARS or len(set(mode)) != len(mode):
            raise ValueError(f"invalid mode: {mode!r}")
        if "U" in mode:
            if any(c in mode for c in "xwa+"):
                raise ValueError("mode U cannot be combined with 'x', 'w', 'a', or '+'")
            mode = mode.replace("U", "")
            if "r" not in mode:
                mode = "r" + mode
        if "b" in mode and "t" in mode:
            raise ValueError("can't have text and binary mode at once")
        kinds = sum(c in mode for c in "rwxa")
        if kinds > 1:
            raise ValueError("can't have read/write/append mode at once")
        if kinds == 0:
            raise ValueError("must have exactly one of read/write/append mode")
        self.mode = mode
        self.updating = "+" in mode
        self.creating = "x" in mode
        self.appending = "a" in mode
        self.truncating = "w" in mode
        self.readable = "r" in mode or self.updating
        self.writable = "r" not in mode or self.updating
        self.binary = "b" in mode

    @property
    def os_flags(self) -> int:
        """The flags for :func:`os.open` that this mode means."""
        if self.readable and self.writable:
            flags = os.O_RDWR
        elif self.writable:
            flags = os.O_WRONLY
        else:
            flags = os.O_RDONLY
        if self.creating:
            flags |= os.O_CREAT | os.O_EXCL
        if self.truncating:
            flags |= os.O_CREAT | os.O_TRUNC
        if self.appending:
            flags |= os.O_CREAT | os.O_APPEND
        return flags | getattr(os, "O_CLOEXEC", 0)

    @property
    def raw_mode(self) -> str:
        """The mode a raw (binary, unbuffered) stream reports, as ``FileIO.mode`` does."""
        if self.creating:
            base = "xb"
        elif self.appending:
            base = "ab"
        elif self.truncating:
            base = "wb"
        else:
            base = "rb"
        return base + "+" if self.updating else base


def parse_mode(mode: str) -> ParsedMode:
    return ParsedMode(mode)


def check_layering(parsed: ParsedMode, buffering, encoding, errors, newline) -> int:
    """Reject what :func:`io.open` rejects, before anything is opened. Returns *buffering*."""
    if buffering is None:
        buffering = -1
    if not isinstance(buffering, int):
        raise TypeError(f"invalid buffering: {buffering!r}")
    if encoding is not None and not isinstance(encoding, str):
        raise TypeError(f"invalid encoding: {encoding!r}")
    if errors is not None and not isinstance(errors, str):
        raise TypeError(f"invalid errors: {errors!r}")
    if parsed.binary:
        if encoding is not None:
            raise ValueError("binary mode doesn't take an encoding argument")
        if errors is not None:
            raise ValueError("binary mode doesn't take an errors argument")
        if newline is not None:
            raise ValueError("binary mode doesn't take a newline argument")
    elif buffering == 0:
        raise ValueError("can't have unbuffered text I/O")
    if newline not in (None, "", "\n", "\r", "\r\n"):
        raise ValueError(f"illegal newline value: {newline!r}")
    return buffering


def open_io_stack(raw, parsed: ParsedMode, buffering: int = -1, encoding=None, errors=None,
                  newline=None, line_buffering: bool | None = None, write_through: bool = False):
    """Layer buffering and text decoding over *raw* exactly as :func:`io.open` does."""
    buffering = check_layering(parsed, buffering, encoding, errors, newline)
    if buffering == 1 and parsed.binary:
        warnings.warn("line buffering (buffering=1) isn't supported in binary mode, the default "
                      "buffer size will be used", RuntimeWarning, stacklevel=4)
        buffering = -1
    if line_buffering is None:
        line_buffering = buffering == 1
    if buffering == 1 or buffering < 0:
        buffering = io.DEFAULT_BUFFER_SIZE
    if buffering == 0:
        if parsed.binary:
            return raw
        raise ValueError("can't have unbuffered text I/O")
    buffer: Any
    if parsed.readable and parsed.writable:
        if raw.seekable():
            buffer = io.BufferedRandom(raw, buffering)
        else:
            buffer = io.BufferedRWPair(raw, raw, buffering)
    elif parsed.writable:
        buffer = io.BufferedWriter(raw, buffering)
    else:
        buffer = io.BufferedReader(raw, buffering)
    if parsed.binary:
        return buffer
    text: Any = io.TextIOWrapper(buffer, io.text_encoding(encoding),  # type: ignore[attr-defined]
                                 errors, newline,
                                 line_buffering=line_buffering, write_through=write_through)
    try:
        text.mode = parsed.mode
    except AttributeError:
        pass  # a wrapper that does not take the attribute still works; only repr loses it
    return text


def _is_path(fobj) -> bool:
    return isinstance(fobj, (str, bytes, os.PathLike))


class WriteallMixin:
    """For raw streams: ``write`` writes every byte (as buffered streams do), not just as many
    as the first system call took. ``writeall`` is the same call under its explicit name."""

    def writeall(self, data) -> int:
        view = memoryview(data)
        if view.ndim != 1 or view.itemsize != 1:
            view = view.cast("B")
        total = len(view)
        written = 0
        with view:
            while written < total:
                count = super().write(view[written:])  # type: ignore[misc]
                if count is None:
                    # A non-blocking raw stream with no room: nothing better to do than retry.
                    continue
                written += count
        return written

    def write(self, data) -> int:
        return self.writeall(data)


class WriteallFileIO(WriteallMixin, io.FileIO):
    """An :class:`io.FileIO` whose ``write`` writes everything."""


def _choose(name: str, value, old_name: str, old_value, default):
    if value is not None and old_value is not None:
        raise TypeError(f"Cannot specify both {name}={value!r} and {old_name}={old_value!r}")
    if value is not None:
        return value
    return old_value if old_value is not None else default


class OpenDescriptor:
    """The arguments of :func:`io.open`, checked at once; :meth:`opened` opens them.

    *fobj* is a file descriptor or a path. ``bufsize`` and ``close`` are the older names of
    *buffering* and *closefd*. With *atomic_write*, an unbuffered binary stream's ``write``
    writes every byte (see :class:`WriteallMixin`). Subclasses choose the raw stream by
    overriding :meth:`_open_raw`.
    """

    def __init__(self, fobj, mode: str = "r", bufsize: int | None = None,
                 close: bool | None = None, encoding: str | None = None,
                 errors: str | None = None, newline: str | None = None,
                 buffering: int | None = None, closefd: bool | None = None,
                 atomic_write: bool = False) -> None:
        buffering = _choose("buffering", buffering, "bufsize", bufsize, -1)
        closefd = _choose("closefd", closefd, "close", close, True)
        parsed = ParsedMode(mode)
        self.buffering = check_layering(parsed, buffering, encoding, errors, newline)
        self._parsed = parsed
        # As io.open: a path-like names the stream by its str (or bytes) form.
        self.fobj = fobj if isinstance(fobj, int) else os.fspath(fobj)
        self.mode = parsed.mode
        self.binary = parsed.binary
        self.can_read = parsed.readable
        self.can_write = parsed.writable
        self.encoding = encoding
        self.errors = errors
        self.newline = newline
        self.closefd = bool(closefd)
        self.atomic_write = bool(atomic_write)
        self._stream: Any = None
        self._raw: Any = None

    def is_fd(self) -> bool:
        """Whether *fobj* is a file descriptor (rather than a path)."""
        return isinstance(self.fobj, int)

    def _open_raw(self):
        """The raw (unbuffered, binary) stream for *fobj*."""
        raw_class = WriteallFileIO if self.atomic_write else io.FileIO
        if not self.is_fd() and not self.closefd:
            raise ValueError("Cannot use closefd=False with file name")
        return raw_class(self.fobj, self._parsed.raw_mode, self.closefd)

    def opened_raw(self):
        """The raw stream, opened once and kept."""
        if self._raw is None:
            self._raw = self._open_raw()
        return self._raw

    def opened(self):
        """The stream :func:`io.open` would return for these arguments, opened once and kept."""
        if self._stream is None:
            raw = self.opened_raw()
            try:
                self._stream = open_io_stack(raw, self._parsed, self.buffering, self.encoding,
                                             self.errors, self.newline)
            except BaseException:
                raw.close()
                raise
        return self._stream


class FileObjectBase:
    """Wraps an :mod:`io` object; attribute access falls through to it.

    The constructor takes :func:`io.open`'s arguments (*fobj* may be a file descriptor, a path or
    a file-like object); ``bufsize`` and ``close`` are the older names of *buffering* and
    *closefd* and are still accepted. *atomic_write*: see :class:`OpenDescriptor`.
    """

    def __init__(self, fobj, mode: str = "r", buffering: int = -1, closefd: bool = True,
                 encoding: str | None = None, errors: str | None = None,
                 newline: str | None = None, *, bufsize: int | None = None,
                 close: bool | None = None, atomic_write: bool = False) -> None:
        if bufsize is not None:
            buffering = bufsize
        if close is not None:
            closefd = close
        if isinstance(fobj, bool) or fobj is None:
            raise TypeError(f"invalid file: {fobj!r}")
        if _is_path(fobj) and not closefd:
            raise ValueError("Cannot use closefd=False with file name")
        self._closefd = bool(closefd)
        self._closed = False
        self._atomic_write = atomic_write
        self._io = self._open(fobj, mode, buffering, self._closefd, encoding, errors, newline)

    # subclasses -------------------------------------------------------------------------------

    def _open(self, fobj, mode, buffering, closefd, encoding, errors, newline):
        raise NotImplementedError

    def _do_close(self, fobj, closefd: bool) -> None:
        if closefd:
            fobj.close()
        else:
            fobj.flush()

    # public surface -----------------------------------------------------------------------

    @property
    def io(self):
        """The wrapped :mod:`io` object."""
        return self._io

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self) -> None:
        """Close this object and, if *closefd* was true, the object or descriptor it wraps."""
        if self._closed:
            return
        self._closed = True
        self._do_close(self._io, self._closefd)

    def __getattr__(self, name: str) -> Any:
        # Only called for names not found normally; _io may be missing during __init__.
        if name == "_io":
            raise AttributeError(name)
        return getattr(self._io, name)

    def __iter__(self):
        return self

    def __next__(self):
        line = self.readline()
        if not line:
            raise StopIteration
        return line

    next = __next__

    def __enter__(self):
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def _extra_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        return (f"<{type(self).__name__} at {id(self):#x} _fobj={self.__dict__.get('_io')!r}"
                f"{self._extra_repr()}>")


class FileObjectBlock(FileObjectBase):
    """A plain synchronous wrapper: every call blocks the whole thread. For testing/debugging."""

    def _open(self, fobj, mode, buffering, closefd, encoding, errors, newline):
        if isinstance(fobj, int) or _is_path(fobj):
            return OpenDescriptor(fobj, mode, buffering, closefd, encoding, errors, newline,
                                  atomic_write=self._atomic_write).opened()
        return fobj
