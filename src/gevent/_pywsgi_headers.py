"""pywsgi's per-name caches for the hot path: request header name -> environ key, and the
status strings and response header names an application has already had checked.

Every cache is bounded (a client choosing names must not grow memory without limit) and
holds only the outcome of a pure function of its key, so a hit means exactly what a
fresh check would.
"""

from __future__ import annotations

from typing import Any

from gevent._http import check_header, check_status

__all__ = ["UNKNOWN", "environ_key", "environ_keys", "has_connection", "header_kind",
           "header_kinds", "status_code", "status_codes"]

#: Request header name -> its environ key (None: not passed on). Read it directly with
#: ``environ_keys.get(name, UNKNOWN)`` and call :func:`environ_key` on a miss.
environ_keys: dict[str, str | None] = {}
UNKNOWN: Any = object()

#: Status strings already checked -> their code. Use ``status_codes.get(status)`` first.
status_codes: dict[str, int] = {}

#: Response header names already checked -> 0, or 1 for Content-Length, 2 for Date,
#: 3 for Connection. Use ``header_kinds.get(name)`` first.
header_kinds: dict[str, int] = {}
_KIND_BY_LOWERED = {"content-length": 1, "date": 2, "connection": 3}


def environ_key(name: str) -> str | None:
    """``X-Forwarded-For`` -> ``HTTP_X_FORWARDED_FOR``; None for names holding ``_``, which
    would collide with the dash form (``X_Forwarded_For``) and let a client spoof a header
    a proxy set."""
    key = environ_keys.get(name, UNKNOWN)
    if key is UNKNOWN:
        if "_" in name:
            key = None
        else:
            key = "HTTP_" + name.upper().replace("-", "_")
            if key == "HTTP_CONTENT_TYPE":
                key = "CONTENT_TYPE"
            elif key == "HTTP_CONTENT_LENGTH":
                key = "CONTENT_LENGTH"
        if len(environ_keys) < 2048:
            environ_keys[name] = key
    return key


def status_code(status: str) -> int:
    """:func:`~gevent._http.check_status`, remembered."""
    code = check_status(status)
    if len(status_codes) < 256:
        status_codes[status] = code
    return code


def header_kind(name: str, value: str) -> int:
    """Check a response header (raises like :func:`~gevent._http.check_header`) and say
    which kind its name is; the name is remembered."""
    check_header(name, value)
    kind = _KIND_BY_LOWERED.get(name.lower(), 0)
    if len(header_kinds) < 1024:
        header_kinds[name] = kind
    return kind


def has_connection(headers: list[tuple[str, str]]) -> bool:
    """Whether *headers* hold a Connection field."""
    for name, _ in headers:
        kind = header_kinds.get(name)
        if kind == 3 or (kind is None and name.lower() == "connection"):
            return True
    return False
