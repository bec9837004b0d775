"""An interactive Python console served over TCP, for inspecting a running process.

``BackdoorServer(("127.0.0.1", 5001), locals={"app": app}).serve_forever()``, then
``nc 127.0.0.1 5001``. Each connection runs its own :class:`code.InteractiveConsole` in its
own greenlet with its own namespace (a copy of *locals*); reading input waits cooperatively,
so the console never blocks the hub. Anyone who can connect runs code in the process: listen
on localhost only.

While a console runs code, ``print`` and tracebacks must reach *its* socket and nobody
else's: ``sys.stdout``/``sys.stderr``/``sys.stdin`` are replaced (while any console is open)
by proxies that send to the console of the greenlet that writes, and to the real stream
otherwise.
"""

from __future__ import annotations

import builtins
import code
import sys
from typing import Any

from greenlet import getcurrent

from gevent.server import StreamServer

__all__ = ["BackdoorServer"]


class _StreamProxy:
    """Stands in for ``sys.stdout``/``sys.stderr``/``sys.stdin`` while consoles are open."""

    def __init__(self, name: str, original: Any) -> None:
        self._name = name
        self._original = original

    def _target(self) -> Any:
        console = _consoles.get(getcurrent())
        if console is None:
            return self._original
        return console

    def write(self, data: str) -> Any:
        return self._target().write(data)

    def readline(self, size: int = -1) -> str:
        return self._target().readline(size)

    def flush(self) -> None:
        target = self._target()
        if target is self._original:
            target.flush()

    def close(self) -> None:
        # exit() closes sys.stdin before raising SystemExit: from a console, that must not
        # close the process's real stdin.
        target = self._target()
        if target is self._original:
            target.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._original, name)


_consoles: dict[Any, _SocketConsole] = {}
_STREAMS = ("stdin", "stdout", "stderr")


def _install_proxies() -> None:
    for name in _STREAMS:
        current = getattr(sys, name)
        if not isinstance(current, _StreamProxy):
            setattr(sys, name, _StreamProxy(name, current))


def _remove_proxies() -> None:
    if _consoles:
        return
    for name in _STREAMS:
        current = getattr(sys, name)
        if isinstance(current, _StreamProxy):
            setattr(sys, name, current._original)


class _SocketConsole(code.InteractiveConsole):
    """An InteractiveConsole that reads lines from, and writes to, a socket."""

    def __init__(self, sock: Any, namespace: dict[str, Any]) -> None:
        super().__init__(namespace)
        self._sock = sock
        self._buffer = b""

    def write(self, data: str) -> None:  # type: ignore[override]
        if data:
            self._sock.sendall(data.replace("\n", "\r\n").encode("utf-8", "replace"))

    def flush(self) -> None:
        """Everything is sent as it is written."""

    def readline(self, size: int = -1) -> str:
        while b"\n" not in self._buffer:
            data = self._sock.recv(4096)
            if not data:
                line, self._buffer = self._buffer, b""
                return line.decode("utf-8", "replace")
            self._buffer += data
        line, _, self._buffer = self._buffer.partition(b"\n")
        return (line + b"\n").decode("utf-8", "replace")

    def raw_input(self, prompt: str = "") -> str:
        self.write(prompt)
        line = self.readline()
        if not line:
            raise EOFError
        return line.rstrip("\r\n")


class BackdoorServer(StreamServer):
    """A :class:`~gevent.server.StreamServer` serving an interactive console.

    *locals* seeds every connection's namespace (each gets its own copy); *banner* is
    printed first (by default the Python version). Extra keyword arguments go to
    :class:`~gevent.server.StreamServer` (``spawn``, ``backlog``, SSL arguments).
    """

    def __init__(self, listener: Any, locals: dict[str, Any] | None = None,
                 banner: str | None = None, **server_args: Any) -> None:
        StreamServer.__init__(self, listener, spawn=server_args.pop("spawn", "default"),
                              **server_args)
        self.locals = locals
        self.banner = banner

    def _create_interactive_locals(self) -> dict[str, Any]:
        namespace: dict[str, Any] = {"__builtins__": builtins, "__name__": "__console__",
                                     "__doc__": None}
        if self.locals:
            namespace.update(self.locals)
        return namespace

    def handle(self, conn: Any, address: Any) -> None:
        """Run one console session on *conn* until the client leaves or calls ``exit()``."""
        console = _SocketConsole(conn, self._create_interactive_locals())
        current = getcurrent()
        _consoles[current] = console
        _install_proxies()
        try:
            banner = self.banner
            if banner is None:
                banner = (f"Python {sys.version} on {sys.platform}\n"
                          "(gevent backdoor: exit() or Ctrl-D to leave)")
            console.interact(banner=banner, exitmsg="")
        except (SystemExit, EOFError):
            pass
        except OSError:  # the client went away mid-write: the session is over
            pass
        finally:
            _consoles.pop(current, None)
            _remove_proxies()
            try:
                conn.close()
            except OSError:  # already closed by the peer
                pass
