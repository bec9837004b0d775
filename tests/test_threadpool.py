"""gevent.threadpool: native worker threads, results handed back through the hub."""

from __future__ import annotations

import _thread
import os
import sys
import time

import pytest

import gevent
from gevent.event import AsyncResult
from gevent.threadpool import ThreadPool, ThreadPoolExecutor, ThreadResult


def _wait_until(predicate, timeout=5.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        gevent.sleep(0.005)


@pytest.fixture
def pool():
    pool = ThreadPool(3)
    yield pool
    pool.kill()
    _wait_until(lambda: pool.size == 0)


def test_apply_returns_and_raises(pool):
    assert pool.apply(pow, (2, 10)) == 1024
    with pytest.raises(ZeroDivisionError):
        pool.apply(lambda: 1 / 0)
    assert pool.spawn(lambda x: x, 5).get(timeout=5) == 5


def test_runs_in_other_threads_without_blocking_the_hub(pool):
    hub_thread = _thread.get_ident()
    idents = pool.map(lambda _: _thread.get_ident(), range(3))
    assert hub_thread not in idents
    ticks = []
    ticker = gevent.spawn(lambda: [ticks.append(gevent.sleep(0.01)) for _ in range(5)])
    start = time.monotonic()
    results = [pool.spawn(time.sleep, 0.1) for _ in range(3)]
    gevent.wait(results, timeout=5)
    elapsed = time.monotonic() - start
    ticker.join(5)
    assert len(ticks) == 5  # the hub kept running while the threads slept
    assert elapsed < 0.25  # the three sleeps ran in parallel


def test_size_grows_on_demand_up_to_maxsize(pool):
    assert pool.size == 0 and pool.maxsize == 3
    results = [pool.spawn(time.sleep, 0.05) for _ in range(6)]
    assert pool.size <= 3
    gevent.wait(results, timeout=5)
    assert pool.join(5) is True
    pool.size = 1
    _wait_until(lambda: pool.size == 1)
    with pytest.raises(ValueError):
        pool.size = 4


def test_kill_stops_threads(pool):
    pool.size = 3
    assert pool.size == 3
    pool.kill()
    _wait_until(lambda: pool.size == 0)


def test_idle_threads_exit():
    pool = ThreadPool(2, idle_task_timeout=0.05)
    assert pool.apply(lambda: 1) == 1
    _wait_until(lambda: pool.size == 0)
    assert pool.apply(lambda: 2) == 2  # a new thread starts on demand
    pool.kill()
    _wait_until(lambda: pool.size == 0)


def test_waiting_for_results_keeps_the_loop_alive(pool):
    # Only the pool's reference keeps the loop running while the thread works: no LoopExit.
    assert pool.apply(time.sleep, (0.05,)) is None


def test_nested_apply_runs_inline(pool):
    assert pool.apply(lambda: pool.apply(lambda: "inner")) == "inner"


def test_mapping_api(pool):
    assert pool.map(abs, [-1, -2]) == [1, 2]
    assert sorted(pool.imap_unordered(abs, [-3, -4])) == [3, 4]
    assert list(pool.imap(pow, [2, 3], [2, 2])) == [4, 9]
    got = []
    result = pool.apply_async(abs, (-5,), callback=got.append)
    assert result.get(timeout=5) == 5
    _wait_until(lambda: got == [5])


def test_hub_threadpool_is_created_lazily_from_config():
    hub = gevent.get_hub()
    pool = hub.threadpool
    assert isinstance(pool, ThreadPool) and pool.hub is hub
    assert pool is hub.threadpool
    assert pool.apply(lambda: "ok") == "ok"


def test_thread_result_delivers_in_hub():
    received = []
    hub = gevent.get_hub()
    ready = []
    result = ThreadResult(lambda r: received.append((r, r.value)), hub, lambda: ready.append(1))

    def worker():
        result.set(42)

    _thread.start_new_thread(worker, ())
    _wait_until(lambda: received)
    assert received[0] == (result, 42) and result.successful()
    assert ready == [1]
    # Delivered: as in gevent, the value is dropped and the receiver is no longer None.
    assert result.value is None and result.receiver is not None


def test_executor_futures_wait_cooperatively():
    executor = ThreadPoolExecutor(2)
    try:
        future = executor.submit(time.sleep, 0.05)
        other = gevent.spawn(lambda: "ran while waiting")
        assert future.result(timeout=5) is None
        assert other.get(timeout=5) == "ran while waiting"
        failing = executor.submit(lambda: 1 / 0)
        assert isinstance(failing.exception(timeout=5), ZeroDivisionError)
        with pytest.raises(ZeroDivisionError):
            failing.result()
        futures = [executor.submit(abs, -n) for n in range(3)]
        done = gevent.wait(futures, timeout=5)
        assert len(done) == 3 and [f.result() for f in futures] == [0, 1, 2]
        assert list(executor.map(abs, [-1, -2])) == [1, 2]
    finally:
        executor.shutdown()
    with pytest.raises(RuntimeError):
        executor.submit(abs, 1)
    _wait_until(lambda: executor._pool.size == 0)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_on_fork_resets_pool_in_child(pool):
    assert pool.apply(lambda: 1) == 1
    assert pool.size >= 1
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: the parent's threads are gone, the pool starts afresh
        try:
            pool._on_fork()
            ok = pool.size == 0 and pool.apply(lambda: 7) == 7
            os.write(write_fd, b"ok" if ok else b"bad")
        finally:
            os._exit(0)
    os.close(write_fd)
    try:
        data = b""
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            chunk = os.read(read_fd, 2)
            data += chunk
            if not chunk or len(data) >= 2:
                break
    finally:
        os.close(read_fd)
        os.waitpid(pid, 0)
    assert data == b"ok"


def test_workers_started_with_original_start_new_thread():
    import gevent.threadpool as module

    assert module._start_new_thread is _thread.start_new_thread or "gevent.monkey" in sys.modules


def test_apply_left_early_drops_its_result_and_the_pool_goes_on(pool):
    # apply() from a greenlet waits without an AsyncResult: the result's hub callback
    # switches straight back. A caller that leaves first (timeout, kill) must not be
    # switched into later, and the pool must keep working.
    release = _thread.allocate_lock()
    release.acquire()

    def blocked():
        release.acquire(timeout=10)
        release.release()
        return "late"

    with pytest.raises(gevent.Timeout):
        with gevent.Timeout(0.05):
            pool.apply(blocked)
    waiter = gevent.spawn(pool.apply, blocked)
    gevent.sleep(0)  # it queues its task and waits
    waiter.kill()
    assert waiter.dead and isinstance(waiter.value, gevent.GreenletExit)
    # Now wait for something else while both late results arrive: a stray switch into
    # this greenlet would end this wait early, with a value that is not the one set. The
    # answer is set only once the pool has delivered both (join), so after any stray switch.
    answer = AsyncResult()

    def finish():
        release.release()
        assert pool.join(timeout=5)
        answer.set(42)

    gevent.spawn(finish)
    assert answer.get(timeout=5) == 42
    assert pool.apply(pow, (3, 3)) == 27


def test_apply_error_keeps_its_traceback(pool):
    def fails():
        raise KeyError("inside the worker")

    with pytest.raises(KeyError) as info:
        pool.apply(fails)
    assert any(entry.name == "fails" for entry in info.traceback)
    # Many greenlets applying at once each get their own result.
    results = [gevent.spawn(pool.apply, pow, (n, 2)) for n in range(20)]
    gevent.joinall(results, timeout=10, raise_error=True)
    assert [g.value for g in results] == [n * n for n in range(20)]


def test_spawn_waits_for_a_slot_and_len_counts_unfinished_tasks():
    # As in gevent: maxsize + 1 tasks may be submitted (one waits queued); the next spawn
    # waits until a result is back. len() counts the tasks not finished.
    pool = ThreadPool(1)
    try:
        release = _thread.allocate_lock()
        release.acquire()
        assert len(pool) == 0 and bool(pool)
        first = pool.spawn(release.acquire)
        second = pool.spawn(lambda: "second")
        assert len(pool) == 2
        log = []
        third = gevent.spawn(lambda: log.append(pool.spawn(lambda: "third")))
        gevent.sleep(0.02)
        assert log == [] and len(pool) == 2  # the third spawn waits for a slot
        release.release()
        third.join(timeout=5)
        assert log and log[0].get(timeout=5) == "third"
        assert first.get(timeout=5) is True and second.get(timeout=5) == "second"
        _wait_until(lambda: len(pool) == 0)
    finally:
        pool.kill()


def test_spawn_waits_until_maxsize_grows():
    pool = ThreadPool(0)
    try:
        done = []
        gevent.spawn(pool.spawn, done.append, 1)
        gevent.sleep(0.02)
        assert done == [] and pool.size == 0
        pool.maxsize = 1
        _wait_until(lambda: done == [1])
    finally:
        pool.kill()


def test_size_assignment_is_seen_at_once(pool):
    pool.size = 2
    assert pool.size == 2
    pool.size = 1
    assert pool.size == 1
    pool.size = 0
    assert pool.size == 0


def test_apply_async_returns_a_greenlet(pool):
    results = []
    task = pool.apply_async(abs, (-3,), callback=results.append)
    assert isinstance(task, gevent.Greenlet)
    assert task.get(timeout=5) == 3
    _wait_until(lambda: results == [3])


def test_spawn_from_another_thread_is_refused(pool):
    from gevent.exceptions import InvalidThreadUseError

    other = ThreadPool(1)
    try:
        outcome = pool.spawn(lambda: other.spawn(abs, 1))
        with pytest.raises(InvalidThreadUseError):
            outcome.get(timeout=5)
    finally:
        other.kill()


def test_executor_future_and_concurrent_futures_wait_unpatched():
    # Unpatched, concurrent.futures.wait() would block the hub's thread on a native lock
    # while the result can only come through that hub: as in gevent it fails at once
    # (AttributeError) for a future not done yet, and works for a done one.
    import concurrent.futures

    executor = ThreadPoolExecutor(1)
    try:
        release = _thread.allocate_lock()
        release.acquire()
        future = executor.submit(release.acquire)
        with pytest.raises(AttributeError):
            concurrent.futures.wait([future], timeout=5)
        release.release()
        assert future.result(timeout=5) is True
        gevent.sleep(0.01)  # the hub's own transfer runs after result() did it: no error
        done, not_done = concurrent.futures.wait([future], timeout=5)
        assert done == {future} and not not_done
        assert list(concurrent.futures.as_completed([future], timeout=5)) == [future]
    finally:
        executor.shutdown()


def test_tasks_run_in_a_worker_greenlet_with_the_threading_hooks(pool):
    import threading

    from greenlet import getcurrent

    worker = pool.apply(getcurrent)
    assert "ThreadPoolWorker" in repr(worker) and "thread_ident" in repr(worker)
    seen = []

    def profiler(*_args):
        pass

    threading.setprofile(profiler)
    try:
        pool.apply(lambda: seen.append(sys.getprofile()))
    finally:
        threading.setprofile(None)
    assert seen == [profiler]
    # A hook that the task left behind is removed after it.
    assert pool.apply(sys.getprofile) is None


def test_a_failing_before_task_hook_reaches_the_caller():
    class Failing(ThreadPool):
        class _WorkerGreenlet(ThreadPool._WorkerGreenlet):
            fail = True

            def _before_run_task(self, *args):
                if type(self).fail:
                    raise LookupError("setup failed")
                ThreadPool._WorkerGreenlet._before_run_task(self, *args)

    pool = Failing(2)
    try:
        for _ in range(pool.maxsize + 1):
            with pytest.raises(LookupError):
                pool.apply(abs, (-1,))
        Failing._WorkerGreenlet.fail = False
        assert pool.apply(abs, (-1,)) == 1
    finally:
        pool.kill()


def test_a_task_exception_is_reported_by_the_hub_and_raised_to_the_caller(pool, capfd):
    with pytest.raises(ZeroDivisionError):
        pool.apply(lambda: 1 / 0)
    err = capfd.readouterr().err
    assert "ThreadPoolWorker" in err and "failed with ZeroDivisionError" in err
