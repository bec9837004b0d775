"""The same test bodies on the stdlib's queue.Queue with threads and on gevent.queue.Queue
with greenlets (STYLE.md 12): behaviour that differs is a bug."""

from __future__ import annotations

import queue as stdlib_queue
import sys
import threading

import pytest

import gevent
import gevent.queue


class _Threads:
    name = "stdlib"
    Queue = stdlib_queue.Queue
    LifoQueue = stdlib_queue.LifoQueue
    PriorityQueue = stdlib_queue.PriorityQueue
    Empty = stdlib_queue.Empty
    Full = stdlib_queue.Full
    ShutDown = getattr(stdlib_queue, "ShutDown", None)

    @staticmethod
    def spawn(func, *args):
        thread = threading.Thread(target=func, args=args)
        thread.start()
        return thread

    @staticmethod
    def join(workers):
        for worker in workers:
            worker.join(10)
            assert not worker.is_alive()


class _Greenlets:
    name = "gevent"
    Queue = gevent.queue.Queue
    LifoQueue = gevent.queue.LifoQueue
    PriorityQueue = gevent.queue.PriorityQueue
    Empty = gevent.queue.Empty
    Full = gevent.queue.Full
    ShutDown = gevent.queue.ShutDown

    @staticmethod
    def spawn(func, *args):
        return gevent.spawn(func, *args)

    @staticmethod
    def join(workers):
        gevent.joinall(workers, timeout=10, raise_error=True)
        assert all(worker.dead for worker in workers)


@pytest.fixture(params=[_Threads, _Greenlets], ids=lambda impl: impl.name)
def impl(request):
    return request.param


def test_producers_consumers_deliver_everything_in_order(impl):
    queue = impl.Queue(5)
    received = {0: [], 1: []}

    def produce(producer):
        for index in range(200):
            queue.put((producer, index))

    def consume():
        while True:
            item = queue.get()
            if item is None:
                queue.task_done()
                return
            received[item[0]].append(item[1])
            queue.task_done()

    consumer = impl.spawn(consume)
    producers = [impl.spawn(produce, n) for n in (0, 1)]
    impl.join(producers)
    queue.put(None)
    impl.join([consumer])
    queue.join()
    assert received == {0: list(range(200)), 1: list(range(200))}
    assert queue.unfinished_tasks == 0 and queue.empty()


def test_bounds_and_nonblocking_errors(impl):
    queue = impl.Queue(2)
    queue.put_nowait(1)
    queue.put(2, timeout=0.01)
    assert queue.full() and queue.qsize() == 2
    with pytest.raises(impl.Full):
        queue.put(3, block=False)
    with pytest.raises(impl.Full):
        queue.put(3, timeout=0.01)
    assert queue.get() == 1 and queue.get_nowait() == 2
    with pytest.raises(impl.Empty):
        queue.get(block=False)
    with pytest.raises(impl.Empty):
        queue.get(timeout=0.01)
    assert queue.unfinished_tasks == 2


def test_blocked_putter_resumes_when_room(impl):
    queue = impl.Queue(1)
    queue.put("first")
    putter = impl.spawn(queue.put, "second")
    assert queue.get(timeout=5) == "first"
    assert queue.get(timeout=5) == "second"
    impl.join([putter])


def test_lifo_and_priority_order(impl):
    lifo = impl.LifoQueue()
    priority = impl.PriorityQueue()
    for item in (3, 1, 2):
        lifo.put(item)
        priority.put(item)
    assert [lifo.get() for _ in range(3)] == [2, 1, 3]
    assert [priority.get() for _ in range(3)] == [1, 2, 3]


def test_task_done_too_often(impl):
    queue = impl.Queue()
    queue.put(1)
    queue.get()
    queue.task_done()
    with pytest.raises(ValueError):
        queue.task_done()


@pytest.mark.skipif(sys.version_info < (3, 13), reason="the stdlib has shutdown() from 3.13")
def test_shutdown_matches_stdlib(impl):
    queue = impl.Queue()
    results = []

    def getter():
        try:
            queue.get()
        except impl.ShutDown:
            results.append("shutdown")

    worker = impl.spawn(getter)
    # Let the getter block first (a thread needs real time, a greenlet a switch).
    if impl is _Threads:
        import time

        time.sleep(0.05)
    else:
        gevent.sleep(0)
    queue.put(1)
    queue.shutdown()
    impl.join([worker])
    with pytest.raises(impl.ShutDown):
        queue.put(2)
    queue.shutdown(immediate=True)
    with pytest.raises(impl.ShutDown):
        queue.get()
