"""Sans-IO HTTP/1.1 for gevent's servers: a strict request parser and a response writer.

Bytes in, events out; nothing here imports ``socket`` or any other part of gevent, so the
protocol can be tested (and fuzzed) without I/O. :mod:`gevent.pywsgi` does the I/O.
"""

from ._errors import HTTPProtocolError, InvalidResponseError, NotNativeStringError, reason_phrase
from ._parser import (
    CONNECTION_CLOSED,
    NEED_DATA,
    Data,
    EndOfMessage,
    Request,
    RequestParser,
)
from ._writer import (
    LAST_CHUNK,
    check_header,
    check_status,
    encode_chunk,
    format_error_response,
    format_response_head,
)

__all__ = [
    "CONNECTION_CLOSED",
    "LAST_CHUNK",
    "NEED_DATA",
    "Data",
    "EndOfMessage",
    "HTTPProtocolError",
    "InvalidResponseError",
    "NotNativeStringError",
    "Request",
    "RequestParser",
    "check_header",
    "check_status",
    "encode_chunk",
    "format_error_response",
    "format_response_head",
    "reason_phrase",
]
