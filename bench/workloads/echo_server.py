"""Issue 4: a ``StreamServer`` echo server; 100 client connections in the same process each
make 1000 round trips of 64 bytes.

Metric: microseconds per round trip (all connections running at once).
"""

from benchlib import LOOPBACK, emit, now, scaled

import gevent
from gevent import socket
from gevent.server import StreamServer

CONNECTIONS = 100
ROUND_TRIPS_EACH = scaled(1000)
MESSAGE = b"m" * 64


def echo(sock, address) -> None:
    recv = sock.recv
    sendall = sock.sendall
    while True:
        data = recv(65536)
        if not data:
            break
        sendall(data)


def client(address, count: int) -> None:
    with socket.create_connection(address) as sock:
        recv = sock.recv
        sendall = sock.sendall
        size = len(MESSAGE)
        for _ in range(count):
            sendall(MESSAGE)
            received = 0
            while received < size:
                chunk = recv(size - received)
                if not chunk:
                    raise ConnectionError("server closed the connection")
                received += len(chunk)


def run(address, count: int) -> float:
    start = now()
    clients = [gevent.spawn(client, address, count) for _ in range(CONNECTIONS)]
    gevent.joinall(clients, raise_error=True)
    return now() - start


server = StreamServer((LOOPBACK, 0), echo)
server.start()
address = (LOOPBACK, server.server_port)
run(address, 10)  # warm up
elapsed = run(address, ROUND_TRIPS_EACH)
server.stop()
emit(us_per_round_trip=elapsed / (CONNECTIONS * ROUND_TRIPS_EACH) * 1e6)
