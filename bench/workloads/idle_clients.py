"""Client side of the idle keep-alive workload (stdlib only, run as a separate process).

Usage: idle_clients.py PORT COUNT READY_FILE. Opens COUNT connections to 127.0.0.1:PORT,
sends one keep-alive request on each, reads every response, creates READY_FILE and then
holds the connections open until it is terminated.
"""

import os
import selectors
import signal
import socket
import sys

from benchlib import LOOPBACK, raise_fd_limit

port, count, ready_file = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
raise_fd_limit(count + 100)
request = f"GET / HTTP/1.1\r\nHost: {LOOPBACK}:{port}\r\n\r\n".encode()

connections = []
selector = selectors.DefaultSelector()
pending: dict[socket.socket, bytes] = {}
for _ in range(count):
    sock = socket.create_connection((LOOPBACK, port), timeout=30)
    sock.sendall(request)
    sock.setblocking(False)
    connections.append(sock)
    pending[sock] = b""
    selector.register(sock, selectors.EVENT_READ)
    # Read what has already arrived, so the kernel buffers stay small.
    for key, _ in selector.select(0):
        pending[key.fileobj] += key.fileobj.recv(65536)


def complete(data: bytes) -> bool:
    head, separator, body = data.partition(b"\r\n\r\n")
    if not separator:
        return False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return len(body) >= int(value)
    raise RuntimeError("response without Content-Length: " + head.decode("latin-1"))


waiting = {sock for sock, data in pending.items() if not complete(data)}
for sock in set(pending) - waiting:
    selector.unregister(sock)
while waiting:
    events = selector.select(30)
    if not events:
        raise RuntimeError(f"{len(waiting)} responses missing after 30 s")
    for key, _ in events:
        sock = key.fileobj
        data = sock.recv(65536)
        if not data:
            raise RuntimeError("server closed an idle keep-alive connection")
        pending[sock] += data
        if complete(pending[sock]):
            selector.unregister(sock)
            waiting.discard(sock)

with open(ready_file, "w") as ready:
    ready.write(str(len(connections)))
signal.signal(signal.SIGTERM, lambda signum, frame: os._exit(0))
while True:
    signal.pause()
