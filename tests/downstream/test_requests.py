"""requests and urllib3 under patch_all(): concurrent fetches from a slow server overlap."""

from __future__ import annotations

import pytest

from conftest import SLOW_SECONDS, run_patched

pytest.importorskip("requests")


def test_requests_fetch_concurrently(slow_http_server):
    run_patched(f"""
        import time
        import gevent, requests
        url = {slow_http_server!r}
        session = requests.Session()
        start = time.monotonic()
        jobs = [gevent.spawn(requests.get, f"{{url}}/r{{i}}", timeout=10) for i in range(10)]
        gevent.joinall(jobs, timeout=20, raise_error=True)
        elapsed = time.monotonic() - start
        assert [j.value.text for j in jobs] == [f"path=/r{{i}}" for i in range(10)]
        # ten requests of {SLOW_SECONDS} s each, at the same time
        assert elapsed < {SLOW_SECONDS} * 6, elapsed  # one after another: 6x or more
        # a session's pool shared by greenlets
        jobs = [gevent.spawn(session.get, f"{{url}}/s{{i}}", timeout=10) for i in range(6)]
        gevent.joinall(jobs, timeout=20, raise_error=True)
        assert all(j.value.status_code == 200 for j in jobs)
        print("OK")
    """)


def test_urllib3_pool_from_threads(slow_http_server):
    run_patched(f"""
        import threading, time
        import urllib3
        pool = urllib3.PoolManager(maxsize=8, block=True)
        results = []
        def fetch(i):
            results.append(pool.request("GET", f"{slow_http_server}/u{{i}}").data)
        start = time.monotonic()
        threads = [threading.Thread(target=fetch, args=(i,)) for i in range(8)]
        for t in threads: t.start()
        for t in threads: t.join(20)
        elapsed = time.monotonic() - start
        assert sorted(results) == sorted(f"path=/u{{i}}".encode() for i in range(8))
        assert elapsed < {SLOW_SECONDS} * 6, elapsed  # one after another: 6x or more
        # more threads than connections: block=True waits on urllib3's queue (patched)
        results.clear()
        pool = urllib3.PoolManager(maxsize=2, block=True)
        threads = [threading.Thread(target=fetch, args=(i,)) for i in range(6)]
        for t in threads: t.start()
        for t in threads: t.join(20)
        assert len(results) == 6
        print("OK")
    """)
