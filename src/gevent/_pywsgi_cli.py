"""``python -m gevent.pywsgi``: serve a WSGI application, optionally with pre-forked workers.

Theory of operation. With one worker (the default) the process serves by itself. With
``--workers N`` the parent never starts a hub: it binds the address, forks N children and
supervises them with plain ``os.waitpid``. Each child listens on its own ``SO_REUSEPORT``
socket where the system has it (the kernel spreads connections evenly) or else on the
parent's socket, inherited across fork. A child that dies is replaced (with a pause if
children keep dying at once, so a broken application does not fork-bomb). SIGTERM or SIGINT
to the parent is passed to every child, which stops gracefully (``server.stop(timeout)``:
requests in flight finish, idle keep-alive connections close); children still alive after
the grace period are killed.
"""

from __future__ import annotations

import argparse
import importlib
import os
import signal
import socket
import sys
import time
from typing import Any

__all__ = ["main"]

_GRACE = 10.0
_RESTART_PAUSE = 1.0


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m gevent.pywsgi",
        description="Serve a WSGI application with gevent.pywsgi.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port to bind (default 8000)")
    parser.add_argument("--workers", type=int, default=1,
                        help="number of worker processes (default 1: serve in this process)")
    parser.add_argument("--certfile", help="TLS certificate (PEM)")
    parser.add_argument("--keyfile", help="TLS private key (PEM)")
    parser.add_argument("--no-access-log", action="store_true", help="do not log requests")
    parser.add_argument("--graceful-timeout", type=float, default=_GRACE,
                        help="seconds requests may take to finish on shutdown (default 10)")
    parser.add_argument("app", help="the application, as module:attribute (module.sub:app)")
    args = parser.parse_args(argv)
    if args.workers < 1:
        parser.error("--workers must be at least 1")
    if bool(args.certfile) != bool(args.keyfile):
        parser.error("--certfile and --keyfile go together")
    if ":" not in args.app:
        parser.error("the application must be given as module:attribute")
    return args


def load_application(spec: str) -> Any:
    """Import ``module:attribute`` (the attribute may be dotted), with the current directory
    importable as ``python -m`` users expect."""
    if "" not in sys.path and os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    module_name, _, attribute = spec.partition(":")
    target: Any = importlib.import_module(module_name)
    for part in attribute.split("."):
        target = getattr(target, part)
    if not callable(target):
        raise TypeError(f"{spec} is not callable")
    return target


def _bind(host: str, port: int, reuse_port: bool) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if reuse_port:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
    except BaseException:
        sock.close()
        raise
    return sock


def _serve(listener: socket.socket, application: Any, args: argparse.Namespace,
           worker: int | None) -> int:
    """Serve on *listener* in this process until SIGTERM/SIGINT."""
    from gevent import socket as green_socket
    from gevent.hub import signal_handler
    from gevent.pywsgi import WSGIServer

    green = green_socket.socket(listener.family, listener.type, listener.proto,
                                fileno=listener.detach())
    ssl_args = {}
    if args.certfile:
        ssl_args = {"certfile": args.certfile, "keyfile": args.keyfile}
    server = WSGIServer(green, application, log=None if args.no_access_log else "default",
                        **ssl_args)
    stopping: list[bool] = []

    def stop() -> None:
        if not stopping:
            stopping.append(True)
            server.stop(timeout=args.graceful_timeout)

    handlers = [signal_handler(signal.SIGTERM, stop), signal_handler(signal.SIGINT, stop)]
    if worker is not None:
        from gevent import spawn

        spawn(_watch_parent, os.getppid(), stop)
    scheme = "https" if ssl_args else "http"
    host, port = server.address[:2]
    who = f"worker {worker} (pid {os.getpid()})" if worker is not None else f"pid {os.getpid()}"
    # One write for the whole line: workers share stderr, and print() writes the text and
    # the newline separately, so two workers starting together interleaved their lines.
    sys.stderr.write(f"gevent.pywsgi: {who} serving {args.app} on {scheme}://{host}:{port}\n")
    sys.stderr.flush()
    try:
        server.serve_forever(stop_timeout=args.graceful_timeout)
    finally:
        for handler in handlers:
            handler.cancel()
    return 0


_CONTROL_SIGNALS = {signal.SIGTERM, signal.SIGINT, signal.SIGCHLD}


def _watch_parent(parent: int, stop: Any) -> None:
    """A worker whose supervisor died (SIGKILL, OOM) stops instead of serving forever."""
    from gevent import sleep

    while os.getppid() == parent:
        sleep(1.0)
    stop()


def _start_worker(number: int, shared: socket.socket | None, args: argparse.Namespace,
                  application: Any) -> int:
    pid = os.fork()
    if pid:
        return pid
    # The child: default dispositions, nothing blocked, its own listener; serve, never return.
    code = 1
    try:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, _CONTROL_SIGNALS)
        if shared is None:
            listener = _bind(args.host, args.port, reuse_port=True)
        else:
            listener = shared
        listener.listen(1024)
        code = _serve(listener, application, args, number)
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else 1
    except BaseException:
        import traceback

        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    raise AssertionError("unreachable")  # pragma: no cover


def _wait_for_signal(timeout: float) -> int | None:
    """The next control signal (they are blocked and taken synchronously), or None."""
    info = signal.sigtimedwait(_CONTROL_SIGNALS, timeout)
    return None if info is None else info.si_signo


def _reap() -> list[tuple[int, int]]:
    dead: list[tuple[int, int]] = []
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return dead
        if not pid:
            return dead
        dead.append((pid, status))


def _supervise(args: argparse.Namespace, application: Any) -> int:
    reuse_port = hasattr(socket, "SO_REUSEPORT")
    # The parent's socket reserves the port (and resolves port 0) for the workers.
    anchor = _bind(args.host, args.port, reuse_port)
    args.port = anchor.getsockname()[1]
    shared: socket.socket | None = None
    if not reuse_port:
        anchor.listen(1024)
        shared = anchor
    workers: dict[int, int] = {}
    # Signals are taken synchronously with sigtimedwait: no handler can interrupt a fork
    # half-way, and waitpid never sleeps through a SIGTERM (PEP 475 retries it).
    signal.pthread_sigmask(signal.SIG_BLOCK, _CONTROL_SIGNALS)
    try:
        for number in range(args.workers):
            workers[_start_worker(number, shared, args, application)] = number
        recent_deaths: list[float] = []
        while True:
            signum = _wait_for_signal(1.0)
            if signum in (signal.SIGTERM, signal.SIGINT):
                break
            for pid, status in _reap():
                if pid not in workers:
                    continue
                number = workers.pop(pid)
                sys.stderr.write(f"gevent.pywsgi: worker {number} (pid {pid}) exited with "
                                 f"status {status}; restarting\n")
                sys.stderr.flush()
                now = time.monotonic()
                recent_deaths = [t for t in recent_deaths if now - t < 1.0] + [now]
                if len(recent_deaths) > args.workers:
                    time.sleep(_RESTART_PAUSE)
                workers[_start_worker(number, shared, args, application)] = number
    finally:
        for pid in workers:
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + args.graceful_timeout + 1.0
        while workers and time.monotonic() < deadline:
            for pid, _ in _reap():
                workers.pop(pid, None)
            if workers:
                _wait_for_signal(0.05)
        for pid in workers:
            try:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
            except (ProcessLookupError, ChildProcessError):
                pass
        anchor.close()
        signal.pthread_sigmask(signal.SIG_UNBLOCK, _CONTROL_SIGNALS)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parse_args(argv)
    application = load_application(args.app)
    if args.workers == 1:
        listener = _bind(args.host, args.port, reuse_port=False)
        listener.listen(1024)
        return _serve(listener, application, args, None)
    return _supervise(args, application)
