"""gunicorn's gevent workers (``-k gevent`` and ``-k gevent_pywsgi``) on our gevent: 200
concurrent requests, a third of them sleeping 0.5 s, all complete in about a second."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

pytest.importorskip("gunicorn", reason="gunicorn is in the 'downstream' extra")
try:
    import gevent.monkey  # noqa: F401
    import gevent.pool  # noqa: F401
except ImportError as error:  # pragma: no cover - until the runtime has these modules
    pytest.skip(f"gunicorn's gevent workers need gevent.monkey and gevent.pool: {error}",
                allow_module_level=True)

sys.path.insert(0, str(__import__("pathlib").Path(__file__).parent.parent))

import gevent  # noqa: E402
from test_pywsgi import Client  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

APP = textwrap.dedent('''
    import time

    def app(environ, start_response):
        if environ["PATH_INFO"] == "/slow":
            time.sleep(0.5)  # monkey-patched by the worker: a cooperative sleep
        body = environ["PATH_INFO"].encode()
        start_response("200 OK", [("Content-Type", "text/plain"),
                                  ("Content-Length", str(len(body)))])
        return [body]
''')


def _start(tmp_path, worker_class, app=APP, env=None):
    """Start gunicorn on *app* (the source of slowapp.py); its process, port and log lines."""
    (tmp_path / "slowapp.py").write_text(app)
    env = dict(os.environ, **(env or {}))
    env["PYTHONPATH"] = os.pathsep.join([os.path.join(ROOT, "src"), str(tmp_path)])
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-k", worker_class, "-w", "1",
         "--worker-connections", "1000", "-b", "127.0.0.1:0", "--graceful-timeout", "2",
         "--backlog", "512", "slowapp:app"],
        cwd=str(tmp_path), env=env, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL,
        text=True, start_new_session=True,
    )
    port = None
    lines = []
    deadline = time.monotonic() + 30
    while True:
        assert time.monotonic() < deadline, f"gunicorn did not start: {lines}"
        line = process.stderr.readline()
        assert line, f"gunicorn exited ({process.wait()}): {''.join(lines)}"
        lines.append(line)
        if "Listening at:" in line:
            port = int(line.rsplit(":", 1)[1].split()[0])
        if "Booting worker" in line and port:
            return process, port, lines


def _stop(process):
    try:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
    finally:
        rest = process.stderr.read()
        process.stderr.close()
    return rest


def _get(port, path):
    with Client(("127.0.0.1", port), timeout=10) as client:
        return client.request(path=path, headers=[("Connection", "close")])


@pytest.mark.parametrize("worker_class", ["gevent", "gevent_pywsgi"])
def test_gunicorn_gevent_worker_serves_slow_requests_concurrently(tmp_path, worker_class):
    process, port, lines = _start(tmp_path, worker_class)
    try:
        # The worker may still be importing the application: wait for a first answer.
        deadline = time.monotonic() + 20
        while True:
            try:
                assert _get(port, "/warm").body == b"/warm"
                break
            except (ConnectionError, EOFError):
                assert time.monotonic() < deadline
                gevent.sleep(0.1)
        paths = ["/slow" if i % 3 == 0 else f"/fast{i}" for i in range(200)]
        start = time.monotonic()
        jobs = [gevent.spawn(_get, port, path) for path in paths]
        gevent.joinall(jobs, timeout=20)
        elapsed = time.monotonic() - start
        responses = [job.get() for job in jobs]
        assert [r.status for r in responses] == [200] * 200
        assert [r.body for r in responses] == [p.encode() for p in paths]
        # Sequentially the slow third alone would take 33 s; concurrently about 0.5 s.
        assert elapsed < 5, elapsed
    finally:
        rest = _stop(process)
    assert "Traceback" not in "".join(lines) + rest, "".join(lines) + rest
