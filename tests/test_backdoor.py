"""gevent.backdoor: an interactive console per connection, never blocking the hub."""

from __future__ import annotations

import sys

import gevent
from gevent import socket
from gevent.backdoor import BackdoorServer


class Console:
    def __init__(self, address):
        self.sock = socket.create_connection(address[:2])
        self.sock.settimeout(5)
        self.buffer = b""

    def read_prompt(self):
        while not self.buffer.endswith(b">>> "):
            data = self.sock.recv(4096)
            assert data, f"console closed; got {self.buffer!r}"
            self.buffer += data
        text, self.buffer = self.buffer[:-4], b""
        return text.decode()

    def run(self, line):
        self.sock.sendall(line.encode() + b"\n")
        return self.read_prompt().replace("\r\n", "\n")

    def close(self):
        self.sock.close()


def test_console_evaluates_prints_and_keeps_namespaces_apart():
    server = BackdoorServer(("127.0.0.1", 0), locals={"shared": 41}, banner="welcome")
    server.start()
    first, second = Console(server.address), Console(server.address)
    try:
        assert "welcome" in first.read_prompt()
        second.read_prompt()
        assert first.run("shared + 1") == "42\n"
        assert first.run("print('to', 'me')") == "to me\n"
        assert first.run("mine = 'first'") == ""
        assert "NameError" in second.run("mine")
        # The console waits cooperatively: other greenlets run meanwhile.
        ticks = []
        ticker = gevent.spawn(lambda: [ticks.append(gevent.sleep(0.01)) for _ in range(3)])
        assert second.run("import gevent; gevent.sleep(0.1)") == ""
        ticker.join(5)
        assert len(ticks) == 3
        assert "ZeroDivisionError" in second.run("1/0")
    finally:
        first.close()
        second.close()
        server.stop()
    assert not hasattr(sys.stdout, "_original"), "stdout proxy left installed"


def test_exit_and_default_banner():
    server = BackdoorServer(("127.0.0.1", 0))
    server.start()
    console = Console(server.address)
    try:
        assert "Python" in console.read_prompt()
        console.sock.sendall(b"exit()\n")
        data = b""
        while True:
            chunk = console.sock.recv(4096)
            if not chunk:
                break
            data += chunk
    finally:
        console.close()
        server.stop()
