"""Issue 13: a minimal HTTP/1.1 server on ``gevent.server.StreamServer`` with the httptools
parser (no WSGI), loaded by ``wrk -t1 -c50`` from another process.

Argument: ``minimal_keepalive`` (keep-alive requests) or ``minimal_close`` (``Connection:
close``: accept, one request, one response, close). Every request gets the same 14-byte
"Hello, World!" response, written with one ``sendall``. Accepted sockets get TCP_NODELAY, as
asyncio's and uvloop's transports do (``aio_http.py`` is the same server on asyncio).
Metrics: requests per second, and the server process's CPU time per request.
"""

import sys
import threading

import httptools
from benchlib import (
    HELLO_RESPONSE,
    HELLO_RESPONSE_CLOSE,
    LOOPBACK,
    MINIMAL_MODES,
    drive_http_load,
    emit,
    raise_fd_limit,
)

import gevent
from gevent import socket
from gevent.server import StreamServer

MODE = sys.argv[1] if len(sys.argv) > 1 else "minimal_keepalive"
assert MODE in MINIMAL_MODES, MODE


class Exchange:
    """httptools callbacks: collect the responses owed for the requests parsed so far."""

    __slots__ = ("parser", "responses", "close")

    def __init__(self) -> None:
        self.parser = httptools.HttpRequestParser(self)
        self.responses: list[bytes] = []
        self.close = False

    def on_message_complete(self) -> None:
        if self.parser.should_keep_alive():
            self.responses.append(HELLO_RESPONSE)
        else:
            self.responses.append(HELLO_RESPONSE_CLOSE)
            self.close = True


def handle(sock, address) -> None:
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    exchange = Exchange()
    feed = exchange.parser.feed_data
    responses = exchange.responses
    recv = sock.recv
    sendall = sock.sendall
    try:
        while not exchange.close:
            data = recv(65536)
            if not data:
                break
            feed(data)
            if responses:
                sendall(responses[0] if len(responses) == 1 else b"".join(responses))
                responses.clear()
    except (httptools.HttpParserError, ConnectionError):
        pass  # a broken client: drop the connection, as any server would
    finally:
        sock.close()


raise_fd_limit(20_000)
listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.bind((LOOPBACK, 0))
listener.listen(4096)
server = StreamServer(listener, handle)
server.start()

result: dict = {}
driver = threading.Thread(
    target=drive_http_load, args=(MODE, listener.getsockname()[1], result), daemon=True
)
driver.start()
while driver.is_alive():
    gevent.sleep(0.05)
server.stop(timeout=1)
if "error" in result:
    sys.exit(result["error"])
emit(**result)
