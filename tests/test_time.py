"""gevent.time: the time module with a cooperative sleep."""

from __future__ import annotations

import time

import gevent
import gevent.time as gtime
from gevent.hub import sleep


def test_sleep_is_gevents():
    assert gtime.sleep is sleep


def test_sleep_lets_greenlets_run_concurrently():
    start = time.monotonic()
    glets = [gevent.spawn(gtime.sleep, 0.2) for _ in range(20)]
    gevent.joinall(glets, timeout=5)
    assert all(g.successful() for g in glets)
    assert time.monotonic() - start < 1.0


def test_everything_else_is_time():
    for name in ("time", "monotonic", "perf_counter", "strftime", "struct_time", "gmtime"):
        assert getattr(gtime, name) is getattr(time, name)
    for name in gtime.__imports__:
        assert getattr(gtime, name) is getattr(time, name), name
    assert gtime.__implements__ == ["sleep"]
    assert gtime.__all__ == ["sleep"]
