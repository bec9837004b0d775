"""What CPython's asyncio tests do on gevent.asyncio's loop, and why.

Run by ``_runner_threads.py test_asyncio.MODULE --asyncio gevent`` (``--asyncio stock``: the same
tests on asyncio's own loop, for comparison). Keys are module names under ``test``.

SKIP: tests not run at all (they hang or take the process down), per loop.
KNOWN: tests that fail, each with the reason, per loop (``"gevent"`` or ``"stock"``; ``"gevent
3.10"`` adds entries for one Python version); a key matches a test id or a prefix of one.
CURATED: the subset ``make test`` runs of a module (all of it: GEVENT_STDLIB_FULL=1).

Full-run counts (Python 3.11.7), beside stock asyncio's, are in tests/stdlib/RESULTS_asyncio.md.
"""

from __future__ import annotations

import sys

MODULES = ["test_events", "test_base_events", "test_tasks", "test_futures", "test_streams",
           "test_sock_lowlevel", "test_subprocess", "test_server", "test_sslproto",
           "test_timeouts", "test_taskgroups", "test_locks", "test_queues"]

_A = "test.test_asyncio."

SKIP: dict[str, dict[str, dict[str, str]]] = {}

_E = _A + "test_events."

KNOWN: dict[str, dict[str, dict[str, str]]] = {
    "test_asyncio.test_subprocess": {"gevent": {
        _A + "test_subprocess.GenericWatcherTests."
             "test_create_subprocess_fails_with_inactive_watcher":
            "mocks an asyncio child watcher (an API deprecated in 3.12, gone in 3.14): our loop "
            "watches its children with the hub's child watchers and never consults it",
        _A + "test_subprocess.GenericWatcherTests.test_create_subprocess_with_pidfd":
            "(3.12+) expects the policy's get_event_loop() to raise inside a Runner that never "
            "called set_event_loop(); by design gevent.asyncio's policy hands out the running "
            "loop, else the hub's (what asyncio.get_event_loop() gives in a coroutine anyway)",
    }},
}

_T = _A + "test_tasks."

#: The subset ``make test`` runs (under a minute in all). Selector, poll and
#: epoll variants of a class are the same tests on our loop (its poll is the hub's): the epoll
#: one runs. test_tasks runs each test once per C/Python Task/Future pairing, mostly on
#: asyncio's private TestLoop: the C pairing runs, with the classes that use our loop.
CURATED: dict[str, list[str]] = {
    "test_asyncio.test_events": [_E + "EPollEventLoopTests", _E + "TestCGetEventLoop",
                                 _E + "TestPyGetEventLoop", _E + "TestServer"],
    "test_asyncio.test_tasks": [_T + "CTask_CFuture_Tests", _T + "CCurrentLoopTests",
                                _T + "PyCurrentLoopTests", _T + "RunCoroutineThreadsafeTests",
                                _T + "SleepTests"],
    "test_asyncio.test_sock_lowlevel": [_A + "test_sock_lowlevel.EPollEventLoopTests"],
    "test_asyncio.test_subprocess": [_A + "test_subprocess.SubprocessPidfdWatcherTests",
                                     _A + "test_subprocess.GenericWatcherTests"],
}

#: Modules ``make test`` leaves out (GEVENT_STDLIB_FULL=1 runs them): their tests run on
#: asyncio's private TestLoop or on mocked BaseEventLoops; only a handful use our loop.
FULL_ONLY = {
    "test_base_events": "4 of its 109 tests use our loop; the rest test BaseEventLoop with "
                        "mocks",
    "test_futures": "12 of its 155 tests use our loop; the rest use asyncio's TestLoop or none",
}


def skipped(module: str, loop: str) -> dict[str, str]:
    return dict(SKIP.get(module, {}).get(loop, {}))


def known_failures(module: str, loop: str) -> dict[str, str]:
    """KNOWN[module][loop], plus KNOWN[module][f"{loop} 3.x"] for the running Python."""
    table = KNOWN.get(module, {})
    version = f"{sys.version_info[0]}.{sys.version_info[1]}"
    return {**table.get(loop, {}), **table.get(f"{loop} {version}", {})}
