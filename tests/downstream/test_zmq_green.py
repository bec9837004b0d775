"""pyzmq's ``zmq.green`` on our hub: it drives ``get_hub().loop.io(zmq.FD, READ)`` with
``start``/``stop`` and waits on ``AsyncResult``; its Poller goes through ``gevent.select``.

PUSH/PULL and REQ/REP over tcp://127.0.0.1 and inproc:// between greenlets, a blocking recv that
leaves other greenlets running, the green Poller, and timeouts with gevent.Timeout. No monkey
patching is needed, so everything runs in the test process.
"""

from __future__ import annotations

import time

import pytest

zmq = pytest.importorskip("zmq.green", reason="pyzmq is in the 'downstream' extra")

import gevent  # noqa: E402
from gevent.event import Event  # noqa: E402


@pytest.fixture
def context():
    ctx = zmq.Context()
    try:
        yield ctx
    finally:
        ctx.destroy(linger=0)


def _bind(sock, transport: str, name: str) -> str:
    if transport == "tcp":
        port = sock.bind_to_random_port("tcp://127.0.0.1")
        return f"tcp://127.0.0.1:{port}"
    address = f"inproc://{name}"
    sock.bind(address)
    return address


@pytest.mark.parametrize("transport", ["tcp", "inproc"])
def test_push_pull_between_greenlets(context, transport):
    pull = context.socket(zmq.PULL)
    address = _bind(pull, transport, "push-pull")
    push = context.socket(zmq.PUSH)
    push.connect(address)
    count = 200

    def produce():
        for i in range(count):
            push.send_string(f"m{i}")
            if i % 50 == 0:
                gevent.sleep(0)

    def consume():
        return [pull.recv_string() for _ in range(count)]

    consumer = gevent.spawn(consume)
    producer = gevent.spawn(produce)
    with gevent.Timeout(10):
        producer.get()
        assert consumer.get() == [f"m{i}" for i in range(count)]


@pytest.mark.parametrize("transport", ["tcp", "inproc"])
def test_req_rep_between_greenlets(context, transport):
    rep = context.socket(zmq.REP)
    address = _bind(rep, transport, "req-rep")

    def server(n):
        for _ in range(n):
            request = rep.recv_multipart()
            rep.send_multipart([b"echo"] + request)

    def client(n):
        req = context.socket(zmq.REQ)
        req.connect(address)
        try:
            replies = []
            for i in range(n):
                req.send_multipart([b"ping", str(i).encode()])
                replies.append(req.recv_multipart())
            return replies
        finally:
            req.close(linger=0)

    server_greenlet = gevent.spawn(server, 30)
    with gevent.Timeout(10):
        replies = gevent.spawn(client, 30).get()
        server_greenlet.get()
    assert replies == [[b"echo", b"ping", str(i).encode()] for i in range(30)]


def test_blocking_recv_does_not_stall_other_greenlets(context):
    pull = context.socket(zmq.PULL)
    address = _bind(pull, "tcp", "unused")
    push = context.socket(zmq.PUSH)
    push.connect(address)
    ticks: list[float] = []
    ticking_done = Event()

    def ticker():
        for _ in range(10):
            ticks.append(time.monotonic())
            gevent.sleep(0.01)
        ticking_done.set()

    start = time.monotonic()
    receiver = gevent.spawn(pull.recv)
    gevent.spawn(ticker)
    with gevent.Timeout(10):
        assert ticking_done.wait(5)
        # the receiver is still parked in recv() while the ticker ran all its rounds
        assert not receiver.ready()
        assert ticks[-1] - start < 1.0
        push.send(b"wake up")
        assert receiver.get() == b"wake up"


def test_two_greenlets_waiting_on_two_sockets(context):
    # Two recvs parked at once, on different sockets: each is woken by its own message.
    pulls, pushes = [], []
    for i in range(2):
        pull = context.socket(zmq.PULL)
        address = _bind(pull, "inproc", f"two-{i}")
        push = context.socket(zmq.PUSH)
        push.connect(address)
        pulls.append(pull)
        pushes.append(push)
    waiters = [gevent.spawn(pull.recv) for pull in pulls]
    gevent.sleep(0.05)
    assert not any(w.ready() for w in waiters)
    with gevent.Timeout(10):
        pushes[1].send(b"second")
        assert waiters[1].get() == b"second"
        assert not waiters[0].ready()
        pushes[0].send(b"first")
        assert waiters[0].get() == b"first"


def test_green_poller(context):
    pulls, pushes = [], []
    poller = zmq.Poller()
    for i in range(3):
        pull = context.socket(zmq.PULL)
        address = _bind(pull, "tcp", str(i))
        push = context.socket(zmq.PUSH)
        push.connect(address)
        poller.register(pull, zmq.POLLIN)
        pulls.append(pull)
        pushes.append(push)

    with gevent.Timeout(10):
        # nothing ready: a positive timeout (milliseconds) returns an empty list on time
        start = time.monotonic()
        assert poller.poll(100) == []
        assert 0.08 <= time.monotonic() - start < 1.0
        assert poller.poll(0) == []

        # a blocked poll lets a sender greenlet run and then reports that socket
        gevent.spawn_later(0.05, pushes[2].send, b"third")
        start = time.monotonic()
        events = dict(poller.poll(5000))
        assert events == {pulls[2]: zmq.POLLIN}
        # woken by the message, not by zmq.green's 1.33 s safety-net poll interval
        assert time.monotonic() - start < 1.0
        assert pulls[2].recv() == b"third"

        # POLLOUT on a connected PUSH is ready at once
        out_poller = zmq.Poller()
        out_poller.register(pushes[0], zmq.POLLOUT)
        assert dict(out_poller.poll(1000)) == {pushes[0]: zmq.POLLOUT}


def test_poller_with_plain_socket_fd(context):
    # zmq.green.Poller also accepts ordinary file descriptors, through gevent.select.
    import socket as stdlib_socket

    a, b = stdlib_socket.socketpair()
    try:
        poller = zmq.Poller()
        poller.register(a.fileno(), zmq.POLLIN)
        with gevent.Timeout(10):
            assert poller.poll(50) == []
            gevent.spawn_later(0.02, b.send, b"x")
            assert poller.poll(5000) == [(a.fileno(), zmq.POLLIN)]
    finally:
        a.close()
        b.close()


def test_recv_and_send_timeouts(context):
    # zmq.green documents RCVTIMEO/SNDTIMEO as having no effect: green code bounds its waits
    # with gevent.Timeout, which must interrupt the parked recv/send.
    pull = context.socket(zmq.PULL)
    _bind(pull, "tcp", "unused")
    ticks = []
    ticker = gevent.spawn(lambda: [ticks.append(gevent.sleep(0.01)) for _ in range(5)])
    start = time.monotonic()
    with pytest.raises(gevent.Timeout):
        with gevent.Timeout(0.1):
            pull.recv()
    elapsed = time.monotonic() - start
    assert 0.08 <= elapsed < 2.0, elapsed
    ticker.join(5)
    assert len(ticks) == 5  # the ticker ran while recv() waited

    # a PUSH with no peer at all (never connected) cannot send: it parks until the timeout
    push = context.socket(zmq.PUSH)
    start = time.monotonic()
    assert gevent.with_timeout(0.1, push.send, b"lost", timeout_value="timed out") == "timed out"
    assert 0.08 <= time.monotonic() - start < 2.0
    # and a non-blocking send says so at once
    with pytest.raises(zmq.Again):
        push.send(b"lost", zmq.NOBLOCK)


def test_gevent_timeout_interrupts_recv_and_socket_stays_usable(context):
    pull = context.socket(zmq.PULL)
    address = _bind(pull, "inproc", "interrupted")
    push = context.socket(zmq.PUSH)
    push.connect(address)
    with pytest.raises(gevent.Timeout):
        with gevent.Timeout(0.05):
            pull.recv()
    # a killed waiter leaves nothing behind: the next recv on the same socket works
    waiter = gevent.spawn(pull.recv)
    gevent.sleep(0.01)
    waiter.kill(block=True, timeout=5)
    assert waiter.dead
    with gevent.Timeout(10):
        receiver = gevent.spawn(pull.recv)
        push.send(b"after")
        assert receiver.get() == b"after"
