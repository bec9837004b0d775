"""Locks and logging set up before patching keep working, with greenlets, afterwards."""

import io
import logging
import threading

stream = io.StringIO()
logging.basicConfig(stream=stream, level=logging.INFO, format="%(threadName)s:%(message)s")
log = logging.getLogger("early")
early_lock = threading.Lock()
early_rlock = threading.RLock()
early_condition = threading.Condition()
with early_rlock:
    pass

from gevent import monkey  # noqa: E402

monkey.patch_all()

import gevent  # noqa: E402

# A native lock made before patching: uncontended use works; a timeout works.
with early_lock:
    assert not early_lock.acquire(True, 0.01)
assert early_lock.acquire(False)
early_lock.release()

# The RLock made before patching still knows the main thread as its owner.
with early_rlock:
    with early_rlock:
        assert early_rlock._is_owned()
with early_condition:
    assert early_condition.wait(0.01) is False

# logging's locks became green: many greenlets log through the same handler.
def work(n):
    for i in range(3):
        log.info("greenlet %d line %d", n, i)
        gevent.sleep(0)


gevent.joinall([gevent.spawn(work, n) for n in range(20)], timeout=10)
lines = stream.getvalue().splitlines()
assert len(lines) == 60, len(lines)
assert all(":greenlet " in line for line in lines)
# As in gevent: threading's own Python RLock, on a green lock.
assert type(logging._lock._block).__module__.startswith("gevent"), type(logging._lock)
# green threads log with their names
t = threading.Thread(target=log.info, args=("from a thread",), name="worker-1")
t.start()
t.join()
assert stream.getvalue().splitlines()[-1] == "worker-1:from a thread"
print("OK")
