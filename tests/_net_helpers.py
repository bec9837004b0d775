"""Helpers shared by the network tests: a test certificate and small socket utilities."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest


def make_certificate(directory) -> tuple[str, str]:
    """A self-signed certificate for localhost/127.0.0.1, made by the ``openssl`` CLI."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("the openssl command is needed to generate a test certificate")
    certfile = os.path.join(directory, "cert.pem")
    keyfile = os.path.join(directory, "key.pem")
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
         "-keyout", keyfile, "-out", certfile],
        check=True, capture_output=True, timeout=60,
    )
    return certfile, keyfile


class StubThreadPool:
    """A minimal stand-in for ``gevent.threadpool.ThreadPool`` (used only while that module is
    missing): ``apply`` runs the function in a real thread and wakes the caller through the
    loop's thread-safe wakeup."""

    def __init__(self, size=1, hub=None) -> None:
        from gevent.hub import get_hub

        self.hub = hub if hub is not None else get_hub()

    def apply(self, func, args=(), kwds=None):
        import threading

        from gevent.hub import Waiter

        waiter = Waiter(self.hub)
        outcome = []
        # A referenced async watcher keeps the loop alive while the thread works.
        wakeup = self.hub.loop.async_()
        wakeup.start(waiter.switch, None)

        def run():
            try:
                outcome.append((True, func(*args, **(kwds or {}))))
            except BaseException as ex:  # handed back to the waiting greenlet
                outcome.append((False, ex))
            wakeup.send()

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        try:
            waiter.get()
        finally:
            wakeup.stop()
        thread.join()
        ok, value = outcome[0]
        if ok:
            return value
        raise value

    def kill(self) -> None:
        pass


def ensure_threadpool() -> None:
    """Give the current hub a thread pool: the real one if it exists, else the stub."""
    from gevent.hub import get_hub

    hub = get_hub()
    try:
        import gevent.threadpool  # noqa: F401
    except ImportError:
        if hub._threadpool is None:
            hub.threadpool = StubThreadPool(hub=hub)
