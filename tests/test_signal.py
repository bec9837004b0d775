"""gevent.signal and gevent.signal_handler, with real signals sent by os.kill."""

from __future__ import annotations

import os
import signal
import subprocess as stdlib_subprocess
import sys
import textwrap
import threading
import time

import pytest
from greenlet import getcurrent

import gevent
import gevent.signal as gsignal
from gevent.event import Event
from gevent.hub import get_hub

SRC = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "src")


@pytest.fixture
def restore_handlers():
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGUSR1, signal.SIGUSR2,
                                                     signal.SIGCHLD)}
    yield
    gsignal.signal(signal.SIGCHLD, signal.SIG_DFL)
    for sig, handler in saved.items():
        signal.signal(sig, handler)


def _kill_later(delay: float, sig: int) -> threading.Thread:
    def run():
        time.sleep(delay)
        os.kill(os.getpid(), sig)
    t = threading.Thread(target=run)
    t.start()
    return t


def test_handler_runs_promptly_while_hub_sleeps_in_backend(restore_handlers):
    fired = Event()
    calls = []
    handler = gevent.signal_handler(signal.SIGUSR1, lambda: (calls.append(getcurrent()),
                                                               fired.set()))
    try:
        start = time.monotonic()
        sender = _kill_later(0.1, signal.SIGUSR1)
        # Nothing else to do: the hub blocks in the backend's poll until the signal.
        assert fired.wait(timeout=10)
        elapsed = time.monotonic() - start
        sender.join(5)
        assert elapsed < 1.0, elapsed
        assert calls and calls[0] is not get_hub()  # runs in a greenlet of its own
    finally:
        handler.cancel()


def test_handler_with_args_and_signal_from_a_child_process(restore_handlers):
    fired = Event()
    got = []
    handler = gevent.signal_handler(signal.SIGUSR2, lambda *a, **k: (got.append((a, k)),
                                                                        fired.set()), 1, x=2)
    try:
        child = stdlib_subprocess.Popen(["kill", "-USR2", str(os.getpid())])
        assert fired.wait(timeout=10)
        assert got == [((1,), {"x": 2})]
        child.wait(10)
    finally:
        handler.cancel()


def test_handler_must_be_callable():
    with pytest.raises(TypeError, match="signal handler must be callable"):
        gevent.signal_handler(signal.SIGUSR1, 1)


class HandlerError(Exception):
    pass


def test_handler_exception_is_raised_in_the_main_greenlet(restore_handlers):
    # As gevent (and as a standard handler's exception interrupts the main thread).
    def fail():
        raise HandlerError("from the handler")

    handler = gevent.signal_handler(signal.SIGUSR1, fail)
    try:
        sender = _kill_later(0.05, signal.SIGUSR1)
        with pytest.raises(HandlerError, match="from the handler"):
            gevent.sleep(10)
        sender.join(5)
    finally:
        handler.cancel()


def test_cancel_restores_previous_handler(restore_handlers):
    previous = []
    signal.signal(signal.SIGUSR1, lambda *a: previous.append(a[0]))
    handler = gevent.signal_handler(signal.SIGUSR1, lambda: None)
    handler.cancel()
    os.kill(os.getpid(), signal.SIGUSR1)
    deadline = time.monotonic() + 5
    while not previous and time.monotonic() < deadline:
        time.sleep(0.001)
    assert previous == [signal.SIGUSR1]


def test_signal_and_getsignal_pass_through(restore_handlers):
    got = []

    def handler(signum, frame):
        got.append(signum)

    old = gsignal.signal(signal.SIGUSR1, handler)
    assert old == signal.SIG_DFL or callable(old)
    assert gsignal.getsignal(signal.SIGUSR1) is handler
    assert signal.getsignal(signal.SIGUSR1) is handler
    os.kill(os.getpid(), signal.SIGUSR1)
    deadline = time.monotonic() + 5
    while not got and time.monotonic() < deadline:
        time.sleep(0.001)
    assert got == [signal.SIGUSR1]
    assert gsignal.signal(signal.SIGUSR1, signal.SIG_IGN) is handler
    with pytest.raises(TypeError):
        gsignal.signal(signal.SIGUSR1, "not callable")


def test_sigchld_handler_runs_in_a_greenlet(restore_handlers):
    seen = []
    done = Event()

    def on_child(signum, frame):
        seen.append((signum, frame, getcurrent() is not get_hub()))
        done.set()

    assert gsignal.signal(signal.SIGCHLD, on_child) in (signal.SIG_DFL, None)
    assert gsignal.getsignal(signal.SIGCHLD) is on_child
    from gevent import subprocess

    assert subprocess.call(["true"], timeout=10) == 0
    assert done.wait(timeout=10)
    assert seen[0] == (signal.SIGCHLD, None, True)
    # Resetting hands the signal back to the process.
    assert gsignal.signal(signal.SIGCHLD, signal.SIG_DFL) is on_child
    assert gsignal.getsignal(signal.SIGCHLD) == signal.SIG_DFL


def test_sigchld_handler_does_not_disturb_subprocess_status(restore_handlers):
    gsignal.signal(signal.SIGCHLD, lambda *a: None)
    from gevent import subprocess

    assert subprocess.call(["sh", "-c", "exit 5"], timeout=10) == 5


def test_signal_outside_main_thread_raises():
    errors = []

    def run():
        try:
            gsignal.signal(signal.SIGCHLD, lambda *a: None)
        except ValueError as exc:
            errors.append(exc)

    t = threading.Thread(target=run)
    t.start()
    t.join(10)
    assert len(errors) == 1
    assert gsignal.getsignal(signal.SIGCHLD) != errors  # nothing installed


def test_set_wakeup_fd_passes_through():
    r, w = os.pipe()
    try:
        os.set_blocking(w, False)
        old = gsignal.set_wakeup_fd(w)
        try:
            assert gsignal.set_wakeup_fd(w, warn_on_full_buffer=False) == w
        finally:
            gsignal.set_wakeup_fd(old)
    finally:
        os.close(r)
        os.close(w)


def test_keyboard_interrupt_from_sigint_reaches_main_greenlet():
    body = textwrap.dedent("""
        import os, signal, threading, time, gevent
        def sender():
            time.sleep(0.2)
            os.kill(os.getpid(), signal.SIGINT)
        threading.Thread(target=sender).start()
        start = time.monotonic()
        try:
            gevent.sleep(10)
        except KeyboardInterrupt:
            print("interrupted", time.monotonic() - start < 5)
    """)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [SRC,
                                                                   os.environ.get("PYTHONPATH")])))
    out = stdlib_subprocess.run([sys.executable, "-c", body], capture_output=True, text=True,
                                timeout=30, env=env)
    assert out.stdout.strip() == "interrupted True", out.stderr


def test_module_surface():
    assert gsignal.__all__ == ["signal", "getsignal", "set_wakeup_fd"]
    assert gsignal.SIGTERM is signal.SIGTERM
    assert gsignal.SIG_IGN is signal.SIG_IGN


def test_reexported_names():
    for name in gsignal.__imports__:
        assert getattr(gsignal, name) is getattr(signal, name), name
