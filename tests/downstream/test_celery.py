"""celery's gevent pool: ``celery -A app worker -P gevent -c 10`` against a private redis broker.

celery calls ``gevent.monkey.patch_all()`` itself when it sees ``-P gevent``, runs each task in
a ``gevent.pool.Pool`` greenlet (``apply_timeout`` wraps it in ``gevent.Timeout`` for time
limits), kills greenlets for ``revoke(terminate=True)``, resizes the pool for
``pool_grow``/``pool_shrink`` through ``pool.size`` and ``pool._semaphore``, and shuts down warm
on SIGTERM. The worker and the producing client each run in their own interpreter; this test
process is never patched.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

pytest.importorskip("celery", reason="celery is in the 'downstream' extra")
pytest.importorskip("redis", reason="redis is in the 'downstream' extra")

SRC = Path(__file__).resolve().parents[2] / "src"
CONCURRENCY = 10
NAP = 0.5

APP_MODULE = """
import os
import time

from celery import Celery

port = os.environ["CELERY_TEST_REDIS_PORT"]
app = Celery("gevent_celery_app", broker=f"redis://127.0.0.1:{port}/0",
             backend=f"redis://127.0.0.1:{port}/1")
# broker_pool_limit: kombu's default (10) equals -c 10, so with every task publishing at once
# during the warm shutdown the redis pool could run out ("MaxConnectionsError", seen once on
# 3.12 under a loaded full-suite run; celery's own advice is a limit above the concurrency).
app.conf.update(broker_connection_retry_on_startup=True, task_track_started=True,
                result_expires=300, worker_hijack_root_logger=False, broker_pool_limit=32)


@app.task
def nap(i):
    import gevent
    import gevent.monkey
    from gevent import getcurrent

    start = time.time()
    time.sleep(NAP_SECONDS)  # patched by celery's gevent pool: the other tasks run meanwhile
    return {"i": i, "start": start, "end": time.time(),
            "greenlet": isinstance(getcurrent(), gevent.Greenlet),
            "patched": gevent.monkey.is_module_patched("time")
                       and gevent.monkey.is_module_patched("socket")}


@app.task(time_limit=0.3)
def too_slow():
    time.sleep(10)
    return "finished anyway"


@app.task
def sleeper(seconds):
    time.sleep(seconds)
    return "woke up"
""".replace("NAP_SECONDS", repr(NAP))


class Worker:
    """A ``celery worker -P gevent`` subprocess with its log in a file."""

    def __init__(self, workdir: Path, redis_port: int) -> None:
        self.workdir = workdir
        (workdir / "gevent_celery_app.py").write_text(APP_MODULE)
        self.env = dict(os.environ)
        self.env["PYTHONPATH"] = os.pathsep.join([str(SRC), str(workdir)])
        self.env["CELERY_TEST_REDIS_PORT"] = str(redis_port)
        # a fresh queue name per worker: nothing left over from an earlier run is consumed
        self.queue = f"q{os.getpid()}_{time.monotonic_ns()}"
        self.env["CELERY_TEST_QUEUE"] = self.queue
        self.log_path = workdir / "worker.log"
        self._log = open(self.log_path, "w")  # noqa: SIM115 (closed in stop)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "gevent_celery_app", "worker", "-P", "gevent",
             "-c", str(CONCURRENCY), "-Q", self.queue, "-n", f"{self.queue}@%h",
             "--loglevel=INFO", "--without-gossip", "--without-mingle", "--without-heartbeat"],
            cwd=workdir, env=self.env, stdout=self._log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL)
        self._wait_for_log(" ready.", timeout=30)

    @property
    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def _wait_for_log(self, needle: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if needle in self.log:
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        self.stop()
        pytest.fail(f"worker never logged {needle!r}:\n{self.log[-4000:]}")

    def client(self, code: str, timeout: float = 30):
        """Run producer *code* (which sets ``result``) in a fresh, unpatched interpreter."""
        script = ("import json, time\n"
                  "from gevent_celery_app import app, nap, too_slow, sleeper\n"
                  f"QUEUE = {self.queue!r}\n" + textwrap.dedent(code) +
                  "\nprint('RESULT ' + json.dumps(result))\n")
        proc = subprocess.run([sys.executable, "-c", script], cwd=self.workdir, env=self.env,
                              capture_output=True, text=True, timeout=timeout)
        lines = [line for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
        assert proc.returncode == 0 and lines, (
            f"client exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}\n"
            f"--- worker log\n{self.log[-4000:]}")
        return json.loads(lines[-1][len("RESULT "):])

    def stop(self, timeout: float = 20) -> int:
        """SIGTERM (warm shutdown); return the exit status. Kills it if it hangs."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
                self._log.close()
                pytest.fail(f"worker ignored SIGTERM for {timeout} s:\n{self.log[-4000:]}")
        self._log.close()
        return self.proc.returncode


@pytest.fixture(scope="module")
def worker(redis_port, tmp_path_factory):
    w = Worker(tmp_path_factory.mktemp("celery"), redis_port)
    try:
        yield w
    finally:
        w.stop()


def test_ten_sleeping_tasks_run_at_once(worker):
    result = worker.client("""
        from celery import group
        start = time.time()
        job = group(nap.s(i).set(queue=QUEUE) for i in range(10)).apply_async()
        result = {"tasks": job.get(timeout=20), "elapsed": time.time() - start}
    """)
    tasks = result["tasks"]
    assert sorted(t["i"] for t in tasks) == list(range(10))
    assert all(t["greenlet"] and t["patched"] for t in tasks), tasks
    assert all(t["end"] - t["start"] >= NAP * 0.9 for t in tasks)
    # ten naps of 0.5 s overlapped: one wave, not ten
    span = max(t["end"] for t in tasks) - min(t["start"] for t in tasks)
    assert span < 3 * NAP, span
    assert result["elapsed"] < 4.0, result["elapsed"]


def test_time_limit_is_a_gevent_timeout(worker):
    result = worker.client("""
        r = too_slow.apply_async(queue=QUEUE)
        start = time.time()
        r.get(timeout=20, propagate=False)
        result = {"state": r.state, "error": repr(r.result), "elapsed": time.time() - start}
    """)
    assert result["state"] == "FAILURE"
    assert "TimeLimitExceeded" in result["error"]
    assert result["elapsed"] < 5.0


def test_revoke_with_terminate_kills_the_greenlet(worker):
    result = worker.client("""
        r = sleeper.apply_async((30,), queue=QUEUE)
        deadline = time.time() + 15
        while r.state != "STARTED" and time.time() < deadline:
            time.sleep(0.05)
        started = r.state
        app.control.revoke(r.id, terminate=True)
        while r.state not in ("REVOKED", "FAILURE", "SUCCESS") and time.time() < deadline:
            time.sleep(0.05)
        # the pool keeps working afterwards
        after = nap.apply_async((99,), queue=QUEUE).get(timeout=15)["i"]
        result = {"started": started, "state": r.state, "after": after}
    """)
    assert result == {"started": "STARTED", "state": "REVOKED", "after": 99}


def test_pool_grow_and_shrink_use_the_pool_semaphore(worker):
    # pool_grow/pool_shrink call TaskPool.grow/shrink: pool.size and pool._semaphore.
    result = worker.client(f"""
        from celery import group
        destination = [QUEUE + "@" + __import__("socket").gethostname()]
        def limit():
            stats = app.control.inspect(destination=destination, timeout=5).stats()
            return list(stats.values())[0]["pool"]["max-concurrency"]
        def wave_span(count):
            job = group(nap.s(i).set(queue=QUEUE) for i in range(count)).apply_async()
            tasks = job.get(timeout=20)
            return max(t["end"] for t in tasks) - min(t["start"] for t in tasks)
        before = limit()
        app.control.pool_grow(2, destination=destination, reply=True, timeout=5)
        grown = limit()
        # 14 naps on 12 slots: two waves. A pool that counted the new slots twice runs one.
        grown_span = wave_span(14)
        app.control.pool_shrink(2, destination=destination, reply=True, timeout=5)
        shrunk = limit()
        shrunk_span = wave_span({CONCURRENCY})
        result = {{"before": before, "grown": grown, "shrunk": shrunk,
                   "grown_span": grown_span, "shrunk_span": shrunk_span}}
    """, timeout=60)
    assert (result["before"], result["grown"], result["shrunk"]) == (
        CONCURRENCY, CONCURRENCY + 2, CONCURRENCY)
    assert 2 * NAP * 0.9 <= result["grown_span"] < 5 * NAP, result
    assert result["shrunk_span"] < 3 * NAP, result


def test_sigterm_is_a_clean_warm_shutdown(worker):
    # a task still running when SIGTERM arrives is finished, then the worker exits 0
    task_id = worker.client("""
        r = sleeper.apply_async((0.5,), queue=QUEUE)
        deadline = time.time() + 15
        while r.state != "STARTED" and time.time() < deadline:
            time.sleep(0.02)
        result = r.id
    """)
    start = time.monotonic()
    status = worker.stop(timeout=20)
    log = worker.log
    assert status == 0, log[-4000:]
    assert time.monotonic() - start < 15
    assert "Warm shutdown" in log
    assert f"Task gevent_celery_app.sleeper[{task_id}] succeeded" in log, log[-4000:]
    errors = [line for line in log.splitlines() if "ERROR" in line
              and "Hard time limit" not in line]  # too_slow's limit is logged as an error
    assert "Traceback" not in log and not errors, log[-4000:]
