"""Helpers shared by the workload scripts (stdlib only, no gevent import).

Each workload script runs unchanged on our gevent and on the reference gevent: it uses
only the public gevent API, sizes itself with ``scaled()`` and prints exactly one JSON line
through ``emit()``. The runner (``bench/run.py``) passes ``BENCH_IMPL`` (``ours``, ``ref``,
``asyncio``, ``uvloop`` or ``uvicorn``), ``BENCH_SCALE`` (1.0, or 0.1 with ``--quick``) and
``BENCH_DIR`` (``.bench``).
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time

IMPL = os.environ.get("BENCH_IMPL", "ours")
SCALE = float(os.environ.get("BENCH_SCALE", "1"))
BENCH_DIR = os.environ.get("BENCH_DIR", ".bench")
LOOPBACK = "127.0.0.1"

now = time.perf_counter


def scaled(count: int, minimum: int = 1) -> int:
    """*count* shrunk by the run's scale factor (``--quick`` is 0.1)."""
    return max(minimum, int(count * SCALE))


def run_async(main):
    """Run the coroutine function *main* to completion on this run's asyncio loop.

    ``ours``: ``gevent.asyncio.run`` (our gevent's asyncio loop on the hub, issue 12);
    ``uvloop``: ``uvloop.run``; anything else: the stdlib's ``asyncio.run``.
    """
    if IMPL == "ours":
        import gevent.asyncio

        return gevent.asyncio.run(main())
    if IMPL == "uvloop":
        import uvloop

        return uvloop.run(main())
    import asyncio

    return asyncio.run(main())


def emit(**metrics: float) -> None:
    """Print the run's metrics as the one JSON line the runner reads."""
    sys.stdout.write(json.dumps(metrics) + "\n")
    sys.stdout.flush()


def rss_bytes(pid: int | str = "self") -> int:
    """Resident set size of a process, from /proc/<pid>/statm."""
    with open(f"/proc/{pid}/statm") as statm:
        resident_pages = int(statm.read().split()[1])
    return resident_pages * os.sysconf("SC_PAGE_SIZE")


def raise_fd_limit(wanted: int) -> None:
    """Raise RLIMIT_NOFILE towards *wanted* (never above the hard limit)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY:
        wanted = min(wanted, hard)
    if soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))


def ensure_certificate(directory: str = BENCH_DIR) -> tuple[str, str]:
    """A self-signed certificate and key for ``localhost`` in *directory*, made once.

    Uses the ``openssl`` command line tool, or the ``cryptography`` package when the tool
    is missing. Returns ``(certfile, keyfile)``.
    """
    certfile = os.path.join(directory, "cert.pem")
    keyfile = os.path.join(directory, "key.pem")
    if os.path.exists(certfile) and os.path.exists(keyfile):
        return certfile, keyfile
    os.makedirs(directory, exist_ok=True)
    import shutil
    import subprocess

    if shutil.which("openssl"):
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "365",
             "-subj", "/CN=localhost", "-keyout", keyfile, "-out", certfile],
            check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        return certfile, keyfile
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    start = datetime.datetime.now(datetime.timezone.utc)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start - datetime.timedelta(days=1))
        .not_valid_after(start + datetime.timedelta(days=365))
        .sign(key, hashes.SHA256())
    )
    with open(keyfile, "wb") as out:
        out.write(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
    with open(certfile, "wb") as out:
        out.write(certificate.public_bytes(serialization.Encoding.PEM))
    return certfile, keyfile


# --- HTTP workloads --------------------------------------------------------------------
# The server scripts (wsgi_server.py on gevent, asgi_server.py on uvicorn) serve the same
# application and hand the blocking part (warm-up, wrk or the idle-connection client, RSS
# readings) to ``drive_http_load`` in a plain thread, so the load always comes from another
# process and the server's event loop never blocks on it.

HTTP_MODES = (
    "hello_keepalive", "hello_close", "big_response", "big_post", "idle",
    "latency_c50", "latency_c1000",
)  # fmt: skip
# The minimal servers (stream_http.py, aio_http.py) answer every request with HELLO_BODY.
MINIMAL_MODES = ("minimal_keepalive", "minimal_close")
LATENCY_CONNECTIONS = {"latency_c50": 50, "latency_c1000": 1000}
HELLO_BODY = b"Hello, World!\n"
HELLO_RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n%s" % (
    len(HELLO_BODY),
    HELLO_BODY,
)
HELLO_RESPONSE_CLOSE = HELLO_RESPONSE.replace(b"\r\n\r\n", b"\r\nConnection: close\r\n\r\n", 1)
BIG_SIZE = 1024 * 1024
HERE = os.path.dirname(os.path.abspath(__file__))


def http_body_for(method: str, path: str, received: int) -> bytes:
    """What the benchmark application answers (shared by the WSGI and the ASGI app)."""
    if method == "POST":
        return b"received %d bytes\n" % received
    if path == "/big":
        return BIG_BODY
    return HELLO_BODY


BIG_BODY = b"b" * BIG_SIZE


def _wrk_command(mode: str, port: int) -> list[str]:
    import shutil

    wrk = shutil.which("wrk")
    if wrk is None:
        raise RuntimeError("wrk is not installed (apt-get install -y wrk)")
    seconds = max(1, round(3 * SCALE))
    if mode in LATENCY_CONNECTIONS:
        # wrk's default 2 s timeout: a request slower than that counts as a timeout.
        connections = LATENCY_CONNECTIONS[mode]
        seconds = max(2, round(5 * SCALE))
        return [wrk, "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "2s",
                "--latency", f"http://{LOOPBACK}:{port}/"]  # fmt: skip
    command = [wrk, "-t1", "-c50", f"-d{seconds}s", "--timeout", "5s"]
    path = "/"
    if mode in ("hello_close", "minimal_close"):
        command += ["-H", "Connection: close"]
    elif mode == "big_response":
        path = "/big"
    elif mode == "big_post":
        script = os.path.join(BENCH_DIR, "post_1mib.lua")
        with open(script, "w") as out:
            out.write(
                'wrk.method = "POST"\n'
                f'wrk.body = string.rep("p", {BIG_SIZE})\n'
                'wrk.headers["Content-Type"] = "application/octet-stream"\n'
            )
        command += ["-s", script]
    return command + [f"http://{LOOPBACK}:{port}{path}"]


def _parse_wrk(output: str) -> dict[str, float]:
    import re

    match = re.search(r"^Requests/sec:\s*([\d.]+)", output, re.MULTILINE)
    if match is None:
        raise RuntimeError("wrk printed no Requests/sec: " + output.strip()[-300:])
    total = re.search(r"^\s*(\d+) requests in", output, re.MULTILINE)
    if total is None:
        raise RuntimeError("wrk printed no request count: " + output.strip()[-300:])
    metrics = {
        "req_per_s": float(match.group(1)),
        "requests": int(total.group(1)),
        "wrk_errors": 0,
        "wrk_read_errors": 0,
    }
    socket_errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    if socket_errors:
        connect, read, write, timeout = (int(count) for count in socket_errors.groups())
        # wrk counts a server's close after a "Connection: close" response as a read error.
        metrics["wrk_read_errors"] = read
        metrics["wrk_errors"] += connect + write + timeout
        metrics["wrk_timeouts"] = timeout
    else:
        metrics["wrk_timeouts"] = 0
    # With --latency: "Latency Distribution" then lines such as "     99%   12.34ms".
    for percent, value, unit in re.findall(r"^\s*(50|99)%\s+([\d.]+)(us|ms|s)\s*$", output,
                                           re.MULTILINE):  # fmt: skip
        scale = {"us": 1e-3, "ms": 1.0, "s": 1e3}[unit]
        metrics[f"p{percent}_ms"] = float(value) * scale
    bad_status = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    if bad_status:
        metrics["wrk_errors"] += int(bad_status.group(1))
    return metrics


def _warm_up(port: int, requests: int = 20, minimal: bool = False) -> None:
    import http.client

    connection = http.client.HTTPConnection(LOOPBACK, port, timeout=10)
    for _ in range(requests):
        connection.request("GET", "/")
        response = connection.getresponse()
        if response.read() != HELLO_BODY:
            raise RuntimeError("unexpected warm-up response")
    if minimal:  # the minimal servers answer hello to everything
        connection.close()
        return
    connection.request("GET", "/big")
    if len(connection.getresponse().read()) != BIG_SIZE:
        raise RuntimeError("unexpected /big response")
    connection.request("POST", "/", body=b"w" * 1000)
    connection.getresponse().read()
    connection.close()


def _measure_idle(port: int) -> dict[str, float]:
    import gc
    import subprocess
    import tempfile

    connections = scaled(10_000)
    ready_file = tempfile.mktemp(prefix="idle-ready-", dir=BENCH_DIR)
    gc.collect()
    before = rss_bytes()
    client = subprocess.Popen(
        [sys.executable, os.path.join(HERE, "idle_clients.py"), str(port), str(connections),
         ready_file]
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while not os.path.exists(ready_file):
            if client.poll() is not None:
                raise RuntimeError(f"idle client exited with status {client.returncode}")
            if time.monotonic() > deadline:
                raise RuntimeError("idle client not ready after 60 s")
            time.sleep(0.02)
        time.sleep(0.2)  # let the server park every connection after its response
        after = rss_bytes()
    finally:
        client.terminate()
        client.wait(10)
        if os.path.exists(ready_file):
            os.unlink(ready_file)
    return {"bytes_per_connection": (after - before) / connections, "connections": connections}


def drive_http_load(mode: str, port: int, result: dict) -> None:
    """Warm the server up, load it as *mode* says, and put the metrics in *result*.

    Runs in a plain thread; sets ``result["error"]`` instead of raising. The wrk process
    inherits this process's open-file limit (``raise_fd_limit`` first for 1000 connections).
    """
    import subprocess

    try:
        _warm_up(port, minimal=mode in MINIMAL_MODES)
        if mode == "idle":
            result.update(_measure_idle(port))
            return
        cpu_before = time.process_time()
        completed = subprocess.run(
            _wrk_command(mode, port), capture_output=True, text=True, timeout=60
        )
        cpu = time.process_time() - cpu_before
        if completed.returncode != 0:
            raise RuntimeError("wrk failed: " + (completed.stderr or completed.stdout).strip())
        metrics = _parse_wrk(completed.stdout)
        # The server process's own CPU time per request (this thread only waits on wrk):
        # what the server costs, whichever side of the loopback is the bottleneck.
        metrics["server_cpu_us_per_req"] = cpu / metrics["requests"] * 1e6
        result.update(metrics)
    except BaseException as error:  # reported by the server script, which exits non-zero
        result["error"] = f"{type(error).__name__}: {error}"
