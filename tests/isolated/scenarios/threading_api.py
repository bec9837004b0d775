"""Under patch_thread(), the standard threading module runs on greenlets, unmodified."""

from gevent import monkey

monkey.patch_thread()

import _thread  # noqa: E402
import threading  # noqa: E402

from greenlet import getcurrent  # noqa: E402

import gevent  # noqa: E402
import gevent.thread  # noqa: E402

# The seams are ours; the classes are the standard library's own.
assert _thread.start_new_thread is gevent.thread.start_new_thread
assert _thread.allocate_lock is gevent.thread.allocate_lock
assert threading.get_ident is gevent.thread.get_ident
assert threading.Thread.__module__ == "threading"
assert threading.Condition.__module__ == "threading"
assert monkey.is_module_patched("_thread") and monkey.is_module_patched("threading")
assert monkey.get_original("_thread", "allocate_lock") is not _thread.allocate_lock

main = threading.main_thread()
assert threading.current_thread() is main
assert main.ident == monkey.get_original("_thread", "get_ident")()
assert threading.get_ident() == main.ident

# Threads are greenlets: they interleave at switch points, in a recorded order.
trace = []


def worker(name, delay):
    trace.append(f"{name}-start")
    gevent.sleep(delay)
    trace.append(f"{name}-end")


threads = [threading.Thread(target=worker, args=(n, d), name=n)
           for n, d in (("a", 0.03), ("b", 0.01))]
for t in threads:
    t.start()
assert all(t.is_alive() for t in threads)
assert threading.active_count() == 3
assert {t.name for t in threading.enumerate()} == {"MainThread", "a", "b"}
for t in threads:
    assert t.ident
    t.join(timeout=5)
    assert not t.is_alive()
assert trace == ["a-start", "b-start", "b-end", "a-end"], trace
assert threading.active_count() == 1

# ident inside a thread is its greenlet's id
seen = {}


def who():
    seen["ident"] = threading.get_ident()
    seen["current"] = threading.current_thread()
    seen["glet"] = getcurrent()


t = threading.Thread(target=who, name="who")
t.start()
t.join()
assert seen["ident"] == t.ident == id(seen["glet"])
assert seen["current"] is t

# join with a timeout returns while the thread still runs
stop = threading.Event()
t = threading.Thread(target=stop.wait, daemon=True)
t.start()
t.join(timeout=0.01)
assert t.is_alive()
stop.set()
t.join(5)
assert not t.is_alive()

# Lock, RLock, Condition, Semaphore, Barrier, Timer, local
lock = threading.Lock()
assert lock.acquire() and not lock.acquire(False) and not lock.acquire(True, 0.01)
lock.release()
try:
    lock.release()
except RuntimeError:
    pass
else:
    raise AssertionError("releasing an unlocked lock must raise RuntimeError")

rlock = threading.RLock()
with rlock, rlock:
    assert rlock._is_owned()

cond = threading.Condition()
box = []


def producer():
    with cond:
        box.append(1)
        cond.notify_all()


with cond:
    threading.Thread(target=producer).start()
    assert cond.wait_for(lambda: box, timeout=5)

sem = threading.BoundedSemaphore(2)
inside = []
peak = []


def limited():
    with sem:
        inside.append(1)
        peak.append(len(inside))
        gevent.sleep(0.01)
        inside.pop()


ts = [threading.Thread(target=limited) for _ in range(5)]
for t in ts:
    t.start()
for t in ts:
    t.join()
assert max(peak) == 2, peak

barrier = threading.Barrier(3)
arrived = []
ts = [threading.Thread(target=lambda: arrived.append(barrier.wait())) for _ in range(3)]
for t in ts:
    t.start()
for t in ts:
    t.join()
assert sorted(arrived) == [0, 1, 2]

fired = threading.Event()
timer = threading.Timer(0.01, fired.set)
timer.start()
assert fired.wait(5)
timer.join()
cancelled = threading.Timer(10, fired.clear)
cancelled.start()
cancelled.cancel()
cancelled.join(5)
assert not cancelled.is_alive() and fired.is_set()

data = threading.local()
data.value = "main"
other = []
t = threading.Thread(target=lambda: other.append(getattr(data, "value", None)))
t.start()
t.join()
assert other == [None] and data.value == "main"

# excepthook gets a thread's exception
hooked = []
threading.excepthook = lambda args: hooked.append((args.exc_type, args.thread))
t = threading.Thread(target=lambda: 1 / 0)
t.start()
t.join()
threading.excepthook = threading.__excepthook__
assert hooked and hooked[0][0] is ZeroDivisionError and hooked[0][1] is t

# a plain greenlet gets a dummy thread, forgotten when it ends
g = gevent.spawn(threading.current_thread)
g.join()
dummy = g.value
assert isinstance(dummy, threading._DummyThread) and dummy.daemon
gevent.sleep(0)
assert dummy not in threading.enumerate()

# a green thread blocked in a non-daemon thread is waited for at exit (threading._shutdown)
def last_words():
    gevent.sleep(0.05)
    print("OK", flush=True)


threading.Thread(target=last_words).start()
threading.Thread(target=gevent.sleep, args=(60,), daemon=True).start()
# The main module ends before the thread: the interpreter waits for it.
print("main-done", flush=True)
