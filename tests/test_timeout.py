"""gevent.timeout: Timeout and with_timeout."""

from __future__ import annotations

import time

import pytest

import gevent
from gevent import Timeout, with_timeout
from gevent.hub import get_hub


def test_is_base_exception():
    assert issubclass(Timeout, BaseException)
    assert not issubclass(Timeout, Exception)


def test_raises_itself():
    started = time.monotonic()
    with pytest.raises(Timeout) as info:
        with Timeout(0.05) as t:
            gevent.sleep(5)
    assert info.value is t
    assert 0.04 < time.monotonic() - started < 2
    assert not t.pending
    assert str(t) == "0.05 seconds"


def test_false_is_silent():
    started = time.monotonic()
    with Timeout(0.02, False):
        gevent.sleep(5)
    assert time.monotonic() - started < 2


def test_custom_exception_class_and_instance():
    class MyError(Exception):
        pass

    with pytest.raises(MyError):
        with Timeout(0.01, MyError):
            gevent.sleep(5)
    err = MyError("x")
    with pytest.raises(MyError) as info:
        with Timeout(0.01, err):
            gevent.sleep(5)
    assert info.value is err


def test_cancel_and_pending():
    loop = get_hub().loop
    refs = loop._timers.live_refs
    t = Timeout(10)
    assert not t.pending
    t.start()
    assert t.pending and loop._timers.live_refs == refs + 1
    with pytest.raises(AssertionError):
        t.start()
    t.cancel()
    t.cancel()
    assert not t.pending and loop._timers.live_refs == refs
    t.start()
    t.close()
    assert not t.pending


def test_none_never_fires():
    with Timeout(None) as t:
        gevent.sleep(0.01)
    assert not t.pending
    dummy = Timeout._start_new_or_dummy(None)
    dummy.cancel()


def test_start_new():
    t = Timeout.start_new(0.01)
    assert t.pending
    with pytest.raises(Timeout):
        gevent.sleep(1)
    t2 = Timeout(5)
    assert Timeout.start_new(t2) is t2 and t2.pending
    t2.cancel()


def test_nested_fire_the_right_one():
    outer = Timeout(0.2)
    inner = Timeout(0.02)
    with pytest.raises(Timeout) as info:
        with outer:
            try:
                with inner:
                    gevent.sleep(5)
            except Timeout as ex:
                assert ex is inner
                gevent.sleep(5)
    assert info.value is outer

    outer = Timeout(0.02)
    inner = Timeout(5)
    with pytest.raises(Timeout) as info:
        with outer:
            with inner:
                gevent.sleep(5)
    assert info.value is outer
    assert not inner.pending


def test_timeout_in_other_greenlet_does_not_fire_elsewhere():
    def work():
        with Timeout(0.01, False):
            gevent.sleep(1)
        return "done"

    g = gevent.spawn(work)
    gevent.sleep(0.05)
    assert g.get(timeout=5) == "done"


def test_with_timeout():
    assert with_timeout(1, lambda x: x * 2, 21) == 42
    with pytest.raises(Timeout):
        with_timeout(0.01, gevent.sleep, 5)
    assert with_timeout(0.01, gevent.sleep, 5, timeout_value="late") == "late"


def test_unref_timeout_does_not_keep_loop_alive():
    loop = get_hub().loop
    refs = loop._timers.live_refs
    t = Timeout(100, ref=False)
    t.start()
    assert t.pending
    assert loop._timers.live_refs == refs  # armed, but not keeping the loop alive
    t.cancel()
    assert not t.pending and loop._timers.live_refs == refs


def test_repr():
    t = Timeout(1)
    assert "seconds=1" in repr(t)
    assert str(Timeout(1)) == "1 second"


def test_cancelled_timeout_does_not_keep_its_exception_alive():
    # gevent: once the with-block is left, the exception given to the Timeout can be freed,
    # though the cancelled timer may wait in the heap.
    import gc
    import weakref

    class Error(Exception):
        pass

    error = Error()
    error_ref = weakref.ref(error)
    with Timeout(5, error):
        gevent.sleep(0.001)
    del error
    gc.collect()
    assert error_ref() is None


@pytest.mark.parametrize("kind", ["event", "asyncresult_get", "asyncresult_wait", "join", "get",
                                  "joinall"])
def test_timeout_instance_accepted_where_seconds_are(kind):
    from gevent.event import AsyncResult, Event

    sleeper = gevent.spawn(gevent.sleep, 10)
    calls = {
        "event": (lambda t: Event().wait(timeout=t), False),
        "asyncresult_get": (lambda t: AsyncResult().get(timeout=t), Timeout),
        "asyncresult_wait": (lambda t: AsyncResult().wait(timeout=t), None),
        "join": (lambda t: sleeper.join(timeout=t), None),
        "get": (lambda t: sleeper.get(timeout=t), Timeout),
        "joinall": (lambda t: gevent.joinall([sleeper], timeout=t), []),
    }
    call, expected = calls[kind]
    timeout = Timeout(0.01)
    try:
        started = time.monotonic()
        if expected is Timeout:
            with pytest.raises(Timeout) as info:
                call(timeout)
            assert info.value is timeout  # the instance given, as gevent raises it
        else:
            assert call(timeout) == expected
        assert time.monotonic() - started >= 0.005
        assert not timeout.pending  # cancelled after the wait, as gevent does
        # A custom exception of the Timeout is raised as is.
        error = RuntimeError("custom")
        with pytest.raises(RuntimeError):
            call(Timeout(0.01, error))
        # Nothing was left behind: a later wait waits for real.
        started = time.monotonic()
        gevent.sleep(0.02)
        assert time.monotonic() - started >= 0.015
    finally:
        sleeper.kill()


def test_timeout_with_a_non_exception_raises_type_error_when_it_fires():
    # gevent: a str only changes the message; any other non-exception raises TypeError in
    # the waiting greenlet when the timeout fires.
    timeout = Timeout(0.01, "custom words")
    with pytest.raises(Timeout) as info:
        with timeout:
            gevent.sleep(5)
    assert info.value is timeout and str(timeout).endswith("custom words")
    with pytest.raises(TypeError, match="exceptions must derive"):
        with Timeout(0.01, object()):
            gevent.sleep(5)


def test_killall_raises_timeout_when_greenlets_survive():
    def stubborn(release):
        while not release:
            try:
                gevent.sleep(5)
            except gevent.GreenletExit:
                pass

    release: list = []
    greenlets = [gevent.spawn(stubborn, release) for _ in range(2)]
    gevent.sleep(0)
    try:
        with pytest.raises(Timeout):
            gevent.killall(greenlets, timeout=0.05)
        assert not any(g.dead for g in greenlets)
        given = Timeout(0.05)
        with pytest.raises(Timeout) as info:
            gevent.killall(greenlets, timeout=given)
        assert info.value is given and not given.pending
    finally:
        release.append(True)
        gevent.killall(greenlets, timeout=5)
    assert all(g.dead for g in greenlets)
