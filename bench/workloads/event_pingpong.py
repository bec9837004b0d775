"""Issue 3: two greenlets ping-pong through two ``gevent.event.Event`` objects.

Metric: microseconds per round trip (set, wake the other side, clear, set back).
"""

from benchlib import emit, now, scaled

import gevent
from gevent.event import Event

ROUND_TRIPS = scaled(200_000)


def ping(count: int, mine: Event, theirs: Event) -> None:
    for _ in range(count):
        theirs.set()
        mine.wait()
        mine.clear()


def pong(count: int, mine: Event, theirs: Event) -> None:
    for _ in range(count):
        mine.wait()
        mine.clear()
        theirs.set()


def run(count: int) -> float:
    ping_event, pong_event = Event(), Event()
    start = now()
    gevent.joinall(
        [
            gevent.spawn(ping, count, pong_event, ping_event),
            gevent.spawn(pong, count, ping_event, pong_event),
        ]
    )
    return now() - start


run(1000)  # warm up
elapsed = run(ROUND_TRIPS)
emit(us_per_round_trip=elapsed / ROUND_TRIPS * 1e6)
