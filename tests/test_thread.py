"""gevent.thread, the green _thread, used directly (no patching: that is tests/isolated)."""

from __future__ import annotations

import _thread
import re
import sys
import threading
from pathlib import Path

import pytest
from greenlet import getcurrent

import gevent
import gevent.local
import gevent.thread as gthread
from gevent.lock import LockType


def _names_threading_uses() -> set[str]:
    source = Path(threading.__file__).read_text()
    names = set(re.findall(r"_thread\.([A-Za-z_]\w*)", source))
    names |= {n.strip().split(" as ")[0] for block in
              re.findall(r"from _thread import \(?([^)\n]*(?:\n[^)\n]*)*?)\)?\n", source)
              for n in block.split(",") if n.strip()}
    return {n for n in names if hasattr(_thread, n)}


def test_has_every_name_of_the_running_thread_module():
    public = {n for n in dir(_thread) if not n.startswith("_")}
    wanted = public | _names_threading_uses()
    missing = sorted(n for n in wanted if not hasattr(gthread, n))
    assert not missing, f"gevent.thread lacks {missing} (Python {sys.version_info[:2]})"


def test_threading_uses_are_found():
    # The scan above must see the names threading.py really takes from _thread.
    uses = _names_threading_uses()
    assert {"allocate_lock", "get_ident", "TIMEOUT_MAX"} <= uses
    if sys.version_info >= (3, 13):
        assert {"start_joinable_thread", "_ThreadHandle", "_make_thread_handle",
                "_get_main_thread_ident", "_shutdown", "daemon_threads_allowed"} <= uses
    else:
        assert {"start_new_thread", "_set_sentinel"} <= uses


def test_implements_only_names_the_running_python_has():
    assert gthread.__target__ == "_thread"
    for name in gthread.__implements__ + gthread.__imports__:
        assert hasattr(_thread, name), name
        assert hasattr(gthread, name), name
    for name in gthread.__imports__:
        assert getattr(gthread, name) is getattr(_thread, name) or name == "_get_main_thread_ident"
    assert gthread.error is RuntimeError
    assert gthread.TIMEOUT_MAX == _thread.TIMEOUT_MAX


def test_start_new_thread_runs_in_a_greenlet():
    from gevent.event import Event

    ran = []

    done = Event()

    def target(a, b=None):
        ran.append((a, b, gthread.get_ident(), id(getcurrent())))
        done.set()

    ident = gthread.start_new_thread(target, (1,), {"b": 2})
    assert not ran  # it starts when we yield
    assert done.wait(5)
    assert ran == [(1, 2, ident, ident)]


def test_start_new_thread_checks_its_arguments():
    with pytest.raises(TypeError):
        gthread.start_new_thread(None, ())
    with pytest.raises(TypeError):
        gthread.start_new_thread(print, [])
    with pytest.raises(TypeError):
        gthread.start_new_thread(print, (), [])


def test_root_greenlet_has_the_native_ident():
    assert gthread.get_ident() == _thread.get_ident()
    glet = gevent.spawn(gthread.get_ident)
    assert glet.get(timeout=5) == id(glet)
    assert gthread.get_ident(glet) == id(glet)


def test_exception_goes_to_unraisablehook():
    from gevent.event import Event

    seen = []
    done = Event()

    def hook(args):
        seen.append((args.exc_type, args.err_msg, args.object))
        done.set()

    def boom():
        raise ValueError("x")

    old = sys.unraisablehook
    sys.unraisablehook = hook
    try:
        gthread.start_new_thread(boom, ())
        assert done.wait(5)
    finally:
        sys.unraisablehook = old
    if sys.version_info >= (3, 13):
        assert seen == [(ValueError, f"Exception ignored in thread started by {boom!r}", None)]
    else:
        assert seen == [(ValueError, "Exception ignored in thread started by", boom)]


def test_exit_ends_the_thread_quietly():
    handle = gthread.start_joinable_thread(gthread.exit)
    handle.join(5)
    assert handle.is_done()


def test_joinable_thread_handle():
    from gevent.event import Event

    release = Event()
    handle = gthread.start_joinable_thread(release.wait, daemon=False)
    assert isinstance(handle, gthread._ThreadHandle)
    assert handle.ident and not handle.is_done()
    handle.join(0.01)
    assert not handle.is_done()
    assert gthread._count() >= 1
    release.set()
    handle.join(5)
    assert handle.is_done()
    handle.join()  # again: returns at once
    with pytest.raises(RuntimeError):
        gthread.start_joinable_thread(print, handle=handle)
    with pytest.raises(RuntimeError):
        gthread._ThreadHandle().join()
    with pytest.raises(RuntimeError):
        gthread._ThreadHandle()._set_done()


def test_joining_yourself_is_an_error():
    box = {}

    def me():
        try:
            box["handle"].join()
        except RuntimeError as exc:
            box["error"] = exc

    box["handle"] = handle = gthread.start_joinable_thread(me)
    handle.join(5)
    assert "current thread" in str(box["error"])


def test_killed_before_running_still_finishes():
    handle = gthread._ThreadHandle()
    gthread.start_joinable_thread(lambda: None, handle=handle)
    record = gthread._threads[handle.ident]
    record.greenlet.kill()
    handle.join(5)
    assert handle.is_done() and handle.ident not in gthread._threads


def test_sentinel_is_released_when_the_thread_ends():
    from gevent.event import Event

    release = Event()
    box = {}

    def body():
        box["lock"] = lock = gthread._set_sentinel()
        lock.acquire()
        release.wait()

    handle = gthread.start_joinable_thread(body)
    gevent.sleep(0)
    assert box["lock"].locked()
    release.set()
    assert box["lock"].acquire(timeout=5)
    handle.join(5)


def test_shutdown_waits_for_non_daemon_threads():
    order = []

    def slow():
        gevent.sleep(0.02)
        order.append("thread")

    gthread.start_joinable_thread(slow, daemon=False)
    gthread.start_joinable_thread(lambda: gevent.sleep(30), daemon=True)
    gthread._shutdown()
    order.append("shutdown")
    assert order == ["thread", "shutdown"]
    for record in list(gthread._threads.values()):
        record.greenlet.kill()


def test_locks():
    lock = gthread.allocate_lock()
    assert isinstance(lock, gthread.LockType) and gthread.LockType is LockType
    assert gthread.allocate is gthread.allocate_lock and gthread.lock is gthread.LockType

    class Holder:
        locktype = gthread.allocate_lock  # as CPython's lock tests keep it

    assert isinstance(Holder().locktype(), LockType)
    assert lock.acquire() and lock.locked()
    assert not lock.acquire(False)
    assert not lock.acquire(True, 0.01)
    with pytest.raises(ValueError):
        lock.acquire(False, 1)
    lock.release()
    with pytest.raises(RuntimeError):
        lock.release()
    with lock:
        assert lock.locked()
    lock._at_fork_reinit()
    rlock = gthread.RLock()
    with rlock, rlock:
        assert rlock._is_owned()


def test_lock_handoff_between_threads():
    lock = gthread.allocate_lock()
    lock.acquire()
    got = []
    handle = gthread.start_joinable_thread(lambda: got.append(lock.acquire(timeout=5)))
    gevent.sleep(0.01)
    assert not got
    lock.release()
    handle.join(5)
    assert got == [True]


def test_stack_size():
    assert gthread.stack_size() == 0
    with pytest.raises(ValueError):
        gthread.stack_size(4096)
    assert gthread.stack_size(1 << 20) == 0
    assert gthread.stack_size(0) == 1 << 20


def test_small_helpers():
    assert gthread.daemon_threads_allowed() is True
    assert gthread._get_main_thread_ident() == threading.main_thread().ident
    assert gthread.get_native_id() == threading.get_native_id()
    assert gthread._local is gevent.local.local
    handle = gthread._make_thread_handle(gthread.get_ident())
    assert handle.ident == gthread.get_ident() and not handle.is_done()
    glet = gevent.spawn(gthread.set_name, "a green thread has no OS thread to rename")
    glet.join()
    assert glet.successful()
    box = []
    glet = gevent.spawn(lambda: box.append(gthread._make_thread_handle(0)))
    glet.join()
    assert box[0].is_done()
