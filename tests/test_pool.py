"""gevent.pool: Group and Pool, back-pressure, resizing, the mapping API."""

from __future__ import annotations

import pytest

import gevent
from gevent.event import Event
from gevent.pool import Group, Pool, PoolFull


def test_pool_limits_concurrency_and_spawn_waits():
    pool = Pool(2)
    running = []
    peak = []
    release = Event()

    def task(n):
        running.append(n)
        peak.append(len(running))
        release.wait(5)
        running.remove(n)

    for n in range(2):
        pool.spawn(task, n)
    assert pool.full() and pool.free_count() == 0
    spawner = gevent.spawn(pool.spawn, task, 2)  # blocks for a slot
    gevent.sleep(0)
    assert not spawner.dead and len(pool) == 2
    release.set()
    spawner.join(5)
    assert pool.join(5) is True
    assert max(peak) <= 2 and len(pool) == 0 and pool.free_count() == 2


def test_add_timeout_and_nonblocking_raise_pool_full():
    pool = Pool(1)
    pool.spawn(gevent.sleep, 0.2)
    with pytest.raises(PoolFull):
        pool.add(gevent.Greenlet(gevent.sleep), blocking=False)
    with pytest.raises(PoolFull):
        pool.add(gevent.Greenlet(gevent.sleep), timeout=0.01)
    assert pool.join(timeout=0.01) is False
    pool.kill()
    assert len(pool) == 0


def test_resize_at_run_time_wakes_waiting_spawners():
    pool = Pool(1)
    gate = Event()
    pool.spawn(gate.wait)
    spawners = [gevent.spawn(pool.spawn, gate.wait) for _ in range(2)]
    gevent.sleep(0)
    assert len(pool) == 1
    pool.size = 3
    gevent.joinall(spawners, timeout=5)
    assert len(pool) == 3 and pool.size == 3
    pool.size = 1  # shrinking: slots come back as greenlets finish
    gate.set()
    pool.join(5)
    assert pool.free_count() == 1 and pool._semaphore.counter == 1


def test_celery_style_grow_is_not_counted_twice():
    pool = Pool(2)
    pool._semaphore.counter += 3
    pool.size += 3
    assert pool._semaphore.counter == 5 and pool.free_count() == 5


def test_wait_available():
    pool = Pool(1)
    gate = Event()
    pool.spawn(gate.wait)
    assert pool.wait_available(timeout=0.01) == 0
    gevent.spawn_later(0.01, gate.set)
    assert pool.wait_available(timeout=5) == 1
    assert Group().wait_available() is None


def test_group_tracks_and_kills():
    group = Group()
    glets = [group.spawn(gevent.sleep, 10) for _ in range(3)]
    assert len(group) == 3 and glets[0] in group
    group.killone(glets[0])
    assert glets[0].dead and len(group) == 2
    group.kill(timeout=5)
    assert len(group) == 0 and all(g.dead for g in glets)
    finished = gevent.spawn(lambda: 1)
    group.add(finished)
    group.discard(finished)
    assert finished not in group


def test_join_raise_error():
    group = Group()
    group.spawn(lambda: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        group.join(timeout=5, raise_error=True)


def test_apply_variants():
    pool = Pool(2)
    assert pool.apply(pow, (2, 5)) == 32
    got = []
    result = pool.apply_async(pow, (2, 3), callback=got.append)
    assert result.get(timeout=5) == 8
    gevent.sleep(0.01)
    assert got == [8]
    assert pool.apply_cb(pow, (3, 2), callback=got.append) == 9
    # apply from inside the pool runs directly (no deadlock on a full pool).
    inner = Pool(1)
    assert inner.spawn(lambda: inner.apply(lambda: "nested")).get(timeout=5) == "nested"


def test_map_and_map_async_keep_order():
    pool = Pool(3)

    def slow_square(n):
        gevent.sleep(0.001 * (5 - n))
        return n * n

    assert pool.map(slow_square, range(5)) == [0, 1, 4, 9, 16]
    got = []
    pool.map_async(slow_square, range(3), callback=got.append).join(5)
    assert got == [[0, 1, 4]]
    assert pool.map_cb(slow_square, [2]) == [4]


def test_imap_multiple_iterables_and_errors():
    pool = Pool(2)
    assert list(pool.imap(pow, [2, 3], [2, 2])) == [4, 9]

    def fail(n):
        if n == 2:
            raise ValueError(n)
        return n

    iterator = pool.imap(fail, range(4))
    assert next(iterator) == 0 and next(iterator) == 1
    with pytest.raises(ValueError):
        next(iterator)


def test_imap_unordered_yields_as_finished():
    pool = Pool(3)

    def delayed(n):
        gevent.sleep(0.01 * n)
        return n

    assert list(pool.imap_unordered(delayed, [3, 1, 2])) == [1, 2, 3]


def test_imap_maxsize_back_pressure():
    pool = Pool(10)
    started = []

    def task(n):
        started.append(n)
        return n

    iterator = pool.imap_unordered(task, range(20), maxsize=2)
    gevent.sleep(0.05)
    # Only maxsize results may wait for the reader: the rest of the input is held back.
    assert len(started) == 2
    assert next(iterator) == 0
    gevent.sleep(0.05)
    assert len(started) == 3
    assert sorted([0] + list(iterator)) == list(range(20))
    ordered = pool.imap(task, range(5), maxsize=1)
    assert list(ordered) == list(range(5))
    with pytest.raises(ValueError):
        pool.imap(task, [], maxsize=0)


def test_imap_in_group_and_thread_like_greenlet_class():
    class Tagged(gevent.Greenlet):
        pass

    pool = Pool(2, greenlet_class=Tagged)
    assert isinstance(pool.spawn(lambda: 1), Tagged)
    assert Pool().free_count() == 1 and not Pool().full()


def test_celery_57_style_grow_is_not_counted_twice():
    # celery >= 5.7's gevent TaskPool.grow: set size, then release the new slots itself.
    pool = Pool(2)
    gate = Event()
    for _ in range(2):
        pool.spawn(gate.wait)
    waiting = [gevent.spawn(pool.spawn, gate.wait) for _ in range(3)]
    gevent.sleep(0)
    pool.size = 3
    pool._semaphore.release()
    gevent.sleep(0.01)
    assert len(pool) == 3 and pool.free_count() == 0
    assert sum(g.ready() for g in waiting) == 1
    # and shrinking the celery way (counter first, then size) leaves no slot behind
    pool._semaphore.counter -= 1
    pool.size = 2
    gate.set()
    gevent.joinall(waiting, timeout=5)
    pool.join(timeout=5)
    assert len(pool) == 0 and pool._semaphore.counter == 2 and pool.free_count() == 2


def test_resize_counts_the_pools_own_releases():
    # A member leaving between a resize and the moment it takes effect is not mistaken for
    # an outside adjustment covering the resize.
    pool = Pool(2)
    gate = Event()
    members = [pool.spawn(gate.wait) for _ in range(2)]
    pool.size = 3
    pool.discard(members[0])
    gevent.sleep(0)
    assert pool._semaphore.counter == 2 and pool.free_count() == 2
    gate.set()
    pool.join(timeout=5)
    assert pool._semaphore.counter == 3


def test_pool_full_is_a_queue_full():
    import queue

    assert issubclass(PoolFull, queue.Full)
    pool = Pool(1)
    pool.spawn(gevent.sleep, 5)
    try:
        with pytest.raises(queue.Full):
            pool.add(gevent.spawn(gevent.sleep, 0), blocking=False)
    finally:
        pool.kill()


@pytest.mark.parametrize("method", ["imap", "imap_unordered"])
def test_imap_goes_on_after_a_failed_task(method):
    # gevent: a task's error is raised by next() (in its place, for imap) and the remaining
    # results still come.
    import io

    from gevent.hub import get_hub

    def divide_by(x):
        return 1.0 / x

    hub = get_hub()
    hub.exception_stream = io.StringIO()
    try:
        it = getattr(Pool(1), method)(divide_by, [1, 0, 2])
        assert next(it) == 1.0
        with pytest.raises(ZeroDivisionError):
            next(it)
        assert next(it) == 0.5
        with pytest.raises(StopIteration):
            next(it)
    finally:
        hub.exception_stream = None


def test_join_raise_error_waits_the_timeout_once():
    import time

    pool = Pool()
    g = pool.spawn(gevent.sleep, 5)
    try:
        started = time.monotonic()
        assert pool.join(timeout=0.1, raise_error=True) is False
        assert time.monotonic() - started < 0.19
    finally:
        g.kill()
