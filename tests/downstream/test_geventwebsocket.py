"""gevent-websocket's WebSocketHandler on our pywsgi: handshake, echo of text and binary
messages, close; plain HTTP requests still reach the application."""

from __future__ import annotations

import base64
import hashlib
import os
import struct

import pytest

pytest.importorskip("geventwebsocket", reason="gevent-websocket is in the 'downstream' extra")

import sys  # noqa: E402

sys.path.insert(0, str(__import__("pathlib").Path(__file__).parent.parent))

from geventwebsocket.handler import WebSocketHandler  # noqa: E402

from test_pywsgi import client_of, serving  # noqa: E402

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def application(environ, start_response):
    websocket = environ.get("wsgi.websocket")
    if websocket is None:
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"plain http"]
    while True:
        message = websocket.receive()
        if message is None:
            return []
        websocket.send(message, binary=isinstance(message, (bytes, bytearray)))


def _frame(opcode, payload):
    mask = os.urandom(4)
    masked = bytes(byte ^ mask[i % 4] for i, byte in enumerate(payload))
    assert len(payload) < 126
    return struct.pack("!BB", 0x80 | opcode, 0x80 | len(payload)) + mask + masked


def _read_frame(client):
    first, second = client.read_exact(2)
    length = second & 0x7F
    if length == 126:
        (length,) = struct.unpack("!H", client.read_exact(2))
    return first & 0x0F, client.read_exact(length)


def test_websocket_echo():
    with serving(application, handler_class=WebSocketHandler) as server:
        with client_of(server) as client:
            key = base64.b64encode(os.urandom(16))
            client.send(b"GET /echo HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
                        b"Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                        b"Sec-WebSocket-Key: " + key + b"\r\n\r\n")
            response = client.read_response()
            assert response.status == 101
            expected = base64.b64encode(hashlib.sha1(key + GUID).digest()).decode()
            assert response.header("Sec-WebSocket-Accept") == expected
            client.send(_frame(0x1, "héllo".encode()))
            assert _read_frame(client) == (0x1, "héllo".encode())
            client.send(_frame(0x2, b"\x00\x01binary"))
            assert _read_frame(client) == (0x2, b"\x00\x01binary")
            client.send(_frame(0x8, struct.pack("!H", 1000)))
            opcode, _ = _read_frame(client)
            assert opcode == 0x8
            assert client.is_closed()
        with client_of(server) as client:
            assert client.request().body == b"plain http"
