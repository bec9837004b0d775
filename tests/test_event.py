"""gevent.event: Event and AsyncResult on the FIFO wait queue."""

from __future__ import annotations

import pytest

import gevent
from gevent.event import AsyncResult, Event
from gevent.timeout import Timeout


def test_waiters_wake_in_fifo_order_and_set_does_not_switch():
    event = Event()
    log = []

    def waiter(name):
        log.append(f"{name}-wait")
        assert event.wait(5) is True
        log.append(f"{name}-woke")

    greenlets = [gevent.spawn(waiter, name) for name in "abc"]
    gevent.sleep(0)
    event.set()
    log.append("set-returned")
    gevent.joinall(greenlets, timeout=5)
    assert log == ["a-wait", "b-wait", "c-wait", "set-returned", "a-woke", "b-woke", "c-woke"]
    assert event.linkcount() == 0


def test_wait_timeout_returns_false_and_leaves_nothing():
    event = Event()
    assert event.wait(0.01) is False
    assert event.linkcount() == 0
    assert not event.is_set() and not event.isSet() and not event.ready()


def test_wait_on_set_event_returns_at_once():
    event = Event()
    event.set()
    assert event.wait() is True
    event.clear()
    assert event.wait(0) is False


def test_kill_while_waiting_unlinks():
    event = Event()
    waiter = gevent.spawn(event.wait)
    gevent.sleep(0)
    assert event.linkcount() == 1
    waiter.kill()
    assert event.linkcount() == 0
    event.set()
    gevent.sleep(0)


def test_timeout_racing_a_queued_wake_up_cancels_it():
    import time

    event = Event()
    hub = gevent.get_hub()
    setter = hub.loop.timer(0.001)
    setter.start(event.set)
    # Keep the loop busy so the set() timer and the Timeout are due in the same batch: set()
    # queues the wake-up, then the Timeout is raised in the waiter before the wake-up runs.
    hub.loop.run_callback(time.sleep, 0.02)
    with pytest.raises(Timeout):
        with Timeout(0.002):
            event.wait()
    setter.stop()
    assert event.linkcount() == 0
    start = time.monotonic()
    gevent.sleep(0.03)  # a stale wake-up would cut this sleep short
    assert time.monotonic() - start >= 0.025


def test_rawlink_and_unlink():
    event = Event()
    calls = []
    event.rawlink(calls.append)
    event.rawlink(lambda e: calls.append("second"))
    removed = []
    event.rawlink(removed.append)
    event.unlink(removed.append)
    event.set()
    assert calls == []  # called from the hub, later
    gevent.sleep(0)
    assert calls == [event, "second"]
    assert removed == []
    with pytest.raises(TypeError):
        event.rawlink(42)


def test_rawlink_on_set_event_fires():
    event = Event()
    event.set()
    calls = []
    event.rawlink(calls.append)
    gevent.sleep(0)
    assert calls == [event]


def test_set_clear_before_waiter_runs_still_wakes_it():
    event = Event()
    results = []
    waiter = gevent.spawn(lambda: results.append(event.wait(5)))
    gevent.sleep(0)
    event.set()
    event.clear()
    waiter.join(5)
    assert results == [True]


def test_gevent_wait_on_events():
    first, second = Event(), Event()
    gevent.spawn_later(0.01, second.set)
    done = gevent.wait([first, second], count=1, timeout=5)
    assert done == [second]


def test_asyncresult_value_and_timeout():
    result: AsyncResult[int] = AsyncResult()
    assert AsyncResult[int] is not None
    assert not result.ready() and result.value is None and result.exception is None
    with pytest.raises(Timeout):
        result.get(timeout=0.01)
    with pytest.raises(Timeout):
        result.get_nowait()
    assert result.wait(0.01) is None
    gevent.spawn_later(0.01, result.set, 42)
    assert result.get(timeout=5) == 42
    assert result.successful() and result.ready() and result.wait() == 42
    assert result.result() == 42 and result.done() and not result.cancel()
    assert result.exc_info == ()


def test_asyncresult_exception_keeps_traceback():
    result = AsyncResult()
    try:
        raise ValueError("boom")
    except ValueError as ex:
        import sys

        result.set_exception(ex, sys.exc_info())
    assert result.ready() and not result.successful()
    assert isinstance(result.exception, ValueError)
    with pytest.raises(ValueError, match="boom") as info:
        result.get()
    assert any(entry.name == "test_asyncresult_exception_keeps_traceback"
               for entry in info.traceback)
    assert result.wait() is None
    assert result.exc_info[0] is ValueError


def test_asyncresult_as_link_callback():
    good, bad = AsyncResult(), AsyncResult()
    gevent.spawn(lambda: 7).link(good)
    gevent.spawn(lambda: 1 / 0).link(bad)
    assert good.get(timeout=5) == 7
    with pytest.raises(ZeroDivisionError):
        bad.get(timeout=5)


def test_asyncresult_waiters_fifo():
    result = AsyncResult()
    log = []

    def getter(name):
        log.append((name, result.get()))

    greenlets = [gevent.spawn(getter, n) for n in range(3)]
    gevent.sleep(0)
    result.set("v")
    gevent.joinall(greenlets, timeout=5)
    assert log == [(0, "v"), (1, "v"), (2, "v")]


def test_asyncresult_get_repeated_does_not_grow_the_traceback():
    import traceback

    from gevent.event import AsyncResult

    result = AsyncResult()
    result.set_exception(KeyError("k"))
    lengths = []
    for _ in range(3):
        try:
            result.get()
        except KeyError as error:
            lengths.append(len(traceback.extract_tb(error.__traceback__)))
    assert lengths == [lengths[0]] * 3


def test_asyncresult_unlink_stops_a_callback_already_being_notified():
    # gevent: a rawlink callback that unlinks another, once notification started, stops it.
    from gevent.event import AsyncResult

    result = AsyncResult()
    calls = []

    def first(source):
        source.unlink(second)
        calls.append("first")

    def second(source):
        source.unlink(first)
        calls.append("second")

    result.rawlink(first)
    result.rawlink(second)
    result.set(5)
    gevent.sleep(0.01)
    assert calls == ["first"]


def test_wait_on_a_set_event_still_notifying_runs_after_the_woken_waiters():
    # gevent 1520: wait() on a set Event whose wake-ups are still queued runs behind them,
    # in the same pass of the loop (a check watcher does not get to run first).
    event = Event()
    results: list = []

    def wait_then_append(arg):
        event.wait()
        results.append(arg)

    gevent.spawn(wait_then_append, 1)
    gevent.spawn(wait_then_append, 2)
    gevent.idle()
    assert event.linkcount() == 2
    check = gevent.get_hub().loop.check()
    check.start(results.append, 4)
    try:
        event.set()
        with gevent.Timeout(5):
            wait_then_append(3)
        assert results == [1, 2, 3]
    finally:
        check.stop()
        check.close()
    assert event.wait(timeout=0) is True  # nothing pending: returns at once


def test_set_then_clear_wakes_those_that_wait_before_the_notification_has_run():
    # gevent: set() notifies from a callback queued at set() time; a greenlet that starts
    # waiting before that point (its start was queued earlier) is woken even after a clear(),
    # one that starts later is not.
    event = Event()
    early = gevent.spawn(event.wait)
    gevent.sleep(0)
    before = gevent.spawn(event.wait)  # started after set(), but queued before it
    event.set()
    event.clear()
    after = gevent.spawn(event.wait)
    gevent.joinall([early, before], timeout=5)
    assert early.dead and before.dead and early.value is True and before.value is True
    gevent.sleep(0.01)
    assert not after.dead
    event.set()
    assert after.get(timeout=5) is True


def test_set_then_clear_with_a_thousand_waiters_wakes_them_all():
    # Not all 1000 have started when the timer fires (the loop's callback budget), yet every
    # one that started before the notification point is woken, as in gevent.
    event = Event()
    waiters = [gevent.spawn(event.wait) for _ in range(1000)]
    gevent.sleep(0.001)
    event.set()
    event.clear()
    done = gevent.joinall(waiters, timeout=10)
    assert len(done) == 1000
