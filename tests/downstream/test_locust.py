"""locust on our gevent: its web UI (a pywsgi WSGIServer) and a load test run against a
pywsgi server in this process. locust monkey-patches at import, so it runs in its own
interpreter; it also uses Group, spawn_later, signal_handler and fork."""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

# Only look for locust: importing it monkey-patches the interpreter that imports it.
if importlib.util.find_spec("locust") is None:
    pytest.skip("locust is in the 'downstream' extra", allow_module_level=True)
try:
    import gevent.monkey  # noqa: F401
except ImportError as error:  # pragma: no cover - until the runtime has monkey patching
    pytest.skip(f"locust needs gevent.monkey: {error}", allow_module_level=True)

sys.path.insert(0, str(__import__("pathlib").Path(__file__).parent.parent))

import gevent  # noqa: E402
from gevent import socket  # noqa: E402
from test_pywsgi import Client, serving  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

LOCUSTFILE = textwrap.dedent('''
    from locust import HttpUser, constant, task

    class Visitor(HttpUser):
        wait_time = constant(0.01)

        @task(3)
        def index(self):
            self.client.get("/")

        @task
        def post(self):
            self.client.post("/submit", data=b"x" * 1000)
''')


def _free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_locust_load_test_and_web_ui(tmp_path):
    hits = {"/": 0, "/submit": 0}

    def application(environ, start_response):
        environ["wsgi.input"].read()
        hits[environ["PATH_INFO"]] = hits.get(environ["PATH_INFO"], 0) + 1
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
        return [b"ok"]

    (tmp_path / "locustfile.py").write_text(LOCUSTFILE)
    web_port = _free_port()
    env = dict(os.environ)
    env["PYTHONPATH"] = os.path.join(ROOT, "src")
    with serving(application) as server:
        process = subprocess.Popen(
            [sys.executable, "-m", "locust", "-f", "locustfile.py", "--autostart",
             "--autoquit", "0", "-u", "5", "-r", "5", "-t", "2s", "--json",
             "--host", f"http://127.0.0.1:{server.server_port}",
             "--web-host", "127.0.0.1", "--web-port", str(web_port)],
            cwd=str(tmp_path), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True, start_new_session=True,
        )
        try:
            ui_status = None
            deadline = time.monotonic() + 30
            while process.poll() is None and time.monotonic() < deadline:
                if ui_status is None:
                    try:
                        with Client(("127.0.0.1", web_port), timeout=5) as client:
                            response = client.request(path="/stats/requests",
                                                      headers=[("Connection", "close")])
                            ui_status = response.status
                            ui_body = response.body
                    except (ConnectionError, EOFError):
                        pass
                gevent.sleep(0.1)
            assert process.poll() is not None, "locust did not finish"
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
            stdout, stderr = process.communicate()
    assert process.returncode == 0, stderr[-3000:]
    assert "Traceback" not in stderr, stderr[-3000:]
    assert ui_status == 200 and b"stats" in ui_body
    stats = {entry["name"]: entry for entry in json.loads(stdout)}
    assert stats["/"]["num_requests"] > 20 and stats["/"]["num_failures"] == 0
    assert stats["/submit"]["num_requests"] > 5 and stats["/submit"]["num_failures"] == 0
    assert hits["/"] >= stats["/"]["num_requests"]
