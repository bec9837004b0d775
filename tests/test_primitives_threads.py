"""Primitives shared between OS threads: set/release/put in one thread wakes waiters in
another, whether or not that thread runs a hub of its own."""

from __future__ import annotations

import threading
import time

import gevent
from gevent.event import AsyncResult, Event
from gevent.hub import get_hub_if_exists
from gevent.lock import LockType, RLock, Semaphore
from gevent.queue import Queue


def _run_in_thread(func, *args):
    """Run func in a new thread that destroys its hub afterwards; returns (thread, results)."""
    results = []

    def target():
        try:
            results.append(func(*args))
        except BaseException as ex:  # reported to the test through results
            results.append(ex)
        finally:
            hub = get_hub_if_exists()
            if hub is not None:
                hub.destroy(destroy_loop=True)

    thread = threading.Thread(target=target)
    thread.start()
    return thread, results


def _later_in_thread(delay, func, *args):
    return _run_in_thread(lambda: (time.sleep(delay), func(*args))[1])


def test_event_set_from_plain_thread_wakes_greenlets():
    event = Event()
    log = []
    waiters = [gevent.spawn(lambda n=n: log.append((n, event.wait(5)))) for n in range(3)]
    gevent.sleep(0)
    thread, _ = _later_in_thread(0.02, event.set)
    gevent.joinall(waiters, timeout=5)
    thread.join(5)
    assert log == [(0, True), (1, True), (2, True)]


def test_main_greenlet_waits_for_thread_without_loop_exit():
    # Nothing else keeps this hub's loop alive: the pending cross-thread wait must.
    result = AsyncResult()
    thread, _ = _later_in_thread(0.05, result.set, "from thread")
    assert result.get(timeout=5) == "from thread"
    thread.join(5)


def test_waiter_in_thread_without_running_hub_blocks_until_woken():
    event = Event()
    thread, results = _run_in_thread(event.wait, 5)
    time.sleep(0.05)
    assert thread.is_alive() and results == []
    event.set()
    thread.join(5)
    assert results == [True]


def test_many_threads_wait_on_one_event():
    event = Event()
    threads = [_run_in_thread(event.wait, 5) for _ in range(4)]
    time.sleep(0.05)
    event.set()
    for thread, results in threads:
        thread.join(5)
        assert results == [True]


def test_asyncresult_exception_across_threads():
    result = AsyncResult()
    thread, results = _run_in_thread(lambda: result.get(timeout=5))
    time.sleep(0.02)
    result.set_exception(KeyError("k"))
    thread.join(5)
    assert isinstance(results[0], KeyError)


def test_semaphore_released_from_other_thread():
    semaphore = Semaphore(0)
    thread, _ = _later_in_thread(0.02, semaphore.release)
    assert semaphore.acquire(timeout=5) is True
    thread.join(5)


def test_semaphore_contended_by_threads_and_greenlets():
    semaphore = Semaphore(1)
    counter = {"value": 0, "inside": 0, "max": 0}

    def work():
        for _ in range(50):
            with semaphore:
                counter["inside"] += 1
                counter["max"] = max(counter["max"], counter["inside"])
                counter["value"] += 1
                gevent.sleep(0)
                counter["inside"] -= 1
        return True

    threads = [_run_in_thread(work) for _ in range(2)]
    greenlets = [gevent.spawn(work) for _ in range(2)]
    gevent.joinall(greenlets, timeout=10, raise_error=True)
    for thread, results in threads:
        thread.join(10)
        assert results == [True]
    assert counter["value"] == 200 and counter["max"] == 1


def test_lock_acquired_in_one_thread_released_in_another():
    lock = LockType()
    assert lock.acquire()
    thread, _ = _later_in_thread(0.02, lock.release)
    assert lock.acquire(timeout=5) is True
    thread.join(5)
    lock.release()
    assert not lock.locked()


def test_rlock_across_threads():
    lock = RLock()
    lock.acquire()
    thread, results = _run_in_thread(lambda: lock.acquire(timeout=5) and lock.release())
    time.sleep(0.02)
    assert thread.is_alive()
    lock.release()
    thread.join(5)
    assert results == [None]


def test_queue_put_from_thread_and_get_in_thread():
    queue = Queue()
    thread, _ = _later_in_thread(0.02, queue.put, "a")
    assert queue.get(timeout=5) == "a"
    thread.join(5)
    consumer, results = _run_in_thread(lambda: [queue.get(timeout=5) for _ in range(3)])
    for item in range(3):
        queue.put(item)
        gevent.sleep(0.001)
    consumer.join(5)
    assert results == [[0, 1, 2]]


def test_bounded_queue_between_threads():
    queue = Queue(2)
    total = 300
    producer, _ = _run_in_thread(lambda: [queue.put(n, timeout=5) for n in range(total)])
    received = [queue.get(timeout=5) for _ in range(total)]
    producer.join(10)
    assert received == list(range(total))


def test_idle_twice_in_a_row_returns():
    # The idle watcher of the second idle() is started by the greenlet that the first one's
    # idle pass switched into, in the middle of a loop iteration: that loop must not then
    # block in its poll (it hung forever, so gevent's thread/semaphore tests hung too).
    with gevent.Timeout(5):
        gevent.idle()
        gevent.idle()


def test_a_thread_without_a_hub_waits_natively_on_a_semaphore():
    # As in gevent: a thread that has no hub waits on a native lock instead of creating a hub
    # (nothing in that thread could release it anyway), with or without a timeout.
    semaphore = Semaphore(1)
    semaphore.acquire()
    seen = []

    def waiter():
        seen.append(semaphore.acquire(timeout=0.01))  # times out
        seen.append(semaphore.acquire(timeout=10))  # released by the main thread
        seen.append(get_hub_if_exists())
        semaphore.release()

    thread = threading.Thread(target=waiter)
    thread.start()
    deadline = time.monotonic() + 5
    while len(semaphore._links) == 0 or len(seen) == 0:
        assert time.monotonic() < deadline
        gevent.sleep(0.001)
    semaphore.release()
    thread.join(5)
    assert seen == [False, True, None]
    assert semaphore.acquire(timeout=5)
