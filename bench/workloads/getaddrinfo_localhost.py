"""Issue 4: 2k ``gevent.socket.getaddrinfo('localhost', 80)`` calls, one after the other.

Metric: microseconds per call (through the default resolver).
"""

from benchlib import emit, now, scaled

import gevent
from gevent import socket

CALLS = scaled(2000)


def run(count: int) -> float:
    getaddrinfo = socket.getaddrinfo
    start = now()
    for _ in range(count):
        assert getaddrinfo("localhost", 80)
    return now() - start


gevent.sleep(0)
run(20)  # warm up: the resolver and its threads exist before the clock starts
elapsed = run(CALLS)
emit(us_per_call=elapsed / CALLS * 1e6)
