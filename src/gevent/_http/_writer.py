"""Response formatting: status line, headers, chunked framing. Bytes out, no I/O.

Everything the application hands us is checked before it becomes bytes: a status or header
containing CR, LF or NUL would let the application's input (often attacker-controlled, think
redirect locations) split the response (gevent issue #775). Checks are cheap on the hot path:
valid header names are remembered, values are scanned by one compiled regex each.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from ._errors import HTTPProtocolError, InvalidResponseError, NotNativeStringError, reason_phrase

__all__ = [
    "LAST_CHUNK",
    "check_header",
    "check_status",
    "encode_chunk",
    "format_error_response",
    "format_response_head",
]

#: The zero-size chunk that ends a chunked body (no trailers).
LAST_CHUNK = b"0\r\n\r\n"

_TOKEN_RE = re.compile(r"[-!#$%&'*+.^_`|~0-9A-Za-z]+")
_BAD_VALUE_RE = re.compile(r"[\x00\r\n]")
_STATUS_RE = re.compile(r"([1-9][0-9][0-9])(?: ([^\x00\r\n]*))?")
_known_names: set[str] = set()
_KNOWN_NAMES_LIMIT = 512


def check_status(status: object) -> int:
    """Validate a WSGI status string (``"200 OK"``); return the integer code."""
    if type(status) is not str:
        if not isinstance(status, str):
            raise TypeError(f"the status must be a native string, not {type(status).__name__}")
    match = _STATUS_RE.fullmatch(status)  # type: ignore[arg-type]
    if match is None:
        if "\r" in status or "\n" in status:  # type: ignore[operator]
            # gevent's words, which applications and gevent's tests compare.
            raise InvalidResponseError("carriage return or newline in status", status)
        raise InvalidResponseError(
            f"invalid status {status!r}: expected three digits, a space and a reason phrase "
            "without CR, LF or NUL"
        )
    return int(match.group(1))


def check_header(name: object, value: object) -> None:
    """Raise if *name*/*value* may not be sent (not a str, not a token, CR/LF/NUL...)."""
    if name not in _known_names:
        if not isinstance(name, str):
            raise NotNativeStringError(f"header name {name!r} must be a native string")
        if _TOKEN_RE.fullmatch(name) is None:
            if "\r" in name or "\n" in name:
                raise InvalidResponseError("carriage return or newline in header name", name)
            raise InvalidResponseError(f"invalid header name {name!r}")
        if len(_known_names) < _KNOWN_NAMES_LIMIT:
            _known_names.add(name)
    if not isinstance(value, str):
        raise NotNativeStringError(f"value {value!r} of header {name!r} must be a native string")
    if _BAD_VALUE_RE.search(value) is not None:
        if "\r" in value or "\n" in value:
            raise InvalidResponseError("carriage return or newline in header value", value)
        raise InvalidResponseError(f"value of header {name!r} contains NUL: {value!r}")
    if not value.isascii():
        # PEP 3333: header text is latin-1. Fail here, in start_response, not once the
        # status line has gone out.
        value.encode("latin-1")


def format_response_head(
    status: str,
    headers: Iterable[tuple[str, str]],
    http_version: str = "HTTP/1.1",
    *,
    checked: bool = False,
) -> bytes:
    """``HTTP/1.1 200 OK\\r\\nName: value\\r\\n...\\r\\n\\r\\n`` as bytes.

    Validates *status* and every header unless the caller did already (*checked*). Header
    text must be latin-1 (PEP 3333); anything else raises ``UnicodeEncodeError``.
    """
    if not checked:
        check_status(status)
        for name, value in headers:
            check_header(name, value)
    if len(status) == 3:
        status = f"{status} {reason_phrase(int(status))}"
    text = "".join([f"{name}: {value}\r\n" for name, value in headers])
    return f"{http_version} {status}\r\n{text}\r\n".encode("latin-1")


def encode_chunk(data: bytes) -> bytes:
    """One chunk of a chunked body; empty *data* gives ``b""`` (never the last chunk by
    accident: use :data:`LAST_CHUNK` for that)."""
    if not data:
        return b""
    return b"%x\r\n%s\r\n" % (len(data), data)


def format_error_response(
    error: HTTPProtocolError | int, message: str | None = None, http_version: str = "HTTP/1.1"
) -> bytes:
    """A complete ``Connection: close`` plain-text response for a rejected request."""
    if isinstance(error, HTTPProtocolError):
        code = error.status_code
        if message is None:
            message = error.message
    else:
        code = error
    reason = reason_phrase(code) or "Error"
    body = (message or reason).encode("latin-1", "replace")
    return (
        f"{http_version} {code} {reason}\r\n"
        "Content-Type: text/plain; charset=latin-1\r\n"
        # The message may quote the client's bytes: never let a browser sniff it as HTML.
        "X-Content-Type-Options: nosniff\r\n"
        f"Content-Length: {len(body)}\r\n"
        "Connection: close\r\n\r\n"
    ).encode("latin-1") + body
