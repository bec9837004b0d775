"""Issue 3: one producer greenlet puts 1M items on a ``gevent.queue.Queue``, one consumer
gets them.

Argument: the queue's maxsize (0, the default, is unbounded; the runner also runs 100).
Metric: microseconds per item (one put plus one get).
"""

import sys

from benchlib import emit, now, scaled

import gevent
from gevent.queue import Queue

MAXSIZE = int(sys.argv[1]) if len(sys.argv) > 1 else 0
ITEMS = scaled(1_000_000)


def produce(queue: Queue, count: int) -> None:
    put = queue.put
    for item in range(count):
        put(item)


def consume(queue: Queue, count: int) -> int:
    get = queue.get
    total = 0
    for _ in range(count):
        total += get()
    return total


def run(count: int) -> float:
    queue = Queue(MAXSIZE) if MAXSIZE else Queue()
    start = now()
    consumer = gevent.spawn(consume, queue, count)
    producer = gevent.spawn(produce, queue, count)
    gevent.joinall([producer, consumer])
    elapsed = now() - start
    assert consumer.value == count * (count - 1) // 2
    return elapsed


run(1000)  # warm up
elapsed = run(ITEMS)
emit(us_per_item=elapsed / ITEMS * 1e6)
