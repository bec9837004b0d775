"""Issue 2: 100k greenlets each sleep a random 0-100 ms.

Metrics: wall time from the first spawn to the end of ``joinall`` (ideal: a little over
0.1 s), and the mean lateness of the wake-ups (how long after its deadline each greenlet
ran again), in milliseconds.
"""

import random

from benchlib import emit, now, scaled

import gevent

GREENLETS = scaled(100_000)
MAX_SLEEP = 0.1

lateness_total = 0.0


def sleeper(delay: float) -> None:
    global lateness_total
    deadline = now() + delay
    gevent.sleep(delay)
    lateness_total += now() - deadline


gevent.joinall([gevent.spawn(sleeper, 0.001) for _ in range(100)])  # warm up
lateness_total = 0.0
rng = random.Random(42)
delays = [rng.uniform(0, MAX_SLEEP) for _ in range(GREENLETS)]
start = now()
gevent.joinall([gevent.spawn(sleeper, delay) for delay in delays])
wall = now() - start
emit(wall_s=wall, lateness_ms=lateness_total / GREENLETS * 1e3)
