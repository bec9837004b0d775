"""PostgreSQL clients under patch_all(): concurrent pg_sleep calls overlap.

psycopg 3 notices gevent's patching and waits cooperatively; psycopg2 needs psycogreen's
wait callback.
"""

from __future__ import annotations

import pytest

from conftest import run_patched


def test_psycopg3_queries_overlap(postgres_dsn):
    pytest.importorskip("psycopg")
    run_patched(f"""
        import time
        import gevent, psycopg
        def sleeper(i):
            with psycopg.connect({postgres_dsn!r}) as conn:
                return conn.execute("select pg_sleep(0.5), %s", (i,)).fetchone()[1]
        start = time.monotonic()
        jobs = [gevent.spawn(sleeper, i) for i in range(4)]
        gevent.joinall(jobs, timeout=30, raise_error=True)
        elapsed = time.monotonic() - start
        assert [j.value for j in jobs] == [0, 1, 2, 3]
        assert elapsed < 1.5, elapsed
        print("OK")
    """)


def test_psycopg2_with_psycogreen_queries_overlap(postgres_dsn):
    pytest.importorskip("psycopg2")
    pytest.importorskip("psycogreen")
    run_patched(f"""
        import time
        import gevent, psycopg2
        from psycogreen.gevent import patch_psycopg
        patch_psycopg()
        def sleeper(i):
            conn = psycopg2.connect({postgres_dsn!r})
            try:
                cur = conn.cursor()
                cur.execute("select pg_sleep(0.5), %s", (i,))
                return cur.fetchone()[1]
            finally:
                conn.close()
        start = time.monotonic()
        jobs = [gevent.spawn(sleeper, i) for i in range(4)]
        gevent.joinall(jobs, timeout=30, raise_error=True)
        elapsed = time.monotonic() - start
        assert [j.value for j in jobs] == [0, 1, 2, 3]
        assert elapsed < 1.5, elapsed
        print("OK")
    """)
