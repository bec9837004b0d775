"""Issue 13: the minimal HTTP/1.1 server of ``stream_http.py`` on asyncio: an
``asyncio.Protocol`` with the httptools parser, served by ``loop.create_server``; run on
stock asyncio (``BENCH_IMPL=asyncio``) or uvloop (``BENCH_IMPL=uvloop``). Loaded by wrk
exactly as ``stream_http.py`` is.

Argument: ``minimal_keepalive`` or ``minimal_close``.
"""

import asyncio
import sys

import httptools
from benchlib import (
    HELLO_RESPONSE,
    HELLO_RESPONSE_CLOSE,
    LOOPBACK,
    MINIMAL_MODES,
    drive_http_load,
    emit,
    raise_fd_limit,
    run_async,
)

MODE = sys.argv[1] if len(sys.argv) > 1 else "minimal_keepalive"
assert MODE in MINIMAL_MODES, MODE


class HelloProtocol(asyncio.Protocol):
    __slots__ = ("transport", "parser")

    def connection_made(self, transport) -> None:
        self.transport = transport
        self.parser = httptools.HttpRequestParser(self)

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            self.transport.close()

    def on_message_complete(self) -> None:
        if self.parser.should_keep_alive():
            self.transport.write(HELLO_RESPONSE)
        else:
            self.transport.write(HELLO_RESPONSE_CLOSE)
            self.transport.close()


async def main() -> dict:
    import socket

    raise_fd_limit(20_000)
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((LOOPBACK, 0))
    listener.listen(4096)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(HelloProtocol, sock=listener, backlog=4096)
    result: dict = {}
    await asyncio.to_thread(drive_http_load, MODE, listener.getsockname()[1], result)
    server.close()
    return result


result = run_async(main)
if "error" in result:
    sys.exit(result["error"])
emit(**result)
