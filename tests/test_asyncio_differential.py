"""gevent.asyncio's EventLoop beside asyncio's own loop: the same test body on both.

Each case pins, in a small form, a difference CPython's asyncio tests
(tests/stdlib/test_stdlib_asyncio.py) found in gevent.asyncio and that was then fixed; the stock
loop shows the expected answer. In brackets: the CPython test that found it.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import gc
import threading
import weakref

import pytest

gevent_asyncio = pytest.importorskip("gevent.asyncio",
                                     reason="gevent.asyncio is not in this tree yet")


def _stock():
    return asyncio.SelectorEventLoop()


def _gevent():
    return gevent_asyncio.EventLoop()


@pytest.fixture(params=["stock", "gevent"])
def loop(request):
    loop = _stock() if request.param == "stock" else _gevent()
    try:
        yield loop
    finally:
        loop.close()


def test_call_soon_threadsafe_keeps_fifo_with_call_soon(loop):
    # [test_events *EventLoopTests.test_call_soon_threadsafe_same_thread]
    results = []
    loop.call_soon_threadsafe(results.append, "first")
    loop.call_soon(results.append, "second")
    loop.call_soon(loop.stop)
    loop.run_forever()
    assert results == ["first", "second"]


def test_call_soon_threadsafe_from_a_thread_keeps_fifo(loop):
    # [test_events *EventLoopTests.test_call_soon_threadsafe]
    results = []
    thread = threading.Thread(target=loop.call_soon_threadsafe,
                              args=(results.append, "from thread"))
    thread.start()
    thread.join(10)
    loop.call_soon(results.append, "from loop thread")
    loop.call_soon(loop.stop)
    loop.run_forever()
    assert results == ["from thread", "from loop thread"]


def test_run_in_executor_converts_concurrent_cancelled_error(loop):
    # [test_tasks RunCoroutineThreadsafeTests.test_run_coroutine_threadsafe_task_cancelled]
    def raises():
        raise concurrent.futures.CancelledError()

    future = loop.run_in_executor(None, raises)
    with pytest.raises(asyncio.CancelledError):
        loop.run_until_complete(future)
    loop.run_until_complete(loop.shutdown_default_executor())


def test_run_in_executor_converts_concurrent_timeout_error(loop):
    # Matters on Python 3.10, where concurrent.futures.TimeoutError is not asyncio.TimeoutError
    # [test_tasks RunCoroutineThreadsafeTests.test_run_coroutine_threadsafe_with_timeout].

    def raises():
        raise concurrent.futures.TimeoutError()

    future = loop.run_in_executor(None, raises)
    with pytest.raises(asyncio.TimeoutError):
        loop.run_until_complete(future)
    loop.run_until_complete(loop.shutdown_default_executor())


class Payload:
    pass


def test_run_until_complete_keeps_no_reference_to_the_result(loop):
    # A parked runner greenlet kept the last handle it ran, and through it the task and its
    # exception's frames [test_sslproto SelectorStartTLSTests.test_handshake_timeout].
    async def give(value):
        return value

    ref = weakref.ref(loop.run_until_complete(give(Payload())))
    gc.collect()
    assert ref() is None


def test_cancelled_timer_releases_its_arguments(loop):
    payload = Payload()
    ref = weakref.ref(payload)
    handle = loop.call_later(3600, print, payload)
    del payload
    handle.cancel()
    gc.collect()
    assert ref() is None
