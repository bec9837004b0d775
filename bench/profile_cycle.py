"""Issue 13: the server side of one connection, alone, for profilers (cProfile, strace -c).

``python bench/profile_cycle.py MODE COUNT`` serves on 127.0.0.1 with a ``StreamServer``
(the minimal httptools server of ``workloads/stream_http.py``, or an echo server) and drives
it from a client in another process that makes COUNT sequential exchanges: ``close`` (connect,
one ``Connection: close`` request, read to EOF, close), ``keepalive`` (COUNT requests on one
connection) or ``echo`` (COUNT round trips of 64 B on one connection). One client at a time:
every exchange goes through a full wait, with nothing to amortise it over, so the server's
CPU time per exchange is the per-connection or per-operation cost. Prints that (µs, user +
system) to stderr. Runs on whichever gevent imports (``PYTHONPATH=src`` for ours).

    strace -f -c -o /tmp/ours.strace env PYTHONPATH=src .venv/bin/python \\
        bench/profile_cycle.py close 2000
    PYTHONPATH=src .venv/bin/python -m cProfile -s tottime bench/profile_cycle.py close 2000
"""

import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "workloads"))

MODE = sys.argv[1]
COUNT = int(sys.argv[2])
CLIENT = r"""
import socket, sys
mode, port, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
address = ("127.0.0.1", port)
close = b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
keep = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"
if mode == "close":
    for _ in range(count):
        s = socket.create_connection(address)
        s.sendall(close)
        while s.recv(4096):
            pass
        s.close()
else:
    s = socket.create_connection(address)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    message = keep if mode == "keepalive" else b"m" * 64
    for _ in range(count):
        s.sendall(message)
        data = s.recv(4096)
        if not data:
            raise SystemExit("server closed")
    s.close()
"""


def main() -> None:
    import httptools
    from benchlib import HELLO_RESPONSE, HELLO_RESPONSE_CLOSE

    from gevent import socket
    from gevent.event import Event
    from gevent.server import StreamServer

    done = Event()
    served = [0]

    class Exchange:
        __slots__ = ("parser", "responses", "close")

        def __init__(self):
            self.parser = httptools.HttpRequestParser(self)
            self.responses = []
            self.close = False

        def on_message_complete(self):
            if self.parser.should_keep_alive():
                self.responses.append(HELLO_RESPONSE)
            else:
                self.responses.append(HELLO_RESPONSE_CLOSE)
                self.close = True
            served[0] += 1

    def http(sock, address):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        exchange = Exchange()
        try:
            while not exchange.close:
                data = sock.recv(65536)
                if not data:
                    break
                exchange.parser.feed_data(data)
                if exchange.responses:
                    sock.sendall(b"".join(exchange.responses))
                    exchange.responses.clear()
        finally:
            sock.close()
            if served[0] >= COUNT:
                done.set()

    def echo(sock, address):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        while True:
            data = sock.recv(65536)
            if not data:
                break
            sock.sendall(data)
        sock.close()
        done.set()

    server = StreamServer(("127.0.0.1", 0), echo if MODE == "echo" else http)
    server.start()
    client = subprocess.Popen(
        [sys.executable, "-c", CLIENT, MODE, str(server.server_port), str(COUNT)]
    )
    cpu = time.process_time()
    done.wait(120)
    cpu = time.process_time() - cpu
    server.stop()
    client.wait(10)
    sys.stderr.write(f"{MODE}: {cpu / COUNT * 1e6:.1f} us of server CPU per exchange\n")


main()
