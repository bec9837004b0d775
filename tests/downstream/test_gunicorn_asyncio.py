"""A Flask app under ``gunicorn -k gevent`` whose view awaits an async client (httpx's
AsyncClient) through ``gevent.asyncio.await_``: 50 concurrent requests, each waiting 0.5 s on a
slow upstream server, are all answered in about 0.5 s."""

from __future__ import annotations

import textwrap
import time

import pytest

pytest.importorskip("gunicorn", reason="gunicorn is in the 'downstream' extra")
pytest.importorskip("flask", reason="flask is in the 'downstream' extra")
pytest.importorskip("httpx", reason="httpx is in the 'downstream' extra")
pytest.importorskip("gevent.asyncio", reason="gevent.asyncio is not in this tree yet")

from test_gunicorn import _get, _start, _stop  # noqa: E402

import gevent  # noqa: E402

APP = textwrap.dedent('''
    import os

    import httpx
    from flask import Flask

    from gevent.asyncio import await_

    app = Flask(__name__)
    UPSTREAM = os.environ["SLOW_URL"]
    # One client for the worker: its connection pool lives on the hub's asyncio loop, which
    # every request greenlet shares.
    client = httpx.AsyncClient(timeout=10, limits=httpx.Limits(max_connections=200))

    @app.route("/warm")
    def warm():
        return "warm"

    @app.route("/proxy/<int:n>")
    def proxy(n):
        response = await_(client.get(f"{UPSTREAM}/{n}"))
        return f"{response.status_code} {response.text}"
''')

REQUESTS = 50


def test_flask_view_awaiting_httpx_serves_concurrently(tmp_path, slow_http_server):
    process, port, lines = _start(tmp_path, "gevent", app=APP,
                                  env={"SLOW_URL": slow_http_server})
    try:
        deadline = time.monotonic() + 20
        while True:  # the worker may still be importing the application
            try:
                assert _get(port, "/warm").body == b"warm"
                break
            except (ConnectionError, EOFError):
                assert time.monotonic() < deadline
                gevent.sleep(0.1)
        start = time.monotonic()
        jobs = [gevent.spawn(_get, port, f"/proxy/{i}") for i in range(REQUESTS)]
        gevent.joinall(jobs, timeout=20)
        elapsed = time.monotonic() - start
        responses = [job.get(block=False) for job in jobs]
        assert [r.status for r in responses] == [200] * REQUESTS
        assert [r.body for r in responses] == [f"200 path=/{i}".encode()
                                               for i in range(REQUESTS)]
        print(f"{REQUESTS} requests awaiting a 0.5 s upstream call: {elapsed:.2f} s")
        # One after the other they would take 25 s; concurrently about 0.5 s.
        assert elapsed < 2.5, elapsed
    finally:
        rest = _stop(process)
    assert "Traceback" not in "".join(lines) + rest, "".join(lines) + rest
