"""Issue 6, extra reference: uvicorn (httptools, uvloop) serving the benchmark application
as ASGI, loaded exactly as ``wsgi_server.py`` is. Runs in the ``.bench/uvicorn`` virtualenv.

Argument: the mode (see ``wsgi_server.py``). Access logging is off.
"""

import socket
import sys
import threading

import uvicorn
from benchlib import HTTP_MODES, LOOPBACK, drive_http_load, emit, http_body_for, raise_fd_limit

MODE = sys.argv[1] if len(sys.argv) > 1 else "hello_keepalive"
assert MODE in HTTP_MODES, MODE


async def application(scope, receive, send):
    if scope["type"] != "http":
        return
    received = 0
    if scope["method"] == "POST":
        more_body = True
        while more_body:
            message = await receive()
            received += len(message.get("body", b""))
            more_body = message.get("more_body", False)
    body = http_body_for(scope["method"], scope["path"], received)
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"text/plain"), (b"content-length", b"%d" % len(body))],
        }
    )
    await send({"type": "http.response.body", "body": body})


raise_fd_limit(20_000)
listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.bind((LOOPBACK, 0))
listener.listen(4096)
config = uvicorn.Config(
    application,
    loop="uvloop",
    http="httptools",
    lifespan="off",
    access_log=False,
    log_level="warning",
    timeout_keep_alive=300,
    backlog=4096,
)
server = uvicorn.Server(config)
result: dict = {}


def drive() -> None:
    import time

    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.01)
    try:
        drive_http_load(MODE, listener.getsockname()[1], result)
    finally:
        server.should_exit = True


driver = threading.Thread(target=drive, daemon=True)
driver.start()
server.run(sockets=[listener])
driver.join(60)
if "error" in result:
    sys.exit(result["error"])
emit(**result)
