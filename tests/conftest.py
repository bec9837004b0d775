"""Shared fixtures: every test must leave no fds, threads or hub state behind."""

from __future__ import annotations

import gc
import os
import threading

import pytest


def _open_fds() -> set[int]:
    try:
        return {int(fd) for fd in os.listdir("/proc/self/fd")}
    except OSError:
        return set()


@pytest.fixture(autouse=True)
def _no_leaks(request):
    """Fail a test that leaves file descriptors or non-daemon threads behind."""
    if request.node.get_closest_marker("allow_leaks"):
        yield
        return
    threads_before = set(threading.enumerate())
    fds_before = _open_fds()
    yield
    gc.collect()
    # Thread pools keep idle workers; only non-daemon threads count as leaks here.
    leaked_threads = [
        t for t in threading.enumerate()
        if t not in threads_before and t.is_alive() and not t.daemon
    ]
    assert not leaked_threads, f"threads leaked: {leaked_threads}"
    leaked = _open_fds() - fds_before
    # An fd might be a lazily created, long-lived resource (the hub's epoll and wake-up fds).
    leaked = {fd for fd in leaked if not _is_hub_fd(fd)}
    assert not leaked, f"file descriptors leaked: {_describe(leaked)}"


def _is_hub_fd(fd: int) -> bool:
    try:
        target = os.readlink(f"/proc/self/fd/{fd}")
    except OSError:
        return True
    return "eventpoll" in target or "eventfd" in target or "pidfd" in target


def _describe(fds) -> list[str]:
    out = []
    for fd in sorted(fds):
        try:
            out.append(f"{fd} -> {os.readlink(f'/proc/self/fd/{fd}')}")
        except OSError:
            out.append(str(fd))
    return out


def pytest_configure(config):
    config.addinivalue_line("markers", "allow_leaks: the test creates long-lived resources")
