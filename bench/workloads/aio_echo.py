"""Issues 12 and 13: ``echo_server.py`` in asyncio's idioms: an echo server and 100 client
connections on one event loop, 1000 round trips of 64 bytes each.

Argument: ``protocol`` (server and clients are ``asyncio.Protocol``s on
``loop.create_server`` / ``loop.create_connection``: the faster idiom, the one issue 13's
asyncio and uvloop columns use) or ``streams`` (``asyncio.start_server`` /
``asyncio.open_connection``, ``StreamReader.read`` and ``StreamWriter.write`` + ``drain``).
Runs on the loop ``BENCH_IMPL`` names: ``ours`` (``gevent.asyncio.run``), ``asyncio``,
``uvloop``. Metric: microseconds per round trip (all connections running at once).
"""

import asyncio
import sys

from benchlib import LOOPBACK, emit, now, run_async, scaled

IDIOM = sys.argv[1] if len(sys.argv) > 1 else "protocol"
assert IDIOM in ("protocol", "streams"), IDIOM
CONNECTIONS = 100
ROUND_TRIPS_EACH = scaled(1000)
MESSAGE = b"m" * 64


# --- streams -----------------------------------------------------------------------------


async def stream_echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    read = reader.read
    write = writer.write
    drain = writer.drain
    while True:
        data = await read(65536)
        if not data:
            break
        write(data)
        await drain()
    writer.close()


async def stream_client(address, count: int) -> None:
    reader, writer = await asyncio.open_connection(*address)
    read = reader.read
    write = writer.write
    drain = writer.drain
    size = len(MESSAGE)
    for _ in range(count):
        write(MESSAGE)
        await drain()
        received = 0
        while received < size:
            chunk = await read(size - received)
            if not chunk:
                raise ConnectionError("server closed the connection")
            received += len(chunk)
    writer.close()
    await writer.wait_closed()


# --- protocols ---------------------------------------------------------------------------


class EchoServerProtocol(asyncio.Protocol):
    def connection_made(self, transport) -> None:
        self.write = transport.write

    def data_received(self, data: bytes) -> None:
        self.write(data)


class EchoClientProtocol(asyncio.Protocol):
    """Sends MESSAGE, waits for all of it to come back, *count* times; then sets *done*."""

    def __init__(self, count: int, done: asyncio.Future) -> None:
        self.remaining = count
        self.done = done
        self.received = 0

    def connection_made(self, transport) -> None:
        self.transport = transport
        transport.write(MESSAGE)

    def data_received(self, data: bytes) -> None:
        self.received += len(data)
        if self.received < len(MESSAGE):
            return
        self.received = 0
        self.remaining -= 1
        if self.remaining:
            self.transport.write(MESSAGE)
        else:
            self.transport.close()
            self.done.set_result(None)

    def connection_lost(self, exc) -> None:
        if not self.done.done():
            self.done.set_exception(exc or ConnectionError("server closed the connection"))


async def protocol_client(address, count: int) -> None:
    loop = asyncio.get_running_loop()
    done = loop.create_future()
    await loop.create_connection(lambda: EchoClientProtocol(count, done), *address)
    await done


# --- the run -----------------------------------------------------------------------------


async def run(address, client, count: int) -> float:
    start = now()
    await asyncio.gather(*[client(address, count) for _ in range(CONNECTIONS)])
    return now() - start


async def main() -> float:
    if IDIOM == "streams":
        server = await asyncio.start_server(stream_echo, LOOPBACK, 0)
        client = stream_client
    else:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(EchoServerProtocol, LOOPBACK, 0)
        client = protocol_client
    address = server.sockets[0].getsockname()[:2]
    await run(address, client, 10)  # warm up
    elapsed = await run(address, client, ROUND_TRIPS_EACH)
    server.close()
    return elapsed


elapsed = run_async(main)
emit(us_per_round_trip=elapsed / (CONNECTIONS * ROUND_TRIPS_EACH) * 1e6)
