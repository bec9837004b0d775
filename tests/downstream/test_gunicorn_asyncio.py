"""A Flask app under ``gunicorn -k gevent`` whose view awaits an async client (aiohttp's
ClientSession) through ``gevent.asyncio.await_``: 50 concurrent requests, each waiting 0.5 s on
a slow upstream server, are all answered in about 0.5 s.

(httpx's AsyncClient works the same way, test_asyncio_libs.py shows it, but costs about 10 ms
of CPU a request here on any loop: 50 of them take about a second on stock asyncio too.)"""

from __future__ import annotations

import textwrap
import time

import pytest

pytest.importorskip("gunicorn", reason="gunicorn is in the 'downstream' extra")
pytest.importorskip("flask", reason="flask is in the 'downstream' extra")
pytest.importorskip("aiohttp", reason="aiohttp is in the 'downstream' extra")
pytest.importorskip("gevent.asyncio", reason="gevent.asyncio is not in this tree yet")

from test_gunicorn import _get, _start, _stop  # noqa: E402

import gevent  # noqa: E402

APP = textwrap.dedent('''
    import os

    import aiohttp
    from flask import Flask

    from gevent.asyncio import await_

    app = Flask(__name__)
    UPSTREAM = os.environ["SLOW_URL"]
    session = None  # one client for the worker, on the hub's asyncio loop


    async def fetch(n):
        global session
        if session is None:  # made inside a coroutine: a ClientSession needs a running loop
            session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=200))
        async with session.get(f"{UPSTREAM}/{n}") as response:
            return f"{response.status} {await response.text()}"


    @app.route("/warm")
    def warm():
        return "warm"


    @app.route("/proxy/<int:n>")
    def proxy(n):
        return await_(fetch(n), timeout=10)  # blocks this request's greenlet only
''')

REQUESTS = 50


def test_flask_view_awaiting_an_async_client_serves_concurrently(tmp_path, slow_http_server):
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
        assert elapsed < 2.0, elapsed
    finally:
        rest = _stop(process)
    assert "Traceback" not in "".join(lines) + rest, "".join(lines) + rest
