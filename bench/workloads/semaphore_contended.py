"""Issue 3: 100 greenlets contend for one ``Semaphore(1)``, each yielding while it holds it.

Metric: microseconds per acquire/release (every acquire but the first waits its turn).
"""

from benchlib import emit, now, scaled

import gevent
from gevent.lock import Semaphore

CONTENDERS = 100
ACQUIRES_EACH = scaled(2_000)


def contend(semaphore: Semaphore, count: int) -> None:
    for _ in range(count):
        with semaphore:
            gevent.sleep(0)


def run(count: int) -> float:
    semaphore = Semaphore(1)
    start = now()
    gevent.joinall([gevent.spawn(contend, semaphore, count) for _ in range(CONTENDERS)])
    return now() - start


run(10)  # warm up
elapsed = run(ACQUIRES_EACH)
emit(us_per_acquire=elapsed / (CONTENDERS * ACQUIRES_EACH) * 1e6)
