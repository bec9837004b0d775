"""Issue 3: 10k ``get_hub().threadpool.apply`` calls of a trivial function, one after the
other from one greenlet.

Metric: microseconds per call (hand-off to a worker thread and the result back).
"""

from benchlib import emit, now, scaled

import gevent

CALLS = scaled(10_000)


def trivial(value: int) -> int:
    return value + 1


def run(count: int) -> float:
    apply = gevent.get_hub().threadpool.apply
    start = now()
    for index in range(count):
        assert apply(trivial, (index,)) == index + 1
    return now() - start


run(100)  # warm up: starts the pool's threads
elapsed = run(CALLS)
emit(us_per_call=elapsed / CALLS * 1e6)
