"""gevent.select: select() and poll() over sockets, pipes and objects with fileno()."""

from __future__ import annotations

import os
import select as stdselect
import time

import pytest

import gevent
from gevent import select, socket


class HasFileno:
    def __init__(self, fd: int) -> None:
        self.fd = fd

    def fileno(self) -> int:
        return self.fd


@pytest.fixture
def pipe():
    r, w = os.pipe()
    yield r, w
    os.close(r)
    os.close(w)


def test_select_ready_at_once(pipe):
    r, w = pipe
    assert select.select([r], [w], [], 0) == ([], [w], [])
    os.write(w, b"x")
    assert select.select([r], [], [], 5) == ([r], [], [])


def test_select_waits_cooperatively(pipe):
    r, w = pipe
    log = []

    def writer():
        log.append("writer")
        os.write(w, b"x")

    gevent.spawn(writer)
    reader = HasFileno(r)
    readable, writable, exceptional = select.select([reader], [], [], 5)
    log.append("selected")
    assert readable == [reader] and writable == [] and exceptional == []
    assert log == ["writer", "selected"]


def test_select_timeout(pipe):
    r, _w = pipe
    start = time.monotonic()
    assert select.select([r], [], [], 0.05) == ([], [], [])
    assert 0.04 <= time.monotonic() - start < 2
    with pytest.raises(ValueError):
        select.select([r], [], [], -1)


def test_select_sockets_and_errors():
    a, b = socket.socketpair()
    try:
        gevent.spawn_later(0.01, a.sendall, b"!")
        assert select.select([b], [], [], 5)[0] == [b]
        with pytest.raises(TypeError):
            select.select([object()], [], [], 0)
        with pytest.raises(ValueError):
            select.select([-1], [], [], 0)
    finally:
        a.close()
        b.close()


def test_select_closed_fd_is_an_error(pipe):
    r, w = os.pipe()
    os.close(r)
    os.close(w)
    with pytest.raises(OSError):
        select.select([r], [], [], 0)


def test_select_without_fds_sleeps():
    start = time.monotonic()
    assert select.select([], [], [], 0.02) == ([], [], [])
    assert time.monotonic() - start >= 0.015


def test_poll(pipe):
    r, w = pipe
    poller = select.poll()
    poller.register(r, select.POLLIN)
    poller.register(HasFileno(w), select.POLLOUT)
    assert poller.poll(0) == [(w, select.POLLOUT)]
    poller.modify(w, select.POLLIN)
    start = time.monotonic()
    assert poller.poll(50) == []
    assert time.monotonic() - start >= 0.04
    gevent.spawn_later(0.01, os.write, w, b"x")
    assert poller.poll(5000) == [(r, select.POLLIN)]
    poller.unregister(w)
    with pytest.raises(KeyError):
        poller.unregister(w)
    os.close(os.dup(w))  # the pipe is still open: its reader still reads
    assert poller.poll() == [(r, select.POLLIN)]


def test_poll_reports_hangup():
    r, w = os.pipe()
    try:
        poller = select.poll()
        poller.register(r, select.POLLIN)
        gevent.spawn_later(0.01, os.close, w)
        events = poller.poll(5000)
        assert events and events[0][1] & select.POLLHUP
    finally:
        os.close(r)


def test_names_match_the_stdlib():
    for name in select.__implements__ + select.__imports__:
        assert hasattr(stdselect, name), name
    assert select.error is OSError
    assert select.POLLIN == stdselect.POLLIN


def test_select_past_fd_setsize():
    pairs = [socket.socketpair() for _ in range(520)]
    try:
        a, b = pairs[-1]
        assert b.fileno() >= 1024
        assert select.select([b], [], [], 0) == ([], [], [])
        gevent.spawn_later(0.01, a.sendall, b"x")
        assert select.select([b], [], [], 5)[0] == [b]
        assert select.select([], [a], [], 5)[1] == [a]
    finally:
        for a, b in pairs:
            a.close()
            b.close()


def _drain_on_readable(r: int):
    """An io watcher that, like zmq.green's on zmq.FD, consumes the readiness it is told of."""
    watcher = gevent.get_hub().loop.io(r, 1)
    watcher.start(lambda: os.read(r, 100))
    return watcher


def test_select_and_poll_trust_a_fired_watcher_on_an_edge_style_fd(pipe):
    # Found with pyzmq's zmq.green.Poller: another watcher on the same fd drains it in the
    # same loop iteration, so re-asking the kernel would miss the wake-up.
    r, w = pipe
    drainer = _drain_on_readable(r)
    try:
        gevent.spawn_later(0.02, os.write, w, b"x")
        start = time.monotonic()
        assert select.select([r], [], [], 5) == ([r], [], [])
        assert time.monotonic() - start < 1.0
        poller = select.poll()
        poller.register(r, stdselect.POLLIN)
        gevent.spawn_later(0.02, os.write, w, b"y")
        assert poller.poll(5000) == [(r, stdselect.POLLIN)]
        assert time.monotonic() - start < 2.0
    finally:
        drainer.stop()
        drainer.close()


# -- descriptors closed while selected (gevent #2100) ------------------------------------------

def test_select_reports_a_socket_closed_by_another_greenlet_as_ready():
    # As gevent: select() returns at once with the closed socket readable (no timeout, no
    # hang); the next call on it meets the error.
    a, b = socket.socketpair()
    try:
        closer = gevent.spawn(a.close)
        with gevent.Timeout(5):
            assert select.select([a], [], [], None) == ([a], [], [])
        assert closer.successful()
    finally:
        a.close()
        b.close()


def test_select_reports_an_fd_closed_by_gevent_os_close_as_ready():
    import gevent.os

    r, w = os.pipe()
    try:
        closer = gevent.spawn(gevent.os.close, r)
        with gevent.Timeout(5):
            assert select.select([r], [], [], None) == ([r], [], [])
        closer.get()
    finally:
        os.close(w)


def test_poll_reports_an_fd_closed_by_gevent_os_close_as_invalid():
    import gevent.os

    r, w = os.pipe()
    try:
        poller = select.poll()
        poller.register(r, select.POLLIN)
        closer = gevent.spawn(gevent.os.close, r)
        with gevent.Timeout(5):
            assert poller.poll(None) == [(r, select.POLLNVAL)]
        closer.get()
    finally:
        os.close(w)


def test_select_and_poll_let_other_greenlets_run_even_when_ready(pipe):
    # As gevent: both always go through the hub, so a loop over a ready descriptor does not
    # starve the others.
    r, w = pipe
    os.write(w, b"x")
    poller = select.poll()
    poller.register(r, select.POLLIN)
    for call in (lambda: select.select([r], [], [], 0), lambda: select.select([r], [], []),
                 poller.poll, lambda: poller.poll(0)):
        ran = []
        gevent.spawn(ran.append, True)
        assert call()
        assert ran == [True]


def test_greenlet_spawned_after_a_timer_runs_before_the_next_io_wakes_anyone(pipe):
    # libev order, which gevent's programs (and its tests) see: what a greenlet woken by a
    # timer queues runs before the loop next hands out I/O readiness.
    r, w = pipe
    os.write(w, b"x")
    log = []
    gevent.sleep(0.01)  # we resume from a timer
    gevent.spawn(log.append, "spawned")
    socket.wait_read(r, timeout=5)
    log.append("woken by I/O")
    assert log == ["spawned", "woken by I/O"]
