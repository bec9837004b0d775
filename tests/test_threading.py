"""gevent.threading: what patch_thread() rebinds in threading, checked against this Python.

Behaviour under patching runs in fresh interpreters: tests/isolated/test_isolated_threads.py.
"""

from __future__ import annotations

import _thread
import threading

import gevent
import gevent.thread as gthread
import gevent.threading as gthreading
from gevent.local import local


def test_implements_names_threading_has():
    assert gthreading.__implements__, "nothing to patch?"
    for name in gthreading.__implements__:
        assert name in vars(threading), name
        assert hasattr(gthreading, name), name
    assert gthreading.__extensions__ == ["main_native_thread"]


def test_every_thread_function_threading_copied_is_covered():
    # Each threading global that *is* a _thread object we replace must be in __implements__
    # (monkey also rebinds such globals generically, for Pythons newer than this code).
    replaced = {id(getattr(_thread, n)): n for n in gthread.__implements__}
    copied = sorted(name for name, value in vars(threading).items()
                    if id(value) in replaced and name not in ("_thread",))
    missing = [n for n in copied if n not in gthreading.__implements__]
    assert not missing, missing


def test_green_counterparts():
    assert gthreading.get_ident is gthread.get_ident
    assert gthreading._allocate_lock is gthread.allocate_lock
    assert gthreading.Lock is gthread.LockType
    assert gthreading._CRLock is None  # threading.RLock: the stdlib's Python RLock, green
    assert gthreading.local is local
    assert issubclass(gthreading._DummyThread, threading._DummyThread)


def test_main_native_thread():
    assert gthreading.main_native_thread() is threading.main_thread()


def test_dummy_thread_is_forgotten_when_its_greenlet_ends():
    # Build the dummy by hand (threading itself is not patched in this process).
    box = []

    def body():
        box.append(gthreading._DummyThread())

    saved = dict(threading._active)
    try:
        glet = gevent.spawn(body)
        glet.join()
        dummy = box[0]
        gevent.sleep(0)
        assert threading._active.get(dummy.ident) is not dummy
    finally:
        # Unpatched threading gave the dummy the real thread's ident, so forgetting it removed
        # the main thread's entry: put the process's threading state back for later tests.
        threading._active.clear()
        threading._active.update(saved)


def test_dummy_thread_still_known_to_the_greenlet_its_last_release_woke():
    # gevent's order: a greenlet woken by the last thing a green thread did (releasing a lock)
    # runs before the thread's dummy is forgotten; the dummy goes when the greenlet's links run.
    from gevent.thread import allocate_lock

    box = []
    lock = allocate_lock()
    lock.acquire()

    def body():
        box.append(gthreading._DummyThread())
        lock.release()

    saved = dict(threading._active)
    try:
        glet = gevent.spawn(body)
        assert lock.acquire(timeout=5)
        dummy = box[0]
        assert threading._active.get(dummy.ident) is dummy
        glet.join(timeout=5)
        gevent.sleep(0)
        assert threading._active.get(dummy.ident) is not dummy
    finally:
        threading._active.clear()
        threading._active.update(saved)
