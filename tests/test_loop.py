"""The loop (gevent._core) on its own, run through every backend this system has."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time

import pytest

from gevent._core import BACKENDS, READ, WRITE, Loop, available_backends

BACKEND_NAMES = available_backends()


@pytest.fixture(params=BACKEND_NAMES)
def loop(request):
    loop = Loop(request.param)
    yield loop
    loop.destroy()


def test_best_backend_first():
    assert Loop().backend == available_backends()[0]
    if sys.platform.startswith("linux"):
        assert Loop().backend == "epoll"


def test_unknown_backend_is_a_clear_error():
    with pytest.raises(ValueError, match="Unknown loop backend 'libfoo'.*epoll"):
        Loop("libfoo")
    for name in BACKENDS:
        if name not in BACKEND_NAMES:
            with pytest.raises(ValueError, match="not available"):
                Loop(name)


def test_callbacks_run_fifo_including_those_queued_meanwhile(loop):
    log = []

    def first():
        log.append("first")
        loop.run_callback(log.append, "queued-by-first")

    loop.run_callback(first)
    loop.run_callback(log.append, "second")
    loop.run()
    assert log == ["first", "second", "queued-by-first"]


def test_stopped_callback_never_runs(loop):
    log = []
    handle = loop.run_callback(log.append, 1)
    assert handle.pending
    handle.stop()
    assert not handle.pending
    loop.run()
    assert log == []


def test_timers_fire_in_deadline_order_and_fifo_for_ties(loop):
    log = []
    for name, after in [("c", 0.03), ("a", 0.01), ("b1", 0.02), ("b2", 0.02)]:
        loop.timer(after).start(log.append, name)
    started = time.monotonic()
    loop.run()
    assert log == ["a", "b1", "b2", "c"]
    assert time.monotonic() - started >= 0.03


def test_repeating_timer_and_again(loop):
    log = []
    t = loop.timer(0.001, 0.001)

    def tick():
        log.append(1)
        if len(log) == 3:
            t.stop()

    t.start(tick)
    loop.run()
    assert len(log) == 3
    assert not t.active
    t2 = loop.timer(5)
    t2.start(log.append, "never")
    t2.after = 0.001
    t2.again(log.append, "again")
    loop.run()
    assert log[-1] == "again"


def test_unref_timer_does_not_keep_loop_alive(loop):
    log = []
    t = loop.timer(10, ref=False)
    t.start(log.append, "late")
    started = time.monotonic()
    loop.run()
    assert time.monotonic() - started < 1
    assert log == []
    assert t.active
    t.stop()


def test_timer_context_manager_closes(loop):
    with loop.timer(10) as t:
        t.start(lambda: None)
        assert t.active
    assert not t.active
    assert not loop.alive()


def test_io_watcher_fires_on_readiness_and_lazy_registration(loop):
    a, b = socket.socketpair()
    try:
        log = []
        w = loop.io(a.fileno(), READ)

        def on_read():
            log.append(a.recv(10))
            w.stop()

        w.start(on_read)
        loop.timer(0.01).start(b.send, b"hello")
        loop.run()
        assert log == [b"hello"]
        # Restarting the same watcher works without any new registration trouble.
        w.start(on_read)
        b.send(b"again")
        loop.run()
        assert log == [b"hello", b"again"]
        assert not loop.alive()
    finally:
        loop.closing_fd(a.fileno())
        a.close()
        b.close()


def test_io_write_readiness_and_pass_events(loop):
    a, b = socket.socketpair()
    try:
        got = []
        w = loop.io(a.fileno(), READ | WRITE)

        def on_event(revents):
            got.append(revents)
            w.stop()

        w.start(on_event, pass_events=True)
        loop.run()
        assert got and got[0] & WRITE
    finally:
        loop.closing_fd(a.fileno())
        a.close()
        b.close()


def test_io_watcher_validates_arguments(loop):
    with pytest.raises(ValueError):
        loop.io(-1, READ)
    with pytest.raises(ValueError):
        loop.io(0, 4)


def test_closed_fd_number_reused_starts_clean(loop):
    # PITFALLS: closing an fd the loop watches must not corrupt it when the number is reused.
    a, b = socket.socketpair()
    w = loop.io(a.fileno(), READ)
    w.start(lambda: None)
    w.stop()
    fd = a.fileno()
    a.close()  # behind the loop's back, no closing_fd
    b.close()
    c, d = socket.socketpair()
    try:
        if c.fileno() != fd:
            c, d = d, c
        log = []
        w2 = loop.io(c.fileno(), READ)

        def on_read():
            log.append(c.recv(10))
            w2.stop()

        w2.start(on_read)
        d.send(b"x")
        timeout = loop.timer(2)
        timeout.start(w2.stop)
        loop.run()
        timeout.stop()
        assert log == [b"x"]
    finally:
        loop.closing_fd(c.fileno())
        c.close()
        d.close()


def test_two_watchers_on_one_fd(loop):
    a, b = socket.socketpair()
    try:
        log = []
        r1 = loop.io(a.fileno(), READ)
        r2 = loop.io(a.fileno(), READ)
        r1.start(lambda: (log.append("r1"), r1.stop()))
        r2.start(lambda: (log.append("r2"), r2.stop()))
        b.send(b"x")
        loop.run()
        assert sorted(log) == ["r1", "r2"]
    finally:
        loop.closing_fd(a.fileno())
        a.close()
        b.close()


def test_async_wakes_loop_from_another_thread(loop):
    log = []
    watcher = loop.async_()
    watcher.start(lambda: (log.append("woken"), watcher.stop()))
    thread = threading.Thread(target=lambda: (time.sleep(0.05), watcher.send()))
    thread.start()
    started = time.monotonic()
    loop.run()
    thread.join(5)
    assert log == ["woken"]
    assert time.monotonic() - started < 2


def test_run_callback_threadsafe_wakes_sleeping_loop(loop):
    log = []
    keepalive = loop.timer(5)
    keepalive.start(log.append, "timer")

    def from_thread():
        time.sleep(0.05)
        loop.run_callback_threadsafe(lambda: (keepalive.stop(), log.append("threadsafe")))

    thread = threading.Thread(target=from_thread)
    thread.start()
    started = time.monotonic()
    loop.run()
    thread.join(5)
    assert log == ["threadsafe"]
    assert time.monotonic() - started < 2


def test_idle_prepare_check(loop):
    log = []
    idle = loop.idle()
    idle.start(lambda: (log.append("idle"), idle.stop()))
    prepare = loop.prepare(ref=False)
    prepare.start(lambda: log.append("prepare"))
    check = loop.check(ref=False)
    check.start(lambda: log.append("check"))
    loop.run()
    prepare.stop()
    check.stop()
    assert log[0] == "idle"
    assert "prepare" in log and "check" in log
    assert log.index("prepare") < log.index("check")


def test_run_once_and_nowait(loop):
    log = []
    loop.run_callback(log.append, 1)
    loop.run(nowait=True)
    assert log == [1]
    t = loop.timer(0.01)
    t.start(log.append, 2)
    loop.run(once=True)
    while t.active:
        loop.run(once=True)
    assert log == [1, 2]


def test_break_stops_run(loop):
    log = []
    keepalive = loop.timer(10)
    keepalive.start(lambda: None)

    def stop():
        log.append("stop")
        loop.break_()

    loop.timer(0.01).start(stop)
    started = time.monotonic()
    loop.run()
    assert log == ["stop"]
    assert time.monotonic() - started < 5
    keepalive.stop()


def test_errors_in_callbacks_go_to_the_error_handler(loop):
    seen = []

    class Handler:
        def handle_error(self, context, tp, value, tb):
            seen.append((context, tp))

    loop.error_handler = Handler()

    def boom():
        raise ValueError("x")

    loop.run_callback(boom)
    loop.run_callback(seen.append, "after")
    loop.run()
    assert seen == [(boom, ValueError), "after"]


@pytest.mark.skipif(threading.current_thread() is not threading.main_thread(), reason="signals")
def test_signal_watcher_runs_callback_while_loop_sleeps(loop):
    log = []
    w = loop.signal(signal.SIGUSR1)
    w.start(lambda: (log.append("usr1"), w.stop()))
    previous_thread = threading.Thread(target=lambda: (time.sleep(0.05),
                                                       os.kill(os.getpid(), signal.SIGUSR1)))
    previous_thread.start()
    guard = loop.timer(5, ref=False)
    guard.start(loop.break_)
    started = time.monotonic()
    loop.run()
    guard.stop()
    previous_thread.join(5)
    assert log == ["usr1"]
    assert time.monotonic() - started < 2


def test_signal_watcher_restores_previous_handler(loop):
    before = signal.getsignal(signal.SIGUSR2)
    w = loop.signal(signal.SIGUSR2)
    w.start(lambda: None)
    assert signal.getsignal(signal.SIGUSR2) is not before
    w.stop()
    assert signal.getsignal(signal.SIGUSR2) is before


def test_child_watcher_reports_exit_status(loop):
    proc = subprocess.Popen([sys.executable, "-c", "import sys; sys.exit(7)"])
    results = []
    w = loop.child(proc.pid)
    w.start(lambda: results.append((w.rpid, w.rstatus)))
    guard = loop.timer(10, ref=False)
    guard.start(loop.break_)
    loop.run()
    guard.stop()
    assert results == [(proc.pid, 7 << 8)]
    assert os.waitstatus_to_exitcode(results[0][1]) == 7
    proc.returncode = 7  # reaped by the watcher: keep Popen from complaining


def test_child_watcher_leaves_other_children_alone(loop):
    # Only the watched pid is reaped: a child that other code started stays waitable.
    other = subprocess.Popen([sys.executable, "-c", "pass"])
    watched = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(0.1)"])
    w = loop.child(watched.pid)
    w.start(lambda: None)
    loop.run()
    assert other.wait(timeout=10) == 0
    watched.returncode = 0


def test_stat_watcher_notices_change(loop, tmp_path):
    path = tmp_path / "f"
    path.write_text("a")
    log = []
    w = loop.stat(str(path), 0.01)
    w.start(lambda: (log.append(w.attr.st_size if w.attr else None), w.stop()))
    loop.timer(0.05).start(path.write_text, "longer")
    loop.run()
    assert log == [6]


def test_fork_watchers_run_in_child():
    code = r"""
import os, sys
from gevent._core import Loop
loop = Loop()
log = []
w = loop.fork()
w.start(log.append, "forked")
pid = os.fork()
if pid == 0:
    loop.run_callback(log.append, "ran")
    loop.run()
    os._exit(0 if log == ["forked", "ran"] else 3)
_, status = os.waitpid(pid, 0)
print(os.waitstatus_to_exitcode(status))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30,
                         env={**os.environ, "PYTHONPATH": _src()})
    assert out.stdout.strip() == "0", out.stderr


def test_destroy_releases_fds():
    before = len(os.listdir("/proc/self/fd"))
    loops = [Loop() for _ in range(10)]
    for each in loops:
        each.destroy()
    assert len(os.listdir("/proc/self/fd")) <= before
    with pytest.raises(RuntimeError):
        loops[0].run()


def test_describe_watchers_names_live_ones(loop):
    t = loop.timer(10, ref=False)
    t.start(lambda: None)
    assert any("timer" in line for line in loop.describe_watchers())
    t.stop()


def test_describe_watchers_lists_referencing_timers_before_unrefd_ones(loop):
    # Many unref'd bookkeeping timers due sooner must not push out of the (bounded) list the
    # timer that keeps the loop alive.
    def keep_alive():
        pass

    bookkeeping = [loop.timer(1 + i / 100, ref=False) for i in range(15)]
    for t in bookkeeping:
        t.start(lambda: None)
    alive = loop.timer(30)
    alive.start(keep_alive)
    try:
        lines = loop.describe_watchers()
        assert "ref=True" in lines[0] and "keep_alive" in lines[0]
        assert lines[10] == "... and 6 more timers"
    finally:
        for t in [*bookkeeping, alive]:
            t.stop()


def _src() -> str:
    return os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "src")


class _FakeClock:
    """The loop's clock, moved only by the work the test's callbacks pretend to do."""

    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def _run_backlog_with_slow_timers(monkeypatch, timer_cost: float, gap: float,
                                  callback_cost: float) -> list[float]:
    """A backlog of callbacks that never empties, and a timer that takes *timer_cost* seconds
    and is due again *gap* seconds after it ends. Returns how late each timer ran."""
    from gevent._core import _loop

    clock = _FakeClock()
    monkeypatch.setattr(_loop, "monotonic", clock)
    loop = Loop()
    lateness: list[float] = []

    def work() -> None:
        clock.t += callback_cost
        if len(lateness) < 30:
            loop.run_callback(work)

    def tick(deadline: float) -> None:
        lateness.append(clock.t - deadline)
        clock.t += timer_cost
        if len(lateness) < 30:
            loop._timers.add(clock.t + gap, tick, (clock.t + gap,))

    try:
        for _ in range(10):
            loop.run_callback(work)
        loop._timers.add(clock.t, tick, (clock.t,))
        loop.run()  # one run: the budget is carried only from one iteration to the next
    finally:
        loop.destroy()
    return lateness


def test_timers_and_callbacks_share_one_budget_between_polls(monkeypatch):
    # Under a backlog, the batch of callbacks after a batch of timers gets what is left of
    # CALLBACK_BUDGET, not a budget of its own: a timer due soon after the last batch of timers
    # waits for the rest of the budget, not for a whole budget after the timers' own time (as
    # with gevent's loop, which counts its callback time from the loop's last look at the
    # clock). Before, the timer below ran about 4 ms late.
    from gevent._core._loop import _BUDGET_CHECK_MASK, CALLBACK_BUDGET

    timer_cost, gap, callback_cost = 0.004, 0.001, 0.00001
    granularity = (_BUDGET_CHECK_MASK + 1) * callback_cost  # the budget is looked at this often
    lateness = _run_backlog_with_slow_timers(monkeypatch, timer_cost, gap, callback_cost)
    assert len(lateness) > 10
    assert max(lateness[1:]) <= CALLBACK_BUDGET - timer_cost - gap + granularity + 1e-9


def test_timers_never_starve_the_callbacks(monkeypatch):
    # Timers that take longer than the whole budget still leave one checked batch of
    # callbacks per iteration.
    from gevent._core import _loop

    clock = _FakeClock()
    monkeypatch.setattr(_loop, "monotonic", clock)
    loop = Loop()
    ran = []

    fired = []

    def slow(deadline: float) -> None:
        fired.append(len(ran))
        clock.t += 0.01
        if len(fired) < 5:
            loop._timers.add(clock.t, slow, (clock.t,))

    try:
        def step(i: int) -> None:
            ran.append(i)
            clock.t += 0.00001

        for i in range(10000):
            loop.run_callback(step, i)
        loop._timers.add(clock.t, slow, (clock.t,))
        loop.run()
    finally:
        loop.destroy()
    assert ran == list(range(10000))
    batch = _loop._BUDGET_CHECK_MASK + 1
    assert fired[1:] == [fired[0] + batch * i for i in range(1, 5)]


def test_budget_starts_afresh_after_a_poll_that_waited(monkeypatch):
    # A timer batch followed by an idle wait must not leave a spent budget for the callbacks
    # that the wait's I/O (here: a thread-safe callback) queues.
    from gevent._core import _loop

    clock = _FakeClock()
    monkeypatch.setattr(_loop, "monotonic", clock)
    loop = Loop()
    ran: list[int] = []
    try:
        loop._timers.add(clock.t, lambda: None, ())
        loop.run(once=True)  # fires the timer, then polls without anything to wait for
        clock.t += 1.0  # a long wait in the poll
        for i in range(200):
            loop.run_callback(ran.append, i)
        loop.run(once=True)
    finally:
        loop.destroy()
    assert ran == list(range(200))


def test_after_poll_entries_run_once_the_next_poll_handed_out_io(loop):
    # gevent.asyncio's iterations start so: what is ready on an fd comes first, and the wait
    # for it never blocks while such an entry waits.
    a, b = socket.socketpair()
    log = []
    w = loop.io(a.fileno(), READ)

    def on_read():
        log.append(a.recv(10))
        w.stop()

    try:
        w.start(on_read)
        b.send(b"x")
        loop._after_poll.append([log.append, ("after the poll",)])
        loop.run_callback(log.append, "callback")
        assert loop.pendingcnt == 2 and loop.alive()
        started = time.monotonic()
        loop.run()
        assert log == ["callback", b"x", "after the poll"]
        assert time.monotonic() - started < 5
        # Alone, the entry still does not let the poll block.
        loop._after_poll.append([log.append, ("alone",)])
        w.start(on_read)  # keeps the loop alive: nothing will ever be readable
        started = time.monotonic()
        loop.run(once=True)  # polls without blocking, then queues the entry
        assert time.monotonic() - started < 5
        assert log[-1] == "after the poll" and loop.pendingcnt == 1
        loop.run(nowait=True)
        assert log[-1] == "alone"
        w.stop()
    finally:
        loop.closing_fd(a.fileno())
        a.close()
        b.close()


def test_backend_poll_now_tells_what_is_ready_without_waiting(loop):
    a, b = socket.socketpair()
    w = loop.io(a.fileno(), READ)
    try:
        w.start(lambda: None)
        loop.run(nowait=True)  # registers the fd
        started = time.monotonic()
        assert loop._backend.poll_now() == []
        b.send(b"x")
        [(fd, raw)] = loop._backend.poll_now()
        backend = loop._backend
        assert fd == a.fileno() and backend.events_table[raw & backend.events_mask] == READ
        a.recv(1)
        assert loop._backend.poll_now() == []
        assert time.monotonic() - started < 5
        w.stop()
    finally:
        loop.closing_fd(a.fileno())
        a.close()
        b.close()


def test_timer_heap_keeps_order_through_cancels_at_the_end_and_in_the_middle():
    import random

    from gevent._core._timers import TimerHeap

    rng = random.Random(7)
    heap = TimerHeap()
    live = {}
    for i in range(3000):
        entry = heap.add(rng.uniform(0, 100), print, (i,))
        live[i] = entry
        if rng.random() < 0.6:  # cancel the newest (often the last item) or a random one
            victim = i if rng.random() < 0.5 else rng.choice(list(live))
            heap.cancel(live.pop(victim))
    assert len(heap) == len(live)
    due = [entry[3][0] for entry in heap.pop_due(1000)]
    assert sorted(due) == sorted(live)
    deadlines = {i: entry[0] for i, entry in live.items()}
    assert [deadlines[i] for i in due] == sorted(deadlines.values())
    assert len(heap) == 0 and heap.live_refs == 0


def test_a_timeout_cancelled_at_once_leaves_nothing_in_the_heap():
    # The commonest timeout: set, then cancelled before anything else was scheduled.
    from gevent._core._timers import TimerHeap

    heap = TimerHeap()
    heap.add(5.0, print, ())
    for _ in range(1000):
        heap.cancel(heap.add(10.0, print, ()))
    assert len(heap.heap) == 1 and heap.dead == 0 and heap.live_refs == 1


def test_poll_direct_hands_out_only_when_every_ready_fd_has_just_a_direct_handler(loop):
    # What gevent.asyncio's batches do between their iterations, outside the hub.
    a, b = socket.socketpair()
    c, d = socket.socketpair()
    seen = []
    try:
        loop._direct_set(a.fileno(), seen.append, READ, first=True)
        assert loop._poll_direct() is False and seen == []  # nothing ready
        b.send(b"x")
        assert loop._poll_direct() is False and seen == [READ]
        # Another fd, with a watcher, is ready too: nothing is handed out here, the loop's
        # own poll sees both again.
        w = loop.io(c.fileno(), READ)
        w.start(lambda: seen.append("watcher"))
        d.send(b"y")
        assert loop._poll_direct() is True and seen == [READ]
        loop.run(once=True)
        assert seen[1:] == [READ, "watcher"] or seen[1:] == ["watcher", READ]
        w.stop()
        loop._direct_set(a.fileno(), None, 0)
    finally:
        for sock in (a, c):
            loop.closing_fd(sock.fileno())
        for sock in (a, b, c, d):
            sock.close()
