"""Issue 6: ``gevent.pywsgi.WSGIServer`` serving a small WSGI application, loaded from
another process.

Argument: the mode, one of hello_keepalive, hello_close (``Connection: close``),
big_response (1 MiB body), big_post (1 MiB request body), all loaded by ``wrk`` with 50
connections; or idle (10k idle keep-alive connections held by ``idle_clients.py``).
Metrics: requests per second, or bytes of server RSS per idle connection.

Access logging is off on every server. On the reference (``BENCH_IMPL=ref``) accepted
sockets get TCP_NODELAY, without which its pywsgi stalls on delayed ACKs.
"""

import sys
import threading

from benchlib import (
    HTTP_MODES,
    IMPL,
    LOOPBACK,
    drive_http_load,
    emit,
    http_body_for,
    raise_fd_limit,
)

import gevent
from gevent import socket
from gevent.pywsgi import WSGIServer

MODE = sys.argv[1] if len(sys.argv) > 1 else "hello_keepalive"
assert MODE in HTTP_MODES, MODE


def application(environ, start_response):
    received = 0
    if environ["REQUEST_METHOD"] == "POST":
        received = len(environ["wsgi.input"].read())
    body = http_body_for(environ["REQUEST_METHOD"], environ["PATH_INFO"], received)
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]


class NoDelayWSGIServer(WSGIServer):
    def handle(self, sock, address):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return super().handle(sock, address)


raise_fd_limit(20_000)
listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.bind((LOOPBACK, 0))
listener.listen(4096)
server_class = NoDelayWSGIServer if IMPL == "ref" else WSGIServer
server = server_class(listener, application, log=None)
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
