"""Issue 2: two greenlets take turns through ``gevent.sleep(0)``.

Metric: microseconds per ``sleep(0)`` (each one is a switch to the other greenlet and back
through the hub).
"""

from benchlib import emit, now, scaled

import gevent

SWITCHES = scaled(300_000)


def yielder(count: int) -> None:
    for _ in range(count):
        gevent.sleep(0)


def run(count: int) -> float:
    start = now()
    gevent.joinall([gevent.spawn(yielder, count), gevent.spawn(yielder, count)])
    return now() - start


run(1000)  # warm up: creates the hub and its loop
elapsed = run(SWITCHES)
emit(us_per_sleep0=elapsed / (2 * SWITCHES) * 1e6)
