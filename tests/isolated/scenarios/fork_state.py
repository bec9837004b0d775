"""fork() under patch_all(): the child gets a working hub and a consistent threading state; the
parent's waitpid lets other greenlets run."""

from gevent import monkey

monkey.patch_all()

import os  # noqa: E402
import sys  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402

import gevent  # noqa: E402
from gevent.hub import get_hub  # noqa: E402

hub = get_hub()
hub.threadpool.apply(lambda: None)  # the pool has a native worker before fork

ticks = []


def background():
    while True:
        ticks.append(os.getpid())
        time.sleep(0.01)


bg = threading.Thread(target=background, name="background", daemon=True)
bg.start()
time.sleep(0.03)
assert bg.is_alive()


def child_checks():
    me = threading.current_thread()
    assert threading.main_thread() is me, (threading.main_thread(), me)
    assert threading.enumerate() == [me], threading.enumerate()
    assert not bg.is_alive()
    # Only the forking thread survives: the background green thread is ended on the child's
    # first loop iteration (if fork() ran amid a batch of due timers, one of them may still
    # resume it once before that).
    time.sleep(0.05)
    count = sum(1 for pid in ticks if pid == os.getpid())
    assert count <= 1, count
    time.sleep(0.05)
    assert sum(1 for pid in ticks if pid == os.getpid()) == count
    # the hub works: timers, spawn, the thread pool, green threads
    gevent.joinall([gevent.spawn(time.sleep, 0.01) for _ in range(3)], timeout=5)
    assert get_hub().threadpool.apply(os.getpid) == os.getpid()
    box = []
    t = threading.Thread(target=box.append, args=(1,))
    t.start()
    t.join(5)
    assert box == [1]


def fork_and_wait(from_where):
    pid = os.fork()
    if pid == 0:
        code = 0
        try:
            child_checks()
        except BaseException:
            import traceback

            traceback.print_exc()
            code = 1
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    # waitpid cooperates: greenlets keep running while the child works
    before = len(ticks)
    wpid, status = os.waitpid(pid, 0)
    assert wpid == pid and os.waitstatus_to_exitcode(status) == 0, (from_where, status)
    assert len(ticks) > before + 2, (from_where, len(ticks), before)


fork_and_wait("main greenlet")
# forking from inside a green thread: it becomes the child's main thread
t = threading.Thread(target=fork_and_wait, args=("green thread",), name="forker")
t.start()
t.join(30)
assert not t.is_alive()
assert bg.is_alive()
print("OK")
