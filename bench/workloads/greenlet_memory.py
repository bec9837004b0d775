"""Issue 2: memory per greenlet parked on an ``Event``.

Metric: growth of the process's resident set size (/proc/self/statm) per greenlet, in
bytes, after N greenlets have started and are all blocked in ``Event.wait()``.
"""

import gc

from benchlib import emit, rss_bytes, scaled

import gevent
from gevent.event import Event

GREENLETS = scaled(50_000)


def park(event: Event) -> None:
    event.wait()


def warm_up() -> None:
    event = Event()
    greenlets = [gevent.spawn(park, event) for _ in range(1000)]
    gevent.sleep(0)
    event.set()
    gevent.joinall(greenlets)


warm_up()
gc.collect()
before = rss_bytes()
event = Event()
greenlets = [gevent.spawn(park, event) for _ in range(GREENLETS)]
gevent.sleep(0)
gevent.sleep(0)
assert not any(g.dead for g in greenlets[:10])
gc.collect()
after = rss_bytes()
event.set()
gevent.joinall(greenlets, timeout=30)
emit(bytes_per_greenlet=(after - before) / GREENLETS)
