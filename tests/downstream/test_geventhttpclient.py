"""geventhttpclient against our gevent.pywsgi, in one hub: its connection pool (a
``gevent.queue.LifoQueue`` of ``gevent.socket`` sockets), keep-alive reuse, chunked and large
bodies, network timeouts and TLS through ``gevent.ssl``. No monkey patching is involved.
"""

from __future__ import annotations

import io
import socket
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

pytest.importorskip("geventhttpclient", reason="geventhttpclient is in the 'downstream' extra")

from geventhttpclient import HTTPClient  # noqa: E402

import gevent  # noqa: E402
from gevent.event import Event  # noqa: E402
from gevent.pywsgi import WSGIServer  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _net_helpers import make_certificate  # noqa: E402

SLOW_SECONDS = 0.3
BIG = bytes(range(256)) * 4096  # 1 MiB


class App:
    """Records the client ports it saw, so tests can count connections."""

    def __init__(self) -> None:
        self.peers: set[str] = set()
        self.unstall = Event()

    def __call__(self, environ, start_response):
        self.peers.add(environ["REMOTE_PORT"])
        path = environ["PATH_INFO"]
        if path.startswith("/slow/"):
            gevent.sleep(SLOW_SECONDS)
            return self._reply(start_response, path.encode())
        if path == "/echo":
            body = environ["wsgi.input"].read()
            return self._reply(start_response, environ["REQUEST_METHOD"].encode() + b" " + body)
        if path == "/chunked":
            start_response("200 OK", [("Content-Type", "text/plain")])
            return (f"part{i};".encode() for i in range(50))
        if path == "/big":
            return self._reply(start_response, BIG)
        if path == "/stall":
            self.unstall.wait(5)
            return self._reply(start_response, b"too late")
        start_response("404 Not Found", [("Content-Length", "0")])
        return []

    @staticmethod
    def _reply(start_response, body: bytes):
        start_response("200 OK", [("Content-Type", "application/octet-stream"),
                                  ("Content-Length", str(len(body)))])
        return [body]


@contextmanager
def serving(app, **ssl_args):
    server = WSGIServer(("127.0.0.1", 0), app, log=None, error_log=io.StringIO(), **ssl_args)
    server.start()
    try:
        yield server
    finally:
        server.stop(timeout=1)


@contextmanager
def client_for(server, **kwargs):
    client = HTTPClient("127.0.0.1", server.server_port, **kwargs)
    try:
        yield client
    finally:
        client.close()


def _get(client, path: str) -> tuple[int, bytes]:
    response = client.get(path)
    try:
        return response.status_code, response.read()
    finally:
        response.release()


def test_twenty_greenlets_share_one_client_concurrently():
    app = App()
    with serving(app) as server, client_for(server, concurrency=20, network_timeout=10) as client:
        paths = [f"/slow/{i}" for i in range(20)]
        start = time.monotonic()
        jobs = [gevent.spawn(_get, client, path) for path in paths]
        gevent.joinall(jobs, timeout=10, raise_error=True)
        elapsed = time.monotonic() - start
        assert [job.value for job in jobs] == [(200, path.encode()) for path in paths]
        # 20 requests of 0.3 s each, all at once: far from the 6 s they would take in series
        assert elapsed < 3 * SLOW_SECONDS, elapsed
        assert len(app.peers) == 20

        # a second round reuses the pooled keep-alive connections
        jobs = [gevent.spawn(_get, client, path) for path in paths]
        gevent.joinall(jobs, timeout=10, raise_error=True)
        assert all(job.value[0] == 200 for job in jobs)
        assert len(app.peers) == 20


def test_pool_smaller_than_the_crowd_queues_requests():
    app = App()
    with serving(app) as server, client_for(server, concurrency=4, network_timeout=10) as client:
        start = time.monotonic()
        jobs = [gevent.spawn(_get, client, f"/slow/{i}") for i in range(8)]
        gevent.joinall(jobs, timeout=10, raise_error=True)
        elapsed = time.monotonic() - start
        assert all(job.value[0] == 200 for job in jobs)
        # two waves of four: the LifoQueue of sockets blocks the other four greenlets
        assert 2 * SLOW_SECONDS * 0.9 <= elapsed < 5 * SLOW_SECONDS, elapsed
        assert len(app.peers) == 4


def test_post_chunked_and_large_bodies():
    with serving(App()) as server, client_for(server, network_timeout=10) as client:
        response = client.post("/echo", body=b"payload")
        assert response.status_code == 200
        assert response.read() == b"POST payload"
        response.release()

        response = client.get("/chunked")
        assert response.status_code == 200
        assert response.get("transfer-encoding", "").lower() == "chunked"
        assert response.read() == b"".join(f"part{i};".encode() for i in range(50))
        response.release()

        response = client.get("/big")
        pieces = []
        while True:
            piece = response.read(65536)
            if not piece:
                break
            pieces.append(piece)
        response.release()
        assert b"".join(pieces) == BIG

        assert _get(client, "/missing") == (404, b"")


def test_network_timeout_does_not_stall_other_greenlets():
    app = App()
    with serving(app) as server:
        with client_for(server, concurrency=2, network_timeout=0.2) as client:
            ticks = []

            def ticker():
                for _ in range(5):
                    ticks.append(time.monotonic())
                    gevent.sleep(0.02)

            start = time.monotonic()
            ticking = gevent.spawn(ticker)
            stalled = gevent.spawn(client.get, "/stall")
            stalled.join(5)
            ticking.join(5)
            assert isinstance(stalled.exception, (socket.timeout, gevent.Timeout)), (
                stalled.exception)
            assert 0.15 <= time.monotonic() - start < 2.0
            assert len(ticks) == 5 and ticks[-1] - start < 0.5
            # the client is still usable for a request that answers in time
            assert _get(client, "/echo")[0] == 200
            app.unstall.set()


def test_https_through_gevent_ssl(tmp_path):
    certfile, keyfile = make_certificate(str(tmp_path))
    with serving(App(), certfile=certfile, keyfile=keyfile) as server:
        # full verification: the test certificate names 127.0.0.1
        with client_for(server, ssl=True, ssl_options={"ca_certs": certfile}, concurrency=5,
                        network_timeout=10) as client:
            jobs = [gevent.spawn(_get, client, f"/slow/{i}") for i in range(5)]
            gevent.joinall(jobs, timeout=10, raise_error=True)
            assert [job.value for job in jobs] == [(200, f"/slow/{i}".encode())
                                                   for i in range(5)]
            response = client.get("/big")
            assert response.read() == BIG
            response.release()
