"""concurrent.futures and subprocess from many threads, under patch_all()."""

from __future__ import annotations

from conftest import run_patched


def test_thread_pool_executor():
    run_patched("""
        import time
        from concurrent.futures import ThreadPoolExecutor, as_completed, wait
        import threading
        start = time.monotonic()
        with ThreadPoolExecutor(max_workers=8) as pool:
            futures = [pool.submit(time.sleep, 0.3) for _ in range(8)]
            wait(futures, timeout=10)
        assert time.monotonic() - start < 1.0, time.monotonic() - start
        with ThreadPoolExecutor(max_workers=4) as pool:
            assert list(pool.map(lambda x: x * x, range(20))) == [x * x for x in range(20)]
            failing = pool.submit(lambda: 1 / 0)
            try:
                failing.result(timeout=5)
            except ZeroDivisionError:
                pass
            else:
                raise AssertionError("the exception must come back")
            names = {f.result() for f in as_completed(
                [pool.submit(lambda: threading.current_thread().name) for _ in range(8)])}
            assert all(n.startswith("ThreadPoolExecutor") for n in names), names
        assert threading.active_count() == 1, threading.enumerate()
        print("OK")
    """)


def test_subprocess_run_from_many_threads():
    run_patched("""
        import subprocess, sys, threading, time
        outputs = []
        def run(i):
            proc = subprocess.run([sys.executable, "-c",
                                   f"import time; time.sleep(0.5); print({i})"],
                                  capture_output=True, text=True, timeout=20)
            outputs.append(proc.stdout.strip())
        start = time.monotonic()
        threads = [threading.Thread(target=run, args=(i,)) for i in range(6)]
        for t in threads: t.start()
        ticks = 0
        while any(t.is_alive() for t in threads):
            ticks += 1
            time.sleep(0.01)
        elapsed = time.monotonic() - start
        assert sorted(outputs) == [str(i) for i in range(6)], outputs
        assert elapsed < 6 * 0.5, elapsed   # they ran at the same time
        assert ticks > 10, ticks             # and the main greenlet kept running meanwhile
        print("OK")
    """)
