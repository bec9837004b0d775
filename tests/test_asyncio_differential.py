"""gevent.asyncio's EventLoop beside asyncio's own loop: the same test body on both.

Each case pins, in a small form, a difference CPython's asyncio tests
(tests/stdlib/test_stdlib_asyncio.py) found in gevent.asyncio and that was then fixed; the stock
loop shows the expected answer. In brackets: the CPython test that found it.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import gc
import socket
import threading
import time
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


# -- iterations: every iteration of asyncio's loop starts with a look at the I/O -----------------


def test_io_ready_before_the_loop_runs_is_handled_in_the_first_iteration(loop):
    a, b = socket.socketpair()
    order: list = []

    def readable():
        order.append("readable")
        loop.remove_reader(b)

    def step(i):
        order.append(i)
        if i < 5:
            loop.call_soon(step, i + 1)
        else:
            loop.stop()

    try:
        loop.add_reader(b, readable)
        a.send(b"x")
        loop.call_soon(step, 0)
        loop.run_forever()
    finally:
        a.close()
        b.close()
    assert order == [0, "readable", 1, 2, 3, 4, 5]


def test_io_that_becomes_ready_is_handled_at_the_next_iteration(loop):
    # A chain of callbacks does not hold the I/O back: each iteration looks at it (gevent's
    # asyncio loop used to run such a chain for up to a whole budget before the hub polled).
    a, b = socket.socketpair()
    order: list = []

    def readable():
        order.append("readable")
        b.recv(1)
        loop.remove_reader(b)

    def step(i):
        order.append(i)
        if i == 2:
            a.send(b"x")
        if i < 6:
            loop.call_soon(step, i + 1)
        else:
            loop.stop()

    try:
        loop.add_reader(b, readable)
        loop.call_soon(step, 0)
        loop.run_forever()
    finally:
        a.close()
        b.close()
    assert order == [0, 1, 2, 3, "readable", 4, 5, 6]


def _steps_with_a_due_timer(loop) -> list:
    """A call_soon chain; its second step sets a timer that is due before the next iteration.
    Returns the order in which the steps and the timer ran."""
    order: list = []

    def step(i):
        order.append(i)
        if i == 1:
            loop.call_later(0.001, order.append, "timer")
            # The timer is due before the next iteration starts. A busy wait: another test
            # in this process may have patched time.sleep.
            deadline = time.monotonic() + 0.003
            while time.monotonic() < deadline:
                pass
        if i < 5:
            loop.call_soon(step, i + 1)
        else:
            loop.stop()

    loop.call_soon(step, 0)
    loop.run_forever()
    return order


def test_a_due_timer_runs_at_the_next_iteration(loop):
    assert _steps_with_a_due_timer(loop) == [0, 1, 2, "timer", 3, 4, 5]


def test_a_due_timer_runs_at_the_next_iteration_wherever_the_hub_resumed_the_loop():
    # gevent's loop only. A run that ends in a gevent Timeout wakes its greenlet from the hub's
    # callbacks that run after the timers; the next loop's first batch ran there, and its next
    # iteration then came before any timer phase: the timer ran one iteration late.
    import gevent

    async def times_out():
        with gevent.Timeout(0.01, False):
            gevent.sleep(10)
        await asyncio.sleep(0)

    gevent_asyncio.run(times_out())
    loop = _gevent()
    try:
        assert _steps_with_a_due_timer(loop) == [0, 1, 2, "timer", 3, 4, 5]
    finally:
        loop.close()


def test_servers_see_their_clients_close_before_the_clients_tasks_end(loop):
    # The order a benchmark's teardown relied on: a client closes and awaits wait_closed(); by
    # the time gather() of the clients returns, the server's handlers have read EOF (before,
    # on gevent's loop they were still waiting and asyncio.run cancelled them).
    log: list = []

    async def handler(reader, writer):
        while await reader.read(100):
            pass
        log.append("server saw EOF")
        writer.close()

    async def client(address):
        reader, writer = await asyncio.open_connection(*address)
        writer.write(b"x")
        await writer.drain()
        writer.close()
        await writer.wait_closed()
        log.append("client closed")

    async def main():
        server = await asyncio.start_server(handler, "127.0.0.1", 0)
        address = server.sockets[0].getsockname()[:2]
        await asyncio.wait_for(asyncio.gather(*[client(address) for _ in range(3)]), 10)
        log.append("gathered")
        server.close()
        await server.wait_closed()

    loop.run_until_complete(main())
    assert log == ["client closed"] * 3 + ["server saw EOF"] * 3 + ["gathered"]
