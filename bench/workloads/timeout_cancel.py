"""Issue 2: arm and cancel a ``gevent.Timeout`` that never fires.

Metric: microseconds per ``Timeout(10)`` + ``start()`` + ``cancel()``.
"""

from benchlib import emit, now, scaled

import gevent

TIMEOUTS = scaled(300_000)


def run(count: int) -> float:
    Timeout = gevent.Timeout
    start = now()
    for _ in range(count):
        timeout = Timeout(10)
        timeout.start()
        timeout.cancel()
    return now() - start


gevent.sleep(0)  # warm up: the hub exists before the clock starts
run(1000)
elapsed = run(TIMEOUTS)
gevent.sleep(0)
emit(us_per_timeout=elapsed / TIMEOUTS * 1e6)
