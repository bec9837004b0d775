"""gevent.selectors: GeventSelector / DefaultSelector, the complete selectors API."""

from __future__ import annotations

import os
import selectors as stdselectors
import time

import pytest

import gevent
from gevent import selectors, socket


def test_default_selector_is_gevent():
    assert selectors.DefaultSelector is selectors.GeventSelector
    assert issubclass(selectors.GeventSelector, stdselectors.BaseSelector)
    for name in selectors.__implements__ + selectors.__imports__:
        assert hasattr(stdselectors, name), name


def test_register_modify_unregister_and_map():
    a, b = socket.socketpair()
    sel = selectors.DefaultSelector()
    try:
        key = sel.register(a, selectors.EVENT_READ, "data")
        assert key.fileobj is a and key.fd == a.fileno() and key.data == "data"
        with pytest.raises(KeyError):
            sel.register(a, selectors.EVENT_READ)
        with pytest.raises(ValueError):
            sel.register(b, 0)
        assert sel.get_key(a) == key
        assert len(sel.get_map()) == 1 and a.fileno() in sel.get_map()
        key2 = sel.modify(a, selectors.EVENT_READ | selectors.EVENT_WRITE, "more")
        assert key2.events == 3 and key2.data == "more"
        key3 = sel.modify(a, key2.events, "other")
        assert key3.data == "other"
        assert sel.unregister(a) == key3
        with pytest.raises(KeyError):
            sel.get_key(a)
        with pytest.raises(KeyError):
            sel.unregister(a)
    finally:
        sel.close()
        a.close()
        b.close()
    assert sel.get_map() is None
    with pytest.raises(RuntimeError):
        sel.select(0)


def test_select_waits_and_reports_events():
    a, b = socket.socketpair()
    with selectors.DefaultSelector() as sel:
        sel.register(b, selectors.EVENT_READ, "b")
        sel.register(a, selectors.EVENT_WRITE, "a")
        ready = sel.select(0)
        assert [(key.data, events) for key, events in ready] == [("a", selectors.EVENT_WRITE)]
        sel.unregister(a)
        start = time.monotonic()
        assert sel.select(0.05) == []
        assert time.monotonic() - start >= 0.04
        gevent.spawn_later(0.01, a.sendall, b"x")
        ready = sel.select(5)
        assert [(key.fileobj, events) for key, events in ready] == [(b, selectors.EVENT_READ)]
    a.close()
    b.close()


def test_unregister_after_close():
    r, w = os.pipe()
    sel = selectors.GeventSelector()
    sel.register(r, selectors.EVENT_READ)
    os.close(r)
    os.close(w)
    sel.unregister(r)
    sel.close()


def test_many_sockets_past_fd_setsize():
    pairs = [socket.socketpair() for _ in range(600)]
    try:
        with selectors.DefaultSelector() as sel:
            for _, b in pairs:
                sel.register(b, selectors.EVENT_READ)
            gevent.spawn_later(0.01, pairs[-1][0].sendall, b"x")
            ready = sel.select(5)
            assert [key.fileobj for key, _ in ready] == [pairs[-1][1]]
    finally:
        for a, b in pairs:
            a.close()
            b.close()


def test_register_refuses_a_descriptor_closed_behind_its_object():
    # As gevent: ValueError("Invalid file descriptor") at register time.
    sock = socket.socket()
    os.close(sock.fileno())
    try:
        with selectors.GeventSelector() as sel:
            with pytest.raises(ValueError, match="Invalid file"):
                sel.register(sock, selectors.EVENT_READ)
            assert not sel.get_map()
    finally:
        sock.detach()


def test_select_reports_a_socket_closed_while_selecting():
    a, b = socket.socketpair()
    try:
        with selectors.GeventSelector() as sel:
            key = sel.register(a, selectors.EVENT_READ)
            gevent.spawn(a.close)
            with gevent.Timeout(5):
                assert sel.select(None) == [(key, selectors.EVENT_READ)]
    finally:
        a.close()
        b.close()
