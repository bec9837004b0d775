"""redis-py against a real redis-server under patch_all(): a BLPOP does not stall others."""

from __future__ import annotations

import pytest

from conftest import run_patched

pytest.importorskip("redis")


def test_blpop_does_not_stall_other_greenlets(redis_port):
    run_patched(f"""
        import time
        import gevent, redis
        pool = redis.ConnectionPool(host="127.0.0.1", port={redis_port})
        client = redis.Redis(connection_pool=pool)
        client.delete("q")
        ticks = []
        def busy():
            other = redis.Redis(connection_pool=pool)
            for i in range(20):
                other.set(f"k{{i}}", i)
                assert int(other.get(f"k{{i}}")) == i
                ticks.append(time.monotonic())
                gevent.sleep(0.02)
        start = time.monotonic()
        waiter = gevent.spawn(client.blpop, ["q"], timeout=1)
        worker = gevent.spawn(busy)
        gevent.joinall([waiter, worker], timeout=10, raise_error=True)
        assert waiter.value is None  # timed out: nothing was pushed
        assert len(ticks) == 20 and ticks[-1] - start < 0.9, ticks[-1] - start
        assert time.monotonic() - start >= 0.95
        # a push from another greenlet wakes the BLPOP
        waiter = gevent.spawn(client.blpop, ["q"], timeout=5)
        gevent.sleep(0.05)
        redis.Redis(connection_pool=pool).rpush("q", b"hello")
        assert waiter.get(timeout=5) == (b"q", b"hello")
        print("OK")
    """)


def test_many_greenlets_share_a_pool(redis_port):
    run_patched(f"""
        import gevent, redis
        client = redis.Redis(host="127.0.0.1", port={redis_port})
        def incr(n):
            for _ in range(n):
                client.incr("counter")
        client.delete("counter")
        gevent.joinall([gevent.spawn(incr, 50) for _ in range(20)], timeout=20, raise_error=True)
        assert int(client.get("counter")) == 1000
        print("OK")
    """)
