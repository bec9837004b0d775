"""gevent.lock: semaphores, RLock and the stdlib-style lock."""

from __future__ import annotations

import pytest

import gevent
from gevent.lock import BoundedSemaphore, DummySemaphore, LockType, RLock, Semaphore, allocate_lock


def test_waiters_acquire_in_fifo_order():
    semaphore = Semaphore(0)
    log = []

    def acquirer(name):
        semaphore.acquire()
        log.append(name)

    greenlets = [gevent.spawn(acquirer, n) for n in "abcd"]
    gevent.sleep(0)
    for _ in range(4):
        semaphore.release()
    gevent.joinall(greenlets, timeout=5)
    assert log == list("abcd")
    assert semaphore.counter == 0


def test_contention_order_matches_gevent():
    # A greenlet that releases and re-acquires without yielding keeps the lock (as in
    # gevent); waiters are then served in the order they came.
    semaphore = Semaphore(1)
    log = []

    def contend(name):
        for _ in range(3):
            with semaphore:
                log.append(name)
                gevent.sleep(0)

    gevent.joinall([gevent.spawn(contend, n) for n in "abc"], timeout=5)
    assert log == list("aaabbbccc")


def test_yielding_between_acquires_is_fair():
    semaphore = Semaphore(1)
    log = []

    def contend(name):
        for _ in range(3):
            with semaphore:
                log.append(name)
                gevent.sleep(0)
            gevent.sleep(0)

    gevent.joinall([gevent.spawn(contend, n) for n in "abc"], timeout=5)
    assert log == list("abcabcabc")


def test_release_from_main_greenlet_hands_permit_to_waiter():
    semaphore = Semaphore(0)
    woke = []
    waiter = gevent.spawn(lambda: woke.append(semaphore.acquire()))
    gevent.sleep(0)
    semaphore.release()
    # The main greenlet cannot barge: the permit already belongs to the waiter.
    assert semaphore.acquire(blocking=False) is False
    waiter.join(5)
    assert woke == [True]


def test_acquire_timeout_and_nonblocking():
    semaphore = Semaphore(0)
    assert semaphore.acquire(blocking=False) is False
    assert semaphore.acquire(timeout=0.01) is False
    assert semaphore.linkcount() == 0
    assert semaphore.locked() and not semaphore.ready()
    assert semaphore.wait(0.01) == 0


def test_kill_while_waiting_leaves_nothing_registered():
    semaphore = Semaphore(0)
    waiters = [gevent.spawn(semaphore.acquire) for _ in range(2)]
    gevent.sleep(0)
    assert semaphore.linkcount() == 2
    gevent.killall(waiters, timeout=5)
    assert semaphore.linkcount() == 0
    semaphore.release()
    assert semaphore.counter == 1


def test_permit_handed_to_a_leaving_waiter_is_passed_on():
    import time

    from gevent.timeout import Timeout

    semaphore = Semaphore(0)
    hub = gevent.get_hub()
    releaser = hub.loop.timer(0.001)
    releaser.start(semaphore.release)
    # The release (which hands the permit to us) and the Timeout fire in the same batch.
    hub.loop.run_callback(time.sleep, 0.02)
    with pytest.raises(Timeout):
        with Timeout(0.002):
            semaphore.acquire()
    releaser.stop()
    assert semaphore.linkcount() == 0
    assert semaphore.counter == 1


def test_wait_does_not_acquire():
    semaphore = Semaphore(0)
    results = []
    waiter = gevent.spawn(lambda: results.append(semaphore.wait(5)))
    gevent.sleep(0)
    semaphore.release()
    waiter.join(5)
    assert results == [1]
    assert semaphore.counter == 1


def test_counter_assignment_wakes_waiters():
    semaphore = Semaphore(0)
    greenlets = [gevent.spawn(semaphore.acquire) for _ in range(3)]
    gevent.sleep(0)
    semaphore.counter += 2
    gevent.sleep(0)
    assert sum(1 for g in greenlets if g.dead) == 2
    semaphore.release()
    gevent.joinall(greenlets, timeout=5)


def test_rawlink_called_when_available():
    semaphore = Semaphore(0)
    calls = []
    semaphore.rawlink(calls.append)
    gevent.sleep(0)
    assert calls == []
    semaphore.release()
    gevent.sleep(0)
    assert calls == [semaphore]


def test_bounded_semaphore_over_release():
    semaphore = BoundedSemaphore(1)
    with pytest.raises(ValueError):
        semaphore.release()
    with semaphore:
        assert semaphore.locked()
    assert semaphore.counter == 1
    with pytest.raises(ValueError):
        Semaphore(-1)


def test_dummy_semaphore():
    dummy = DummySemaphore()
    assert dummy.acquire() is True and dummy.acquire(False) is True
    assert dummy.release() is None
    assert dummy.wait() == 1 and not dummy.locked() and dummy.ready()
    with dummy:
        pass


def test_rlock_reentrant_and_owned():
    lock = RLock()
    assert lock.acquire() and lock.acquire()
    assert lock._is_owned() and lock.locked()
    other = gevent.spawn(lambda: lock.acquire(timeout=0.01))
    assert other.get(timeout=5) is False
    lock.release()
    assert lock.locked()
    lock.release()
    assert not lock.locked()
    with pytest.raises(RuntimeError):
        lock.release()


def test_rlock_release_by_other_greenlet_fails():
    lock = RLock()
    lock.acquire()
    with pytest.raises(RuntimeError):
        gevent.spawn(lock.release).get(timeout=5)
    lock.release()


def test_rlock_release_save_restore():
    lock = RLock()
    with lock:
        with lock:
            count, owner = lock._release_save()
            assert count == 2 and not lock.locked()
            lock._acquire_restore((count, owner))
            assert lock._is_owned()
    assert not lock.locked()


def test_rlock_acquire_stdlib_conventions():
    lock = RLock()
    assert lock.acquire(True, -1)
    lock.release()
    with pytest.raises(ValueError):
        lock.acquire(False, 1)


def test_lock_type_has_stdlib_semantics():
    lock = allocate_lock()
    assert isinstance(lock, LockType)
    assert lock.acquire() is True
    assert lock.locked()
    assert lock.acquire(False) is False
    assert lock.acquire(True, 0.01) is False
    with pytest.raises(ValueError):
        lock.acquire(False, 1)
    with pytest.raises(ValueError):
        lock.acquire(True, -2)
    # Another greenlet may release it (a plain lock has no owner).
    gevent.spawn(lock.release).join(5)
    assert not lock.locked()
    with pytest.raises(RuntimeError):
        lock.release()
    with lock:
        assert lock.locked()
    assert "unlocked" in repr(lock)


def _held(lock_type):
    lock = lock_type()
    holder = gevent.spawn(lock.acquire)
    holder.join(timeout=5)
    return lock


@pytest.mark.parametrize("make", [
    lambda: Semaphore(0), lambda: BoundedSemaphore(0), lambda: _held(LockType),
    lambda: _held(RLock),
])
def test_acquire_accepts_a_timeout_instance(make):
    # As in gevent: the Timeout's own expiry means "not acquired"; an exception it was given
    # is raised instead.
    timeout = gevent.Timeout(0.01)
    assert make().acquire(timeout=timeout) is False
    assert not timeout.pending
    error = ValueError("custom")
    timeout = gevent.Timeout(0.01, error)
    with pytest.raises(ValueError) as caught:
        make().acquire(timeout=timeout)
    assert caught.value is error and not timeout.pending
    semaphore = Semaphore(0)
    timeout = gevent.Timeout(0.01)
    assert semaphore.wait(timeout=timeout) == 0 and not timeout.pending


@pytest.mark.parametrize("make", [allocate_lock, Semaphore, BoundedSemaphore, RLock])
def test_spinning_on_a_failed_try_lets_the_holder_run(make):
    # gevent issue 1464: a loop on acquire(blocking=False) must let other greenlets run, or
    # the holder never releases and the loop spins forever.
    lock = make()
    lock.acquire()
    log = []

    def spinner():
        tries = 0
        while not lock.acquire(blocking=False):
            tries += 1
            assert tries < 100_000, "never yielded"
        log.append("acquired")

    def releaser():
        log.append("released")
        lock.release()

    spinning = gevent.spawn(spinner)
    gevent.sleep(0)  # the spinner starts; releasing needs the main greenlet for an RLock
    if isinstance(lock, RLock):
        lock.release()
        log.append("released")
    else:
        gevent.spawn(releaser)
    spinning.join(timeout=5)
    assert log == ["released", "acquired"]


def test_one_failed_try_does_not_switch():
    # Only a semaphore's sustained spinning yields; an occasional try stays atomic.
    semaphore = Semaphore(0)
    other = gevent.spawn(lambda: None)
    for _ in range(10):
        assert semaphore.acquire(blocking=False) is False
    assert not other.dead
    other.join(timeout=5)


def test_woken_waiter_runs_before_what_the_releaser_spawned():
    # gevent 1487 (fairness): the waiter a release wakes runs before a greenlet the releaser
    # spawned right after releasing.
    semaphore = Semaphore()
    semaphore.acquire()
    log = []

    def waiter():
        semaphore.acquire()
        log.append("waiter")

    def releaser():
        semaphore.release()
        gevent.spawn(log.append, "spawned")
        gevent.sleep(0)

    waiting = gevent.spawn(waiter)
    gevent.sleep(0)
    gevent.spawn(releaser).join(timeout=5)
    waiting.join(timeout=5)
    assert log == ["waiter", "spawned"]


def test_rawlink_on_a_ready_semaphore_counts_until_its_call_has_run():
    # gevent: a rawlink callback stays in linkcount() until the notifier has called it, and
    # unlinking it before then stops the call (iwait relies on this to leave no garbage).
    gevent.sleep(0)  # the hub exists and runs
    sem = Semaphore()
    calls: list = []
    sem.rawlink(calls.append)
    assert sem.linkcount() == 1 and calls == []
    gevent.sleep(0)
    assert sem.linkcount() == 0 and calls == [sem]
    stopped: list = []
    sem.rawlink(stopped.append)
    assert sem.linkcount() == 1
    sem.unlink(stopped.append)
    assert sem.linkcount() == 0
    gevent.sleep(0)
    assert stopped == []


def test_iwait_leaves_no_link_on_the_objects_it_did_not_return():
    sem1 = Semaphore()
    sem2 = Semaphore()
    releaser = gevent.spawn(sem1.release)
    with gevent.iwait((sem1, sem2)) as iterator:
        assert next(iterator) is sem1
        assert sem2.linkcount() == 1  # linked, its call not run yet
    assert sem2.linkcount() == 0
    releaser.get(timeout=5)


def test_event_rawlink_queued_by_set_counts_until_called():
    from gevent.event import Event

    event = Event()
    calls: list = []
    event.rawlink(calls.append)
    event.set()
    assert event.linkcount() == 1 and calls == []
    gevent.sleep(0)
    assert event.linkcount() == 0 and calls == [event]
