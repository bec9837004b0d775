"""The monitor thread: blocking reports, memory events, plugins' periodic checks."""

from __future__ import annotations

import io
import logging
import os
import subprocess
import sys
import textwrap
import threading
import time

import pytest
from greenlet import getcurrent as greenlet_getcurrent

import gevent
from gevent import _monitor, config, events
from gevent.hub import get_hub

# The tests run unpatched, so this is the real, blocking sleep.
blocking_sleep = time.sleep

SETTINGS = ("monitor_thread", "max_blocking_time", "print_blocking_reports",
            "max_memory_usage", "memory_monitor_period")


@pytest.fixture
def saved_config():
    saved = {name: getattr(config, name) for name in SETTINGS}
    yield config
    for name, value in saved.items():
        config.set(name, value)


class Recorder:
    """Subscribes to gevent.events; lets a test wait (bounded) for a kind of event."""

    def __init__(self) -> None:
        self.events: list = []
        self._lock = threading.Condition()

    def __call__(self, event) -> None:
        with self._lock:
            self.events.append(event)
            self._lock.notify_all()

    def of(self, kind) -> list:
        with self._lock:
            return [e for e in self.events if isinstance(e, kind)]

    def wait_for(self, kind, timeout: float = 5.0) -> list:
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                found = [e for e in self.events if isinstance(e, kind)]
                remaining = deadline - time.monotonic()
                if found or remaining <= 0:
                    return found
                self._lock.wait(remaining)


@pytest.fixture
def recorder():
    rec = Recorder()
    events.subscribers.append(rec)
    yield rec
    events.subscribers.remove(rec)


def blamed_besides_test_runner(recorder) -> list:
    """Blocking reports, minus those blaming the main greenlet: the test runner's own code
    between two switches can exceed max_blocking_time on a loaded machine."""
    main = greenlet_getcurrent()
    return [e for e in recorder.of(events.EventLoopBlocked) if e.greenlet is not main]


def _thread_alive(ident) -> bool:
    return ident is not None and ident in sys._current_frames()


def wait_running(monitor, timeout: float = 5.0):
    """Wait (bounded) until the monitor's thread runs Python code; return its ident."""
    deadline = time.monotonic() + timeout
    while not _thread_alive(monitor._thread_ident) and time.monotonic() < deadline:
        blocking_sleep(0.002)
    return monitor._thread_ident


@pytest.fixture
def monitor(saved_config, recorder):
    """The main hub's monitor, started for this test only and killed after it."""
    config.monitor_thread = True
    config.max_blocking_time = 0.1
    config.print_blocking_reports = True
    hub = get_hub()
    assert hub.periodic_monitoring_thread is None
    stream = io.StringIO()
    hub.exception_stream = stream
    mon = hub.start_periodic_monitoring_thread()
    assert isinstance(mon, _monitor.PeriodicMonitoringThread)
    mon.test_stream = stream
    try:
        yield mon
    finally:
        ident = mon._thread_ident
        mon.kill()
        hub.periodic_monitoring_thread = None
        hub.exception_stream = None
        assert not _thread_alive(ident), "the monitor thread outlived kill()"


def blocker(seconds: float) -> None:
    blocking_sleep(seconds)


def test_blocking_greenlet_is_reported_with_its_stack(monitor, recorder):
    glet = gevent.spawn(blocker, 0.5)
    glet.join(timeout=5)
    assert glet.dead
    blocked = recorder.wait_for(events.EventLoopBlocked, timeout=2)
    assert blocked, "no EventLoopBlocked event"
    event = blocked[0]
    assert event.greenlet is glet
    assert event.hub is get_hub()
    assert 0.1 <= event.blocking_time <= 1.0
    text = "\n".join(event.info)
    assert "appears to be blocked" in text
    assert "in blocker" in text  # the blocked stack names the function
    assert __file__ in text
    # One report for one blocked stretch.
    assert len(blocked) == 1
    printed = monitor.test_stream.getvalue()
    assert "appears to be blocked" in printed and "in blocker" in printed


def test_yielding_greenlet_is_not_reported(monitor, recorder):
    def yielder():
        deadline = time.monotonic() + 0.5
        while time.monotonic() < deadline:
            gevent.sleep(0.01)

    glet = gevent.spawn(yielder)
    glet.join(timeout=5)
    assert glet.dead
    # Give the monitor several more periods to (wrongly) report.
    gevent.sleep(0.3)
    assert blamed_besides_test_runner(recorder) == []
    assert repr(glet) not in monitor.test_stream.getvalue()


def test_idle_hub_is_not_blocking(monitor, recorder):
    # The hub waiting for I/O (here a timer) for longer than max_blocking_time is not a block.
    gevent.sleep(0.5)
    assert blamed_besides_test_runner(recorder) == []


def test_blocking_hub_callback_is_reported(monitor, recorder):
    hub = get_hub()
    hub.loop.run_callback(blocker, 0.4)
    gevent.sleep(0.001)
    blocked = recorder.wait_for(events.EventLoopBlocked, timeout=2)
    assert blocked and blocked[0].greenlet is hub


def test_report_not_printed_when_disabled(monitor, recorder):
    config.print_blocking_reports = False
    gevent.spawn(blocker, 0.4).join(timeout=5)
    assert recorder.wait_for(events.EventLoopBlocked, timeout=2)
    assert monitor.test_stream.getvalue() == ""


def test_report_goes_to_a_logger(monitor, recorder):
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record):
            records.append(record)

    logger = logging.getLogger("test_monitor.blocking")
    handler = Keep()
    logger.addHandler(handler)
    logger.propagate = False
    get_hub().exception_stream = logger
    try:
        gevent.spawn(blocker, 0.4).join(timeout=5)
        assert recorder.wait_for(events.EventLoopBlocked, timeout=2)
    finally:
        logger.removeHandler(handler)
    assert records and "appears to be blocked" in records[0].getMessage()
    assert records[0].levelno == logging.WARNING


def test_subscriber_may_edit_the_report(monitor, recorder):
    def redact(event):
        if isinstance(event, events.EventLoopBlocked):
            event.info[:] = ["custom report"]

    events.subscribers.insert(0, redact)
    try:
        gevent.spawn(blocker, 0.4).join(timeout=5)
        assert recorder.wait_for(events.EventLoopBlocked, timeout=2)
    finally:
        events.subscribers.remove(redact)
    printed = monitor.test_stream.getvalue()
    assert printed and set(printed.splitlines()) == {"custom report"}


def test_ignore_current_greenlet_blocking(monitor, recorder):
    def quiet():
        monitor.ignore_current_greenlet_blocking()
        blocker(0.4)
        monitor.monitor_current_greenlet_blocking()

    gevent.spawn(quiet).join(timeout=5)
    gevent.sleep(0.2)
    assert blamed_besides_test_runner(recorder) == []


def test_monitor_own_work_is_not_reported(monitor, recorder):
    def busy_check(hub):
        # CPU work in the monitor thread itself, while the hub keeps switching.
        deadline = time.monotonic() + 0.3
        while time.monotonic() < deadline:
            pass

    monitor.add_monitoring_function(busy_check, 0.05)

    def spinner():
        deadline = time.monotonic() + 0.6
        while time.monotonic() < deadline:
            gevent.sleep(0)

    gevent.spawn(spinner).join(timeout=5)
    monitor.add_monitoring_function(busy_check, None)
    assert blamed_besides_test_runner(recorder) == []


def test_add_monitoring_function(monitor):
    called = threading.Event()
    seen = []

    def check(hub):
        seen.append((hub, threading.get_ident()))
        called.set()

    monitor.add_monitoring_function(check, 0.01)
    assert called.wait(5)
    hub, ident = seen[0]
    assert hub is get_hub()
    assert ident == monitor._thread_ident != threading.get_ident()
    functions = [entry.function for entry in monitor.monitoring_functions()]
    assert check in functions and monitor.monitor_blocking in functions
    entry = [e for e in monitor.monitoring_functions() if e.function == check][0]
    assert entry.period == 0.01
    monitor.add_monitoring_function(check, None)
    assert check not in [entry.function for entry in monitor.monitoring_functions()]
    with pytest.raises(ValueError):
        monitor.add_monitoring_function(check, 0)
    with pytest.raises(ValueError):
        monitor.add_monitoring_function(check, -1)
    with pytest.raises(ValueError):
        monitor.add_monitoring_function("not callable", 1)


def test_failing_monitoring_function_does_not_stop_the_monitor(monitor, capfd):
    later = threading.Event()

    def broken(hub):
        raise ValueError("broken check")

    monitor.add_monitoring_function(broken, 0.01)
    monitor.add_monitoring_function(lambda hub: later.set(), 0.05)
    assert later.wait(5)
    monitor.add_monitoring_function(broken, None)
    assert "broken check" in capfd.readouterr().err


def test_memory_events(monitor, recorder):
    config.max_memory_usage = 1  # any process is above one byte
    usage = monitor.monitor_memory_usage(get_hub())
    assert usage is not None and usage > 1
    exceeded = recorder.of(events.MemoryUsageThresholdExceeded)
    assert len(exceeded) == 1
    assert exceeded[0].mem_usage == usage and exceeded[0].max_allowed == 1
    assert exceeded[0].memory_info is not None
    # Still above: not reported again.
    monitor.monitor_memory_usage(get_hub())
    assert len(recorder.of(events.MemoryUsageThresholdExceeded)) == 1
    config.max_memory_usage = "1000gb"
    monitor.monitor_memory_usage(get_hub())
    under = recorder.of(events.MemoryUsageUnderThreshold)
    assert len(under) == 1
    assert under[0].max_memory_usage == usage
    assert under[0].max_allowed == 1000 * 1024**3
    monitor.monitor_memory_usage(get_hub())
    assert len(recorder.of(events.MemoryUsageUnderThreshold)) == 1


def test_memory_checked_from_the_thread(monitor, recorder):
    config.max_memory_usage = 1
    assert monitor.can_monitor_memory_usage()
    monitor.add_monitoring_function(monitor.monitor_memory_usage, 0.01)
    assert recorder.wait_for(events.MemoryUsageThresholdExceeded, timeout=5)


def test_memory_monitor_installed_from_config(monitor):
    config.max_memory_usage = "10gb"
    config.memory_monitor_period = 0.001
    monitor.install_monitor_memory_usage()
    entries = {e.function: e.period for e in monitor.monitoring_functions()}
    assert entries[monitor.monitor_memory_usage] == monitor.min_memory_monitor_period


def test_no_memory_limit_means_no_memory_check(monitor):
    config.max_memory_usage = None
    monitor.install_monitor_memory_usage()
    assert monitor.monitor_memory_usage not in [
        e.function for e in monitor.monitoring_functions()]
    assert monitor.monitor_memory_usage(get_hub()) is None


def test_kill_is_prompt(monitor):
    ident = wait_running(monitor)
    assert _thread_alive(ident)
    started = time.monotonic()
    monitor.kill()
    assert time.monotonic() - started < 0.5
    assert not _thread_alive(ident)
    assert not monitor.should_run
    monitor.kill()  # twice is harmless


def test_monitor_thread_is_labelled_in_run_info(monitor):
    from gevent.util import format_run_info

    wait_running(monitor)
    text = "\n".join(format_run_info())
    assert "gevent monitor for hub" in text
    assert "Monitoring thread:" in text


def _in_new_thread(function):
    result: dict = {}

    def run():
        try:
            result["value"] = function()
        except BaseException as ex:  # carried back to the test thread
            result["error"] = ex

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(10)
    assert not thread.is_alive()
    if "error" in result:
        raise result["error"]
    return result["value"]


def test_hub_starts_monitor_when_it_first_runs(saved_config, recorder):
    config.monitor_thread = True

    def body():
        hub = get_hub()
        assert hub.periodic_monitoring_thread is None  # not before the hub runs
        gevent.sleep(0.001)
        monitor = hub.periodic_monitoring_thread
        assert isinstance(monitor, _monitor.PeriodicMonitoringThread)
        assert monitor.hub is hub
        assert hub.start_periodic_monitoring_thread() is monitor  # only one
        wait_running(monitor)
        ident = monitor._thread_ident
        hub.destroy(destroy_loop=True)
        assert hub.periodic_monitoring_thread is None
        return monitor, ident

    monitor, ident = _in_new_thread(body)
    assert not _thread_alive(ident)
    started = recorder.of(events.PeriodicMonitorThreadStartedEvent)
    assert [e.monitor for e in started] == [monitor]


def test_no_monitor_when_disabled(saved_config):
    config.monitor_thread = False

    def body():
        hub = get_hub()
        gevent.sleep(0.001)
        result = hub.periodic_monitoring_thread, hub.start_periodic_monitoring_thread()
        hub.destroy(destroy_loop=True)
        return result

    assert _in_new_thread(body) == (None, None)


def test_monitor_stops_when_hub_thread_ends(saved_config):
    import gc

    config.monitor_thread = True

    def body():
        hub = get_hub()
        gevent.sleep(0.001)
        monitor = hub.periodic_monitoring_thread
        wait_running(monitor)
        return monitor, monitor._thread_ident

    monitor, ident = _in_new_thread(body)
    # The hub's thread has ended: the monitor notices and stops.
    deadline = time.monotonic() + 5
    while _thread_alive(ident) and time.monotonic() < deadline:
        gc.collect()
        blocking_sleep(0.01)
    assert not _thread_alive(ident)
    assert not monitor.should_run


def _run_script(script: str, env_extra: dict, timeout: float = 30) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    src = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "src")
    env["PYTHONPATH"] = src + os.pathsep + env.get("PYTHONPATH", "")
    env.update(env_extra)
    return subprocess.run([sys.executable, "-c", textwrap.dedent(script)], env=env,
                          capture_output=True, text=True, timeout=timeout)


def test_environment_variable_enables_the_monitor():
    script = """
        import time
        import gevent

        def stuck():
            time.sleep(0.5)

        gevent.spawn(stuck).join()
        hub = gevent.get_hub()
        assert hub.periodic_monitoring_thread is not None
        hub.destroy()
        print("done")
    """
    proc = _run_script(script, {"GEVENT_MONITOR_THREAD_ENABLE": "1",
                                "GEVENT_MAX_BLOCKING_TIME": "0.1"})
    assert proc.returncode == 0, proc.stderr
    assert "done" in proc.stdout
    assert "appears to be blocked" in proc.stderr
    assert "in stuck" in proc.stderr


def test_monitor_costs_nothing_when_off():
    script = """
        import sys
        import gevent
        gevent.spawn(gevent.sleep, 0.01).join()
        assert gevent.get_hub().periodic_monitoring_thread is None
        assert "gevent._monitor" not in sys.modules
        print("ok")
    """
    proc = _run_script(script, {"GEVENT_MONITOR_THREAD_ENABLE": ""})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "ok"


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_monitor_restarts_in_forked_child():
    script = """
        import os, time, sys
        import gevent
        from gevent import events

        reports = []
        events.subscribers.append(
            lambda e: reports.append(e) if isinstance(e, events.EventLoopBlocked) else None)
        gevent.sleep(0.001)
        hub = gevent.get_hub()
        parent_monitor = hub.periodic_monitoring_thread
        assert parent_monitor is not None
        pid = os.fork()
        if pid == 0:
            ok = hub.periodic_monitoring_thread is parent_monitor
            gevent.spawn(time.sleep, 0.5).join()
            ok = ok and len(reports) == 1
            os._exit(0 if ok else 3)
        _, status = os.waitpid(pid, 0)
        hub.destroy()
        print("child status", os.waitstatus_to_exitcode(status))
    """
    proc = _run_script(script, {"GEVENT_MONITOR_THREAD_ENABLE": "1",
                                "GEVENT_MAX_BLOCKING_TIME": "0.1",
                                "GEVENT_MONITOR_PRINT_BLOCKING_REPORTS": "0"})
    assert proc.returncode == 0, proc.stderr
    assert "child status 0" in proc.stdout, proc.stdout + proc.stderr


def test_monitor_thread_is_native_after_patching_threads():
    script = """
        import sys
        try:
            from gevent import monkey
            monkey.patch_thread()
        except Exception as ex:  # monkey patching is not this test's subject
            print("cannot patch:", ex)
            sys.exit(77)
        import threading
        import time
        import gevent
        from gevent import events

        reports = []
        events.subscribers.append(
            lambda e: reports.append(e) if isinstance(e, events.EventLoopBlocked) else None)
        gevent.spawn(time.sleep, 0.5).join()  # time is not patched: this blocks
        hub = gevent.get_hub()
        monitor = hub.periodic_monitoring_thread
        assert monitor._thread_ident in sys._current_frames()
        assert monitor._thread_ident != threading.get_ident()
        assert len(reports) == 1, reports
        hub.destroy()
        print("ok")
    """
    proc = _run_script(script, {"GEVENT_MONITOR_THREAD_ENABLE": "1",
                                "GEVENT_MAX_BLOCKING_TIME": "0.1",
                                "GEVENT_MONITOR_PRINT_BLOCKING_REPORTS": "0"})
    if proc.returncode == 77:
        pytest.skip(proc.stdout.strip())
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "ok"


def test_monitor_stops_when_hub_is_collected(saved_config):
    import gc

    from gevent.hub import Hub

    config.monitor_thread = True
    hub = Hub()  # not this thread's hub, never run: only this test holds it
    monitor = _monitor.start_periodic_monitoring_thread(hub)
    wait_running(monitor)
    ident = monitor._thread_ident
    assert _thread_alive(ident)
    loop = hub.loop
    loop.error_handler = None  # the loop must not keep the hub alive for this test
    del hub
    gc.collect()
    deadline = time.monotonic() + 5
    while _thread_alive(ident) and time.monotonic() < deadline:
        blocking_sleep(0.005)
    loop.destroy()
    assert monitor.hub is None
    assert not _thread_alive(ident)


def test_hub_that_never_ran_is_not_reported(saved_config, recorder):
    from gevent.hub import Hub

    config.monitor_thread = True
    config.max_blocking_time = 0.05
    hub = Hub()
    monitor = _monitor.start_periodic_monitoring_thread(hub)
    try:
        blocking_sleep(0.3)
    finally:
        monitor.kill()
        hub.loop.destroy()
    assert recorder.of(events.EventLoopBlocked) == []


def test_main_greenlet_blocking_is_reported(monitor, recorder):
    gevent.sleep(0.001)  # the hub has run; now the main greenlet holds the thread
    blocker(0.4)
    blocked = recorder.wait_for(events.EventLoopBlocked, timeout=2)
    assert blocked and blocked[0].greenlet is greenlet_getcurrent()
    assert "main greenlet of thread" in blocked[0].info[1]


def test_plugin_adds_its_check_when_the_monitor_starts(saved_config):
    config.monitor_thread = True
    checked = threading.Event()
    seen_hubs = []

    def plugin_check(hub):
        seen_hubs.append(hub)
        checked.set()

    def on_start(event):
        if isinstance(event, events.PeriodicMonitorThreadStartedEvent):
            event.monitor.add_monitoring_function(plugin_check, 0.01)

    events.subscribers.append(on_start)

    def body():
        hub = get_hub()
        gevent.sleep(0.001)
        ok = checked.wait(5)
        hub.destroy(destroy_loop=True)
        return ok, hub

    try:
        ok, hub = _in_new_thread(body)
    finally:
        events.subscribers.remove(on_start)
    assert ok and seen_hubs[0] is hub


def test_monitor_provides_its_interface(monitor):
    verify = pytest.importorskip("zope.interface.verify")
    assert verify.verifyObject(events.IPeriodicMonitorThread, monitor)


def test_added_function_runs_at_the_next_pass_not_after_its_period(monitor):
    # gevent: a function just added is due at once; its period counts from its first run.
    called = threading.Event()

    def check(hub):
        called.set()

    monitor.add_monitoring_function(check, 30)
    try:
        assert called.wait(5)
    finally:
        monitor.add_monitoring_function(check, None)
