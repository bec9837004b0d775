"""The hub: sleep fairness, blocking discipline, errors, LoopExit, per-thread hubs."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import threading
import time

import pytest
from greenlet import getcurrent

import gevent
from gevent.exceptions import BlockingSwitchOutError, ConcurrentObjectUseError
from gevent.hub import Hub, Waiter, get_hub, get_hub_if_exists

SRC = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "src")


def run_script(code: str, timeout: float = 30, **env):
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, "PYTHONPATH": SRC, **env})


def test_get_hub_is_lazy_and_per_thread():
    hub = get_hub()
    assert get_hub() is hub
    assert isinstance(hub, Hub)
    seen = {}

    def in_thread():
        seen["before"] = get_hub_if_exists()
        seen["hub"] = get_hub()

    t = threading.Thread(target=in_thread)
    t.start()
    t.join(10)
    assert seen["before"] is None
    assert seen["hub"] is not hub
    assert seen["hub"].loop is not hub.loop
    assert hub.loop.default and not seen["hub"].loop.default
    seen["hub"].destroy()


def test_importing_gevent_creates_no_hub_or_thread():
    out = run_script(
        "import threading, sys; n = threading.active_count();"
        "import gevent, gevent.hub;"
        "print(gevent.hub.get_hub_if_exists() is None, threading.active_count() == n)"
    )
    assert out.stdout.split() == ["True", "True"], out.stderr


def test_sleep0_is_fifo_and_fair():
    log = []

    def worker(name):
        for i in range(3):
            log.append(f"{name}{i}")
            gevent.sleep(0)

    gevent.joinall([gevent.spawn(worker, n) for n in "abc"])
    assert log == ["a0", "b0", "c0", "a1", "b1", "c1", "a2", "b2", "c2"]


def test_sleep_durations_and_concurrency():
    started = time.monotonic()
    gevent.joinall([gevent.spawn(gevent.sleep, 0.5) for _ in range(10)], timeout=5)
    elapsed = time.monotonic() - started
    assert 0.49 <= elapsed < 2.5


def test_blocking_in_hub_raises():
    errors = []

    def callback():
        try:
            gevent.sleep(0)
        except BlockingSwitchOutError as ex:
            errors.append(ex)

    get_hub().loop.run_callback(callback)
    gevent.sleep(0.01)
    assert len(errors) == 1


def test_killed_sleeper_leaves_no_timer():
    loop = get_hub().loop
    before = loop._timers.live_refs
    g = gevent.spawn(gevent.sleep, 30)
    gevent.sleep(0)
    assert loop._timers.live_refs == before + 1
    g.kill()
    assert g.dead
    assert loop._timers.live_refs == before


def test_killed_sleep0_is_not_resumed_later():
    log = []

    def victim():
        try:
            gevent.sleep(0)
        finally:
            log.append("unwound")

    g = gevent.spawn(victim)
    gevent.sleep(0)  # victim is now parked in sleep(0)'s ready-queue entry... or resumed
    g.kill()
    gevent.sleep(0.01)
    assert g.dead
    assert log == ["unwound"]


def test_error_in_greenlet_printed_once_with_identity():
    hub = get_hub()
    stream = io.StringIO()
    hub.exception_stream = stream
    try:
        def fails():
            raise ZeroDivisionError("boom")

        g = gevent.spawn(fails)
        g.join(5)
        gevent.sleep(0)
    finally:
        hub.exception_stream = None
    text = stream.getvalue()
    assert text.count("ZeroDivisionError: boom") == 1
    assert "failed with ZeroDivisionError" in text
    assert "fails" in text and hex(id(g)) in text  # the repr, as gevent prints it
    # and the hub carries on
    assert gevent.spawn(lambda: 42).get(timeout=5) == 42


def test_error_in_callback_reported_and_loop_goes_on():
    hub = get_hub()
    stream = io.StringIO()
    hub.exception_stream = stream
    try:
        hub.loop.run_callback(lambda: 1 / 0)
        gevent.sleep(0.01)
    finally:
        hub.exception_stream = None
    assert "ZeroDivisionError" in stream.getvalue()


def test_error_path_survives_unprintable_exception():
    class Nasty(Exception):
        def __str__(self):
            raise RuntimeError("cannot print me")

    hub = get_hub()
    stream = io.StringIO()
    hub.exception_stream = stream
    try:
        g = gevent.spawn(lambda: (_ for _ in ()).throw(Nasty()))
        g.join(5)
    finally:
        hub.exception_stream = None
    assert isinstance(g.exception, Nasty)
    assert "Nasty" in stream.getvalue()


@pytest.mark.parametrize("raised", [AttributeError, SystemExit])
def test_failing_custom_handle_error_does_not_break_the_hub(raised, capfd):
    # gevent prints the handler's own failure and goes on; the hub stays usable.
    def bad_handle_error(*args):
        raise raised

    hub = get_hub()
    hub.handle_error = bad_handle_error
    try:
        with pytest.raises(ZeroDivisionError):
            gevent.spawn(lambda: 1 / 0).get(timeout=5)
        hub.loop.run_callback(lambda: 1 / 0)
        for _ in range(2):
            started = time.monotonic()
            gevent.sleep(0.02)
            assert time.monotonic() - started >= 0.015  # the sleep really waited
    finally:
        del hub.handle_error
    assert not hub.dead
    assert raised.__name__ in capfd.readouterr().err


def test_foreign_switch_into_sleeper_is_invalid_switch():
    # gevent: a greenlet switched into by anything but the hub's wake-up raises
    # InvalidSwitchError (an AssertionError) from sleep().
    from gevent.exceptions import InvalidSwitchError

    def sleeper():
        try:
            gevent.sleep(2)
        except AssertionError as error:
            return error
        return None

    g = gevent.spawn(sleeper)
    gevent.sleep(0)  # g is now asleep
    switcher = gevent.spawn(g.switch, None)
    result = g.get(timeout=5)
    assert isinstance(result, InvalidSwitchError) and "Invalid switch" in str(result)
    switcher.join(5)
    started = time.monotonic()
    gevent.sleep(0.02)  # the abandoned wake-up is not delivered to anyone later
    assert time.monotonic() - started >= 0.015


def test_system_exit_in_greenlet_reaches_main():
    out = run_script(
        "import gevent\n"
        "def f(): raise SystemExit(5)\n"
        "gevent.spawn(f)\n"
        "try:\n"
        "    gevent.sleep(1)\n"
        "except SystemExit as ex:\n"
        "    print('main got', ex.code)\n"
    )
    assert "main got 5" in out.stdout, out.stderr


def test_keyboard_interrupt_reaches_main_while_hub_sleeps():
    out = run_script(
        "import gevent, os, signal, threading, time\n"
        "threading.Timer(0.2, os.kill, (os.getpid(), signal.SIGINT)).start()\n"
        "try:\n"
        "    gevent.sleep(10)\n"
        "except KeyboardInterrupt:\n"
        "    print('interrupted')\n"
        "hub = gevent.get_hub()\n"
        "print(gevent.spawn(lambda: 'still', ).get(timeout=5), hub is gevent.get_hub(), hub.dead)\n"
    )
    assert out.stdout.split() == ["interrupted", "still", "True", "False"], out.stderr


def test_loop_exit_says_what_main_waited_on():
    out = run_script(
        "import gevent\n"
        "from gevent.hub import get_hub\n"
        "t = get_hub().loop.timer(100, ref=False); t.start(lambda: None)\n"
        "def wait_here():\n"
        "    get_hub().switch()\n"
        "try:\n"
        "    wait_here()\n"
        "except gevent.hub.LoopExit as ex:\n"
        "    print(ex)\n"
    )
    assert "This operation would block forever" in out.stdout, out.stderr
    assert "wait_here" in out.stdout
    assert "timer" in out.stdout


def test_waiter_switch_before_and_after_get():
    hub = get_hub()
    w = Waiter()
    w.switch(5)
    assert w.ready() and w.successful()
    assert w.get() == 5
    w2 = Waiter()
    hub.loop.run_callback(w2.switch, "later")
    assert w2.get() == "later"
    w3 = Waiter()
    hub.loop.run_callback(w3.throw, ValueError("bad"))
    with pytest.raises(ValueError, match="bad"):
        w3.get()


def test_waiter_used_twice_is_concurrent_use():
    w = Waiter()
    g = gevent.spawn(w.get)
    gevent.sleep(0)
    with pytest.raises(ConcurrentObjectUseError):
        w.get()
    g.kill()


def test_hub_wait_on_watcher_and_concurrent_use():
    hub = get_hub()
    timer = hub.loop.timer(0.01)
    started = time.monotonic()
    hub.wait(timer)
    assert time.monotonic() - started >= 0.009
    assert not timer.active
    timer2 = hub.loop.timer(10)
    g = gevent.spawn(hub.wait, timer2)
    gevent.sleep(0)
    with pytest.raises(ConcurrentObjectUseError):
        hub.wait(timer2)
    g.kill()
    assert not timer2.active


def test_cancel_wait_raises_in_waiter():
    hub = get_hub()
    timer = hub.loop.timer(10)
    g = gevent.spawn(hub.wait, timer)
    gevent.sleep(0)
    hub.cancel_wait(timer, OSError("cancelled"))
    g.join(5)
    assert isinstance(g.exception, OSError)
    assert not timer.active


def test_run_callback_threadsafe_wakes_other_threads_hub():
    results = []
    ready = threading.Event()
    other = {}

    def thread_main():
        hub = get_hub()
        other["hub"] = hub
        keepalive = hub.loop.async_()
        keepalive.start(lambda: None)
        other["keepalive"] = keepalive
        ready.set()
        try:
            gevent.sleep(10)
        except Exception as ex:  # noqa: BLE001 - recorded for the assertion
            results.append(ex)
        finally:
            keepalive.stop()
            hub.destroy()

    t = threading.Thread(target=thread_main)
    t.start()
    assert ready.wait(5)
    hub = other["hub"]
    started = time.monotonic()
    main_glet = []

    def in_other_thread():
        main_glet.append(threading.get_ident())
        # wake the sleeper by killing it with a recognisable exception
        for g in list(_greenlets_sleeping(hub)):
            g.throw(RuntimeError("woken"))

    hub.loop.run_callback_threadsafe(in_other_thread)
    t.join(5)
    assert not t.is_alive()
    assert time.monotonic() - started < 5
    assert main_glet and main_glet[0] != threading.get_ident()
    assert results and isinstance(results[0], RuntimeError)


def _greenlets_sleeping(hub):
    # the only greenlet parked in the other thread is its main greenlet
    yield hub.parent


def test_hub_join_returns_when_work_is_done():
    out = run_script(
        "import gevent\n"
        "from gevent.hub import get_hub\n"
        "gevent.spawn(gevent.sleep, 0.05)\n"
        "print(get_hub().join(timeout=5))\n"
        "gevent.spawn(gevent.sleep, 5)\n"
        "print(get_hub().join(timeout=0.05))\n"
    )
    assert out.stdout.split() == ["True", "False"], out.stderr


def test_hub_destroy_and_recreate():
    out = run_script(
        "import gevent\n"
        "from gevent.hub import get_hub\n"
        "h = get_hub(); gevent.sleep(0.01)\n"
        "h.destroy(destroy_loop=True)\n"
        "h2 = get_hub()\n"
        "print(h2 is not h, h.loop is None)\n"
        "gevent.sleep(0.01); print('ok')\n"
    )
    assert out.stdout.split() == ["True", "True", "ok"], out.stderr


def test_hub_destroy_keeps_the_default_loop_for_the_next_hub():
    # gevent: destroy() without destroy_loop leaves the default loop to the next default hub;
    # the destroyed hub says so in its repr.
    out = run_script(
        "import gevent\n"
        "from gevent.hub import get_hub\n"
        "h = get_hub(); loop = h.loop; gevent.sleep(0.01)\n"
        "h.destroy()\n"
        "print('destroyed' in repr(h), h.loop is None)\n"
        "h2 = get_hub(); print(h2.loop is loop)\n"
        "gevent.sleep(0.01)\n"
        "h2.destroy(destroy_loop=True); print(get_hub().loop is not loop)\n"
    )
    assert out.stdout.split() == ["True", "True", "True", "True"], out.stderr


def test_destroy_hub_of_an_ended_thread_from_another_thread():
    holder = {}

    def run():
        gevent.spawn(lambda: 0).join(5)
        holder["hub"] = get_hub()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(10)
    holder["hub"].destroy(destroy_loop=True)  # gevent: no greenlet.error
    assert holder["hub"].loop is None


def test_signal_handler_runs_promptly_and_cancels():
    log = []
    handle = gevent.signal_handler(signal.SIGUSR1, log.append, "got")
    try:
        threading.Timer(0.05, os.kill, (os.getpid(), signal.SIGUSR1)).start()
        deadline = time.monotonic() + 5
        while not log and time.monotonic() < deadline:
            gevent.sleep(0.01)
        assert log == ["got"]
    finally:
        handle.cancel()


def test_idle_runs_after_ready_work():
    log = []
    gevent.spawn(log.append, "spawned")
    gevent.idle()
    log.append("idle")
    assert log == ["spawned", "idle"]


def test_kill_raw_greenlet_and_spawn_raw():
    log = []

    def raw(x, y=0):
        try:
            log.append(x + y)
            gevent.sleep(10)
        except gevent.GreenletExit:
            log.append("killed")

    g = gevent.spawn_raw(raw, 1, y=2)
    gevent.sleep(0)
    gevent.kill(g)
    gevent.sleep(0.01)
    assert log == [3, "killed"]
    assert g.dead


def test_fork_gives_child_a_fresh_loop():
    out = run_script(
        "import os, gevent\n"
        "from gevent.hub import get_hub\n"
        "h = get_hub(); gevent.sleep(0.01); parent_loop = h.loop\n"
        "pid = os.fork()\n"
        "if pid == 0:\n"
        "    gevent.joinall([gevent.spawn(gevent.sleep, 0.01) for _ in range(5)], timeout=5)\n"
        "    os._exit(0 if get_hub().loop.backend else 3)\n"
        "_, status = os.waitpid(pid, 0)\n"
        "print(os.waitstatus_to_exitcode(status))\n"
    )
    assert out.stdout.strip() == "0", out.stderr


def test_config_loop_selects_backend():
    out = run_script("from gevent.hub import get_hub; print(get_hub().loop.backend)",
                     GEVENT_LOOP="poll")
    assert out.stdout.strip() == "poll", out.stderr
    out = run_script("from gevent.hub import get_hub; get_hub()", GEVENT_LOOP="nonsense")
    assert out.returncode != 0 and "nonsense" in out.stderr


def test_getcurrent_in_main_is_root():
    assert getcurrent().parent is None


def test_join_greenlet_of_another_thread_waits_instead_of_loop_exit():
    # The joining thread's own loop has nothing else to do: it must wait for the other thread.
    holder = {}
    started = threading.Event()

    def owner_thread():
        holder["g"] = gevent.spawn(gevent.sleep, 0.2)
        started.set()
        holder["g"].join(5)
        get_hub().destroy()

    t = threading.Thread(target=owner_thread)
    t.start()
    assert started.wait(5)
    result = {}

    def joiner_thread():
        try:
            holder["g"].join(5)
            result["dead"] = holder["g"].dead
        except BaseException as ex:  # noqa: BLE001 - recorded for the assertion
            result["error"] = ex
        finally:
            get_hub().destroy()

    j = threading.Thread(target=joiner_thread)
    j.start()
    j.join(10)
    t.join(10)
    assert result == {"dead": True}


def test_threads_that_exit_without_destroying_their_hub():
    # Each thread leaves a suspended greenlet and an undestroyed hub behind: the thread-exit
    # reaper must release the loop's fds there, and another thread's gc must not crash on the
    # leftovers (it segfaulted when the loop held an object with a finalizer).
    out = run_script(
        "import gc, os, threading, gevent\n"
        "def run():\n"
        "    gevent.sleep(0.001)\n"
        "    gevent.spawn(gevent.sleep, 10)\n"
        "    gevent.sleep(0)\n"
        "before = len(os.listdir('/proc/self/fd'))\n"
        "for i in range(150):\n"
        "    t = threading.Thread(target=run); t.start(); t.join(); gc.collect()\n"
        "print('leaked', len(os.listdir('/proc/self/fd')) - before)\n",
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "leaked 0"


def test_exit_with_gc_disabled_prints_nothing():
    # With the collector off, the main thread's hub is freed during interpreter teardown,
    # after module globals are cleared; its reaper must not trip over them.
    code = (
        "import gc, gevent\n"
        "pending = [gevent.spawn(lambda: 1) for _ in range(100)]\n"
        "gc.disable()\n"
        "everything = gc.get_objects()\n"  # holds the thread-local until module teardown
    )
    result = run_script(code)
    assert result.returncode == 0
    assert result.stderr == ""
