"""What CPython's thread and networking tests do under gevent.monkey.patch_all(), and why.

SKIP: tests not run at all, because they block the whole process by design.
KNOWN: tests that fail, each with the reason. ``"all"`` applies to every Python, ``"3.x"`` adds
entries for one version; a key matches a test id or a prefix of one (a class).
CURATED: the subset ``make test`` runs of a slow module (all of it: GEVENT_STDLIB_FULL=1).

Full-run counts (Python 3.11.7, patch_all()) are in tests/stdlib/RESULTS_threads.md.
"""

from __future__ import annotations

import sys

_T = "test.test_threading."
_NATIVE_QUEUE = ("the C _queue.SimpleQueue blocks the OS thread in get(), and every green thread "
                 "shares it: the test deadlocks by design (patch_queue installs gevent's "
                 "SimpleQueue as queue.SimpleQueue; this test uses the C type directly)")

_BUSY_WAIT = ("(3.13+) its reader threads spin on get(False) catching Empty without ever "
              "blocking: under cooperative threads a spinning reader never yields, so the "
              "writers never run and the test hangs (gevent's threads behave the same)")

SKIP: dict[str, dict[str, str]] = {
    "test_thread": {
        "test.test_thread.TestForkInThread.test_forkinthread":
            "the main greenlet blocks the OS thread in os.read() on a pipe (os.read is not "
            "cooperative), so the green thread that would fork and write never runs",
    },
    "test_queue": {
        "test.test_queue.CSimpleQueueTest.test_many_threads": _NATIVE_QUEUE,
        "test.test_queue.CSimpleQueueTest.test_many_threads_timeout": _NATIVE_QUEUE,
        "test.test_queue.CSimpleQueueTest.test_order": _NATIVE_QUEUE,
        **{
            f"test.test_queue.{kind}{queue}Test.test_shutdown{mode}_all_methods_in_many_threads":
                _BUSY_WAIT
            for kind in ("C", "Py")
            for queue in ("Queue", "LifoQueue", "PriorityQueue")
            for mode in ("", "_immediate")
        },
    },
}

_REPR = "gevent's lock/event classes have gevent's repr, not the C types' '<locked ...>'"

KNOWN: dict[str, dict[str, dict[str, str]]] = {
    "test_threading": {"all": {
        _T + "EventTests.test_repr": _REPR,
        _T + "EventTests.test_at_fork_reinit":
            "patch_all(Event=True) makes threading.Event gevent.event.Event, which has no "
            "private _cond for the test to inspect",
        _T + "ThreadTests.test_old_threading_api":
            "threading.Event is gevent.event.Event, whose isSet() alias does not warn",
        _T + "InterruptMainTests.test_can_interrupt_tight_loops":
            "green threads share the OS thread: a tight loop never lets the interrupting "
            "green thread run",
        _T + "InterruptMainTests.test_interrupt_main_subthread":
            "the signal interrupt_main simulates is handled in the OS thread, i.e. in "
            "whichever greenlet runs: the green thread that called it, not the main one",
        _T + "MiscTestCase.test__all__":
            "threading.stack_size is gevent.thread's after patching; the check keys on "
            "__module__ being threading or _thread",
        _T + "ThreadTests.test_PyThreadState_SetAsyncExc":
            "PyThreadState_SetAsyncExc targets native thread states; a green thread has none",
        _T + "ThreadTests.test_disallow_instantiation":
            "gevent's lock type is an ordinary class and can be instantiated",
        _T + "ThreadTests.test_foreign_thread":
            "the dummy Thread of a greenlet is forgotten as soon as the greenlet ends; CPython "
            "keeps a foreign thread's until its OS thread ends",
        _T + "ThreadTests.test_various_ops":
            "green threads share their OS thread's native id (get_native_id)",
        _T + "ThreadTests.test_various_ops_large_stack":
            "green threads share their OS thread's native id (get_native_id)",
        _T + "ThreadTests.test_various_ops_small_stack":
            "green threads share their OS thread's native id (get_native_id)",
    }},
}

CURATED: dict[str, list[str]] = {
    # test_threading is the slow one (many subprocesses); the other modules run whole.
    "test_threading": [_T + "ThreadTests.test_daemon_param",
                       _T + "ThreadTests.test_ident_of_no_threading_threads",
                       _T + "ThreadTests.test_limbo_cleanup",
                       _T + "ThreadTests.test_enumerate_after_join",
                       _T + "ThreadJoinOnShutdown", _T + "LockTests", _T + "RLockTests",
                       _T + "EventTests", _T + "ConditionTests", _T + "SemaphoreTests",
                       _T + "BarrierTests", _T + "TimerTests", _T + "ExceptHookTests"],
}


def known_failures(module: str) -> dict[str, str]:
    table = KNOWN.get(module, {})
    merged = dict(table.get("all", {}))
    merged.update(table.get(f"{sys.version_info[0]}.{sys.version_info[1]}", {}))
    return merged
