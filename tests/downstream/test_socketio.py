"""python-socketio / python-engineio with ``async_mode='gevent'`` served by our
``gevent.pywsgi.WSGIServer`` and gevent-websocket's ``WebSocketHandler``.

engineio's gevent driver runs its background tasks as ``gevent.Greenlet`` subclasses, queues on
``gevent.queue.JoinableQueue``, waits on ``gevent.event.Event`` and, with gevent-websocket
installed, reads ``environ['wsgi.websocket']``. Two set-ups:

* server in this (unpatched) process, real ``socketio.SimpleClient``s (requests and
  websocket-client on native threads) in threads of our thread pool, so the hub keeps serving
  while they block;
* server and a ``socketio.Client`` in one monkey-patched interpreter, the client's threads
  being greenlets, as a Flask-SocketIO deployment under ``patch_all()`` runs.
"""

from __future__ import annotations

import io
import threading
import time
from contextlib import contextmanager

import pytest

socketio = pytest.importorskip("socketio", reason="python-socketio is in the 'downstream' extra")
pytest.importorskip("engineio", reason="python-engineio is in the 'downstream' extra")
pytest.importorskip("websocket", reason="websocket-client is in the 'downstream' extra")
pytest.importorskip("geventwebsocket", reason="gevent-websocket is in the 'downstream' extra")

from geventwebsocket.handler import WebSocketHandler  # noqa: E402

import gevent  # noqa: E402
from conftest import run_patched  # noqa: E402
from gevent.event import Event  # noqa: E402
from gevent.pywsgi import WSGIServer  # noqa: E402


class ChatServer:
    """A Socket.IO server recording what it saw, with an echo, an ack and a broadcast."""

    def __init__(self) -> None:
        self.sio = socketio.Server(async_mode="gevent", logger=False, engineio_logger=False,
                                   ping_interval=5, ping_timeout=5)
        self.connected: list[str] = []
        self.disconnected: list[str] = []
        self.all_gone = Event()
        self.app = socketio.WSGIApp(self.sio)
        sio = self.sio

        @sio.event
        def connect(sid, environ, auth=None):
            self.connected.append(sid)
            sio.emit("welcome", {"sid": sid, "auth": auth}, to=sid)

        @sio.event
        def disconnect(sid, *reason):
            self.disconnected.append(sid)
            if len(self.disconnected) == len(self.connected):
                self.all_gone.set()

        @sio.on("echo")
        def echo(sid, data):
            sio.emit("echoed", data, to=sid)

        @sio.on("add")
        def add(sid, a, b):
            return a + b

        @sio.on("ticks")
        def ticks(sid, count):
            # a background task that sleeps through the driver (gevent.sleep) between emits
            def tick():
                for i in range(count):
                    sio.emit("tick", i, to=sid)
                    sio.sleep(0.01)
            sio.start_background_task(tick)

        @sio.on("shout")
        def shout(sid, text):
            sio.emit("heard", text)  # to every connected client


@contextmanager
def serving(app):
    server = WSGIServer(("127.0.0.1", 0), app, handler_class=WebSocketHandler, log=None,
                        error_log=io.StringIO())
    server.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.stop(timeout=2)


def in_thread(func, *args, timeout: float = 20):
    """Run blocking client code in a pool thread while this greenlet (and the hub) waits."""
    return gevent.get_hub().threadpool.spawn(func, *args).get(timeout=timeout)


def test_engineio_uses_the_gevent_driver():
    server = ChatServer()
    assert server.sio.async_mode == "gevent"
    assert server.sio.eio._async["thread"].__mro__[1] is gevent.Greenlet


@pytest.mark.parametrize("transports", [["websocket"], ["polling"], None],
                         ids=["websocket", "polling", "polling-then-upgrade"])
def test_connect_emit_receive_disconnect(transports):
    chat = ChatServer()

    def client_session(url):
        with socketio.SimpleClient() as client:
            client.connect(url, transports=transports, auth={"token": "t"}, wait_timeout=5)
            welcome = client.receive(timeout=5)
            client.emit("echo", {"n": 1, "text": "héllo"})
            echoed = client.receive(timeout=5)
            total = client.call("add", (2, 3), timeout=5)
            client.emit("ticks", 5)
            ticks = [client.receive(timeout=5) for _ in range(5)]
            return welcome, echoed, total, ticks, client.sid, client.transport

    with serving(chat.app) as url:
        welcome, echoed, total, ticks, sid, transport = in_thread(client_session, url)
        assert chat.all_gone.wait(10), "the server never saw the disconnect"
    assert welcome == ["welcome", {"sid": sid, "auth": {"token": "t"}}]
    assert echoed == ["echoed", {"n": 1, "text": "héllo"}]
    assert total == 5
    assert ticks == [["tick", i] for i in range(5)]
    assert chat.connected == [sid] and chat.disconnected == [sid]
    if transports:
        assert transport == transports[0]


def test_broadcast_reaches_concurrent_clients():
    chat = ChatServer()
    count = 5
    everyone_in = threading.Barrier(count, timeout=10)

    def client_session(url, index):
        with socketio.SimpleClient() as client:
            client.connect(url, transports=["websocket"], wait_timeout=5)
            assert client.receive(timeout=5)[0] == "welcome"
            everyone_in.wait()
            if index == 0:
                client.emit("shout", "hi all")
            return client.receive(timeout=5)

    with serving(chat.app) as url:
        start = time.monotonic()
        pool = gevent.get_hub().threadpool
        if pool.maxsize < count:
            pool.maxsize = count
        results = [pool.spawn(client_session, url, i) for i in range(count)]
        heard = [result.get(timeout=20) for result in results]
        assert chat.all_gone.wait(10)
    assert heard == [["heard", "hi all"]] * count
    assert len(chat.connected) == count
    assert time.monotonic() - start < 15


def test_server_and_client_in_one_patched_process():
    # Under patch_all() the client's threads are greenlets in the same hub as the server.
    run_patched("""
        import io, threading
        import gevent, socketio
        from gevent.pywsgi import WSGIServer
        from geventwebsocket.handler import WebSocketHandler

        assert threading.current_thread is not None
        sio = socketio.Server(async_mode="gevent")
        @sio.on("echo")
        def echo(sid, data):
            return data[::-1]
        @sio.on("later")
        def later(sid):
            sio.start_background_task(lambda: (sio.sleep(0.05), sio.emit("done", "bg", to=sid)))
        server = WSGIServer(("127.0.0.1", 0), socketio.WSGIApp(sio),
                            handler_class=WebSocketHandler, log=None, error_log=io.StringIO())
        server.start()
        url = f"http://127.0.0.1:{server.server_port}"
        for transports in (["websocket"], ["polling"]):
            client = socketio.Client()
            got = gevent.event.AsyncResult()
            client.on("done", got.set)
            client.connect(url, transports=transports, wait_timeout=5)
            assert client.transport() == transports[0]
            assert client.call("echo", "abc", timeout=5) == "cba"
            ticks = []
            ticker = gevent.spawn(lambda: [ticks.append(gevent.sleep(0.01)) for _ in range(5)])
            client.emit("later")
            assert got.get(timeout=5) == "bg"
            ticker.join(5)
            assert len(ticks) == 5
            client.disconnect()
        server.stop(timeout=2)
        print("OK")
    """, timeout=40)
