"""Errors raised by the sans-IO HTTP layer.

Every problem found in what a client sent is a :class:`HTTPProtocolError` that carries the
status code the server should answer with; pywsgi turns it into a response and closes the
connection. Problems in what the *application* asked us to send are
:class:`InvalidResponseError` (a ``ValueError``), raised to the application.
"""

from __future__ import annotations

from http import HTTPStatus

__all__ = ["HTTPProtocolError", "InvalidResponseError", "NotNativeStringError", "reason_phrase"]


def reason_phrase(status_code: int) -> str:
    """The standard reason phrase for *status_code*, or ``""`` if there is none."""
    try:
        return HTTPStatus(status_code).phrase
    except ValueError:
        return ""


class HTTPProtocolError(Exception):
    """The peer broke the HTTP/1.1 grammar or one of our limits.

    ``status_code`` is what to answer (400, 413, 414, 431, 501, 505...); ``message`` says
    what was wrong, in words fit for a log line and for the response body.
    """

    def __init__(self, message: str, status_code: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code

    @property
    def reason(self) -> str:
        return reason_phrase(self.status_code)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, status_code={self.status_code})"


class InvalidResponseError(ValueError):
    """The application gave a status line or header that cannot be sent safely
    (for example a value containing CR or LF, which would split the response)."""


class NotNativeStringError(TypeError, UnicodeError):
    """A header name or value that is not a ``str`` (PEP 3333: native strings only). A
    ``TypeError``, and a ``UnicodeError`` as gevent raises for it."""
