"""Servers for the downstream tests, and a way to run client code in a patched interpreter.

The test process itself is never monkey-patched: each client scenario runs in a fresh
interpreter that calls ``patch_all()`` first, and talks to servers this process starts on
127.0.0.1 (a slow HTTP server in a native thread, redis-server and PostgreSQL from Debian's
packages, installed with apt-get when missing, in temporary directories).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"
_apt_updated = False


def run_patched(code: str, timeout: float = 60, env: dict[str, str] | None = None):
    """Run *code* (dedented) in a fresh interpreter after ``patch_all()``; it must print OK."""
    prelude = "from gevent import monkey; monkey.patch_all()\n"
    child_env = dict(os.environ)
    child_env["PYTHONPATH"] = os.pathsep.join(
        [str(SRC)] + [p for p in child_env.get("PYTHONPATH", "").split(os.pathsep) if p])
    child_env.update(env or {})
    proc = subprocess.run([sys.executable, "-c", prelude + textwrap.dedent(code)],
                          capture_output=True, text=True, timeout=timeout, env=child_env)
    lines = proc.stdout.strip().splitlines()
    assert proc.returncode == 0 and lines and lines[-1] == "OK", (
        f"exit {proc.returncode}\n--- stdout\n{proc.stdout}\n--- stderr\n{proc.stderr}")
    return proc


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_port(port: int, timeout: float, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with status {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listening on 127.0.0.1:{port} after {timeout} s")


def _ensure_debian_package(executable: str, package: str, search: list[str]) -> str:
    """Path of *executable*, installing *package* with apt-get if needed; skip if impossible."""
    global _apt_updated
    for candidate in [shutil.which(executable), *search]:
        if candidate and os.path.exists(candidate):
            return candidate
    if shutil.which("apt-get") is None or os.geteuid() != 0:
        pytest.skip(f"{executable} is not installed and apt-get is not usable here "
                    f"(install the Debian package {package!r} to run this test)")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    if not _apt_updated:
        subprocess.run(["apt-get", "update", "-qq"], capture_output=True, env=env, timeout=600)
        _apt_updated = True
    proc = subprocess.run(["apt-get", "install", "-y", "-qq", package], capture_output=True,
                          text=True, env=env, timeout=900)
    for candidate in [shutil.which(executable), *search]:
        if candidate and os.path.exists(candidate):
            return candidate
    pytest.skip(f"could not install {package!r} with apt-get: {proc.stderr[-500:]}")


# -- a slow HTTP server ----------------------------------------------------------------------

SLOW_SECONDS = 0.5


class _SlowHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):  # noqa: N802 (the http.server API)
        time.sleep(SLOW_SECONDS)
        body = f"path={self.path}".encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args):
        pass  # keep the test output clean


class _SlowServer(ThreadingHTTPServer):
    # socketserver's default backlog of 5 drops the SYNs of a burst of concurrent clients,
    # which then retry a second later.
    request_queue_size = 256


@pytest.fixture(scope="module")
def slow_http_server():
    """URL of a server answering every GET after SLOW_SECONDS, many at a time."""
    server = _SlowServer(("127.0.0.1", 0), _SlowHandler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join(5)


# -- redis-server ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def redis_port():
    """Port of a private redis-server (no persistence) running in a temporary directory."""
    executable = _ensure_debian_package("redis-server", "redis-server", ["/usr/bin/redis-server"])
    port = _free_port()
    with tempfile.TemporaryDirectory() as workdir:
        proc = subprocess.Popen(
            [executable, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", workdir, "--daemonize", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            _wait_port(port, 20, proc)
            yield port
        finally:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)


# -- PostgreSQL ------------------------------------------------------------------------------


def _pg_bin(name: str) -> str:
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
    return _ensure_debian_package(name, "postgresql", [str(v / name) for v in versions])


@pytest.fixture(scope="module")
def postgres_dsn():
    """DSN of a private PostgreSQL (initdb + pg_ctl in a temporary directory, trust auth)."""
    initdb = _pg_bin("initdb")
    pg_ctl = _pg_bin("pg_ctl")
    as_user: list[str] = []
    if os.geteuid() == 0:
        # PostgreSQL refuses to run as root: use the account the Debian package creates.
        import pwd

        try:
            pw = pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root and there is no 'postgres' account to run PostgreSQL")
        runuser = shutil.which("runuser")
        if runuser is None:
            pytest.skip("running as root without runuser to switch to the postgres account")
        as_user = [runuser, "-u", "postgres", "--"]
    port = _free_port()
    workdir = tempfile.mkdtemp(prefix="gevent-pg-")
    data = os.path.join(workdir, "data")
    if as_user:
        os.chown(workdir, pw.pw_uid, pw.pw_gid)
    try:
        subprocess.run(as_user + [initdb, "-D", data, "-A", "trust", "-U", "postgres",
                                  "--no-sync"], check=True, capture_output=True, timeout=120)
        options = f"-h 127.0.0.1 -p {port} -k {workdir} -c fsync=off"
        subprocess.run(as_user + [pg_ctl, "-D", data, "-o", options, "-l",
                                  os.path.join(workdir, "log"), "-w", "-t", "60", "start"],
                       check=True, capture_output=True, timeout=120)
        try:
            _wait_port(port, 30)
            yield f"host=127.0.0.1 port={port} user=postgres dbname=postgres"
        finally:
            subprocess.run(as_user + [pg_ctl, "-D", data, "-m", "immediate", "-w", "stop"],
                           capture_output=True, timeout=120)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
