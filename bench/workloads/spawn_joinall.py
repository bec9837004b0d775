"""Issue 2: spawn 100k greenlets running a trivial function, then ``joinall`` them.

Metric: microseconds per greenlet (spawn, run, join).
"""

from benchlib import emit, now, scaled

import gevent

GREENLETS = scaled(100_000)


def work(index: int) -> int:
    return index


def run(count: int) -> float:
    start = now()
    greenlets = [gevent.spawn(work, index) for index in range(count)]
    gevent.joinall(greenlets)
    elapsed = now() - start
    assert greenlets[-1].value == count - 1
    return elapsed


run(1000)  # warm up
elapsed = run(GREENLETS)
emit(us_per_greenlet=elapsed / GREENLETS * 1e6)
