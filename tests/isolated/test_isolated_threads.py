"""Green threading in fresh interpreters: threading's API, locks made before patching, fork."""

from __future__ import annotations

from _scenario import run_scenario


def test_threading_runs_unmodified_on_greenlets():
    proc = run_scenario("threading_api")
    # threading._shutdown waited for the non-daemon thread that outlived the main module
    assert proc.stdout.split() == ["main-done", "OK"]
    assert proc.stderr == ""


def test_locks_and_logging_from_before_patching_keep_working():
    run_scenario("locks_before_patching")


def test_fork_under_patching():
    proc = run_scenario("fork_state")
    assert "Traceback" not in proc.stderr, proc.stderr


def test_thread_joining_the_main_thread_does_not_hang_the_exit():
    # The join waits for threading._shutdown, which runs in the main greenlet at exit: it
    # must be a green wait, not the main thread's native lock (that blocked the OS thread).
    proc = run_scenario("join_main_at_exit", timeout=30)
    assert proc.stdout.split() == ["main-done", "OK"]
    assert proc.stderr == ""


def test_fork_while_logging_locks_in_use_exits_quietly():
    proc = run_scenario("fork_with_handler_lock", timeout=30)
    assert proc.stderr == ""


def test_patching_from_another_thread_warns_as_gevent_does():
    run_scenario("patch_in_thread", timeout=30)
