"""pywsgi's supporting types: environ dicts, the request-headers view, logging adapters,
``wsgi.file_wrapper`` and the cached ``Date`` header. Re-exported from :mod:`gevent.pywsgi`."""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Iterator
from email.utils import formatdate
from typing import Any

__all__ = [
    "Environ",
    "FileWrapper",
    "LoggingLogAdapter",
    "RequestHeaders",
    "SecureEnviron",
    "WSGISecureEnviron",
]


class Environ(dict):
    """The WSGI environ: a plain dict, so that it pickles and prints like one."""

    __slots__ = ()

    def copy(self) -> Environ:
        return type(self)(self)

    def iteritems(self):
        """``iter(self.items())``: kept because gevent's Environ has it."""
        return iter(self.items())

    def __reduce_ex__(self, protocol: Any) -> Any:
        # Pickles as a plain dict (as gevent's does): the pickle can be loaded where this
        # class does not exist, and the masking options do not travel.
        return (dict, (dict(self),))


class SecureEnviron(Environ):
    """An environ whose ``repr`` hides values (cookies, authorization headers...) so that a
    traceback printed with it as context does not leak secrets into logs.

    ``secure_repr`` turns hiding on or off, ``whitelist_keys`` lists keys whose values may be
    shown, and ``print_masked_keys`` says whether hidden keys are listed (without values) or
    only counted. Each has a class-wide ``default_*`` and may be set per instance.
    """

    default_secure_repr = True
    default_whitelist_keys: tuple[str, ...] = ()
    default_print_masked_keys = True

    __slots__ = ("secure_repr", "whitelist_keys", "print_masked_keys")

    def __getattr__(self, name: str) -> Any:
        # Unset per-instance options fall back to the class defaults.
        if name in SecureEnviron.__slots__:
            return getattr(type(self), "default_" + name)
        raise AttributeError(name)

    def __repr__(self) -> str:
        # gevent's formats, which log readers may match: no whitelist shows only the size;
        # a whitelist shows those values and either masks the others or counts them.
        if not self.secure_repr:
            return super().__repr__()
        whitelist = self.whitelist_keys
        if not whitelist:
            return f"<pywsgi.SecureEnviron dict (keys: {len(self)}) at {id(self)}>"
        if self.print_masked_keys:
            shown = {key: (value if key in whitelist else "<MASKED>")
                     for key, value in self.items()}
            return repr(shown)
        shown = {key: value for key, value in self.items() if key in whitelist}
        hidden = len(self) - len(shown)
        if not hidden:
            return repr(shown)
        text = repr(shown)[:-1]
        separator = ", " if shown else ""
        return f"{text}{separator}(hidden keys: {hidden})}}"

    __str__ = __repr__


class WSGISecureEnviron(SecureEnviron):
    """A :class:`SecureEnviron` that shows only where the request came from."""

    default_whitelist_keys = ("REMOTE_ADDR", "REMOTE_PORT", "HTTP_HOST")
    default_print_masked_keys = False

    __slots__ = ()


class RequestHeaders:
    """``handler.headers``: the request's header fields, read-only, in the order received.

    Enough of ``http.client.HTTPMessage`` for the code that reads it (``items()``,
    ``get()``, ``get_all()``, ``[]``, ``in``, iteration), without parsing anything twice.
    """

    __slots__ = ("_fields",)

    def __init__(self, fields: list[tuple[str, str]]) -> None:
        self._fields = fields

    def items(self) -> list[tuple[str, str]]:
        return list(self._fields)

    def keys(self) -> list[str]:
        return [name for name, _ in self._fields]

    def values(self) -> list[str]:
        return [value for _, value in self._fields]

    def get(self, name: str, default: Any = None) -> Any:
        name = name.lower()
        for key, value in self._fields:
            if key.lower() == name:
                return value
        return default

    getheader = get

    def get_all(self, name: str, failobj: Any = None) -> Any:
        name = name.lower()
        found = [value for key, value in self._fields if key.lower() == name]
        return found or failobj

    def __getitem__(self, name: str) -> Any:
        return self.get(name)

    def __contains__(self, name: object) -> bool:
        if not isinstance(name, str):
            return False
        name = name.lower()
        return any(key.lower() == name for key, _ in self._fields)

    def __iter__(self) -> Iterator[str]:
        return iter(self.keys())

    def __len__(self) -> int:
        return len(self._fields)

    @property
    def headers(self) -> list[str]:
        """The raw header lines, as ``mimetools.Message.headers`` had them."""
        return [f"{name}: {value}\r\n" for name, value in self._fields]

    def __str__(self) -> str:
        return "".join(self.headers)

    def __repr__(self) -> str:
        return f"<RequestHeaders {self._fields!r}>"


class LoggingLogAdapter:
    """Let a :class:`logging.Logger` serve as pywsgi's ``log``/``error_log`` (which are
    written to like files): each ``write()`` becomes one record at *level*. Any other
    attribute is the logger's own (so ``server.log.access(...)`` reaches a gunicorn logger).
    """

    def __init__(self, logger: Any, level: int = logging.INFO) -> None:
        self._logger = logger
        self._level = level

    def write(self, msg: str) -> None:
        if msg and msg.endswith("\n"):
            msg = msg[:-1]
        self._logger.log(self._level, msg)

    def flush(self) -> None:
        """Records are written as they come; nothing is buffered here."""

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._logger, name)

    def __setattr__(self, name: str, value: Any) -> None:
        if name in ("_logger", "_level"):
            object.__setattr__(self, name, value)
        else:
            setattr(self._logger, name, value)

    def __delattr__(self, name: str) -> None:
        delattr(self._logger, name)


class FileWrapper:
    """``environ['wsgi.file_wrapper']`` (PEP 3333): iterate a file in blocks, close it after."""

    def __init__(self, filelike: Any, blksize: int = 65536) -> None:
        self.filelike = filelike
        self.blksize = blksize
        close = getattr(filelike, "close", None)
        if close is not None:
            self.close = close

    def __iter__(self) -> Iterator[bytes]:
        read = self.filelike.read
        blksize = self.blksize
        while True:
            data = read(blksize)
            if not data:
                return
            yield data


_date_cache: list[Any] = [0, ""]


def http_date(now: float | None = None) -> str:
    """The ``Date`` header for *now* (formatted once per second)."""
    if now is None:
        now = time.time()
    second = int(now)
    cache = _date_cache
    if cache[0] != second:
        cache[1] = formatdate(second, usegmt=True)
        cache[0] = second
    return cache[1]


class _NoopLog:
    """The log of a server given ``log=None``: a file-like object that keeps nothing, so
    code that writes to ``server.log`` works whether logging is on or off."""

    def write(self, *args: Any, **kwargs: Any) -> None:
        """Discard *args*."""

    def flush(self) -> None:
        """Nothing is buffered."""

    def writelines(self, *args: Any, **kwargs: Any) -> None:
        """Discard *args*."""


def _default_log(log: Any, level: int = logging.INFO) -> Any:
    """What a server's *log*/*error_log* argument means: "default" is stderr, None is a
    :class:`_NoopLog`, a ``logging.Logger`` gets wrapped (records at *level*), anything with
    ``write`` is used as is."""
    if log == "default":
        return sys.stderr
    if log is None:
        return _NoopLog()
    if not hasattr(log, "write") and hasattr(log, "log"):
        return LoggingLogAdapter(log, level)
    return log
