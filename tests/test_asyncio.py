"""gevent.asyncio: an asyncio event loop on the hub, and the bridges between greenlets and tasks."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import ssl
import subprocess
import sys
import textwrap
import threading
import time

import pytest

import gevent
from gevent import asyncio as ga
from gevent.event import AsyncResult, Event
from gevent.queue import Queue

TIMEOUT = 10


def run(coro):
    with gevent.Timeout(TIMEOUT):
        return ga.run(coro)


@pytest.fixture
def loop():
    loop = ga.EventLoop()
    yield loop
    loop.close()


# -- the loop API ------------------------------------------------------------------------------


def test_call_soon_runs_in_order_and_stop_ends_run_forever(loop):
    log = []
    loop.call_soon(log.append, 1)
    loop.call_soon(log.append, 2)
    loop.call_soon(loop.stop)
    assert not loop.is_running()
    loop.run_forever()
    assert log == [1, 2]
    assert not loop.is_running()


def test_stop_ends_after_the_current_iteration(loop):
    log = []

    def first():
        log.append("first")
        loop.call_soon(log.append, "next-iteration")

    loop.call_soon(first)
    loop.call_soon(loop.stop)
    loop.run_forever()
    assert log == ["first"]
    loop.call_soon(loop.stop)
    loop.run_forever()
    assert log == ["first", "next-iteration"]


def test_stop_before_run_forever_runs_one_iteration(loop):
    log = []
    loop.call_soon(log.append, 1)
    loop.stop()
    loop.run_forever()
    assert log == [1]


def test_call_later_and_call_at_fire_in_deadline_order(loop):
    log = []
    now = loop.time()
    loop.call_later(0.03, log.append, "b")
    loop.call_at(now + 0.01, log.append, "a")
    cancelled = loop.call_later(0.02, log.append, "cancelled")
    cancelled.cancel()
    loop.call_later(0.05, loop.stop)
    started = time.monotonic()
    loop.run_forever()
    assert log == ["a", "b"]
    assert time.monotonic() - started >= 0.04
    assert isinstance(cancelled, asyncio.TimerHandle)
    assert abs(loop.time() - time.monotonic()) < 0.5


def test_run_until_complete_returns_and_raises(loop):
    async def ok():
        await asyncio.sleep(0)
        return 42

    async def bad():
        raise KeyError("boom")

    assert loop.run_until_complete(ok()) == 42
    with pytest.raises(KeyError):
        loop.run_until_complete(bad())
    assert loop.run_until_complete(asyncio.sleep(0, "x")) == "x"


def test_running_loop_is_visible_in_callbacks_only(loop):
    seen = []

    async def main():
        seen.append(asyncio.get_running_loop())
        seen.append(loop.is_running())

    loop.run_until_complete(main())
    assert seen == [loop, True]
    with pytest.raises(RuntimeError):
        asyncio.get_running_loop()


def test_closed_loop_refuses_work():
    loop = ga.EventLoop()
    loop.close()
    assert loop.is_closed()
    loop.close()  # idempotent
    with pytest.raises(RuntimeError, match="closed"):
        loop.call_soon(print)
    coro = asyncio.sleep(0)
    with pytest.raises(RuntimeError, match="closed"):
        loop.run_until_complete(coro)
    coro.close()


def test_cannot_close_or_rerun_a_running_loop(loop):
    errors = []

    async def main():
        for action in (loop.close, loop.run_forever):
            try:
                action()
            except RuntimeError as exc:
                errors.append(str(exc))

    loop.run_until_complete(main())
    assert "Cannot close a running event loop" in errors[0]
    assert "already running" in errors[1]


def test_call_soon_threadsafe_from_a_thread(loop):
    done = loop.create_future()

    def worker():
        loop.call_soon_threadsafe(done.set_result, threading.get_ident())

    thread = threading.Thread(target=worker)
    thread.start()
    ident = loop.run_until_complete(asyncio.wait_for(done, TIMEOUT))
    thread.join()
    assert ident == thread.ident


def test_exception_handler_api(loop):
    contexts = []
    assert loop.get_exception_handler() is None
    loop.set_exception_handler(lambda lp, ctx: contexts.append(ctx))

    def fail():
        raise ValueError("in a callback")

    loop.call_soon(fail)
    loop.call_soon(loop.stop)
    loop.run_forever()
    assert isinstance(contexts[0]["exception"], ValueError)
    loop.set_exception_handler(None)


def test_debug_mode(loop):
    loop.set_debug(True)
    assert loop.get_debug()

    async def main():
        return 1

    assert loop.run_until_complete(main()) == 1


def test_add_reader_and_writer(loop):
    a, b = socket.socketpair()
    try:
        a.setblocking(False)
        got = loop.create_future()
        writable = loop.create_future()
        loop.add_reader(a.fileno(), lambda: got.set_result(a.recv(10)))
        loop.add_writer(b.fileno(), lambda: writable.done() or writable.set_result(True))
        loop.run_until_complete(asyncio.wait_for(writable, TIMEOUT))
        assert loop.remove_writer(b.fileno())
        b.send(b"ping")
        assert loop.run_until_complete(asyncio.wait_for(got, TIMEOUT)) == b"ping"
        assert loop.remove_reader(a.fileno())
        assert not loop.remove_reader(a.fileno())
    finally:
        a.close()
        b.close()


def test_a_loop_nobody_runs_does_not_spin_the_hub(loop):
    a, b = socket.socketpair()
    try:
        loop.add_reader(a.fileno(), lambda: None)
        b.send(b"x")  # a stays readable: a level-triggered watcher would fire on every poll
        hub_loop = gevent.get_hub().loop
        before = hub_loop._iterations
        gevent.sleep(0.1)
        assert hub_loop._iterations - before < 20
        loop.remove_reader(a.fileno())
    finally:
        a.close()
        b.close()


def test_a_paused_reader_fires_again_when_the_loop_runs_again(loop):
    a, b = socket.socketpair()
    try:
        a.setblocking(False)
        got = loop.create_future()
        loop.add_reader(a.fileno(), lambda: got.done() or got.set_result(a.recv(10)))
        b.send(b"early")  # arrives while nobody runs the loop: the fd is parked, not lost
        for _ in range(3):
            gevent.sleep(0)  # each hub iteration polls: the fd is reported, the reader waits
        assert not got.done()
        assert loop.run_until_complete(asyncio.wait_for(got, TIMEOUT)) == b"early"
        loop.remove_reader(a.fileno())
    finally:
        a.close()
        b.close()


def test_an_fd_shared_by_an_asyncio_reader_and_a_waiting_greenlet(loop):
    # Both are woken by one readiness report, and either may leave without stranding the other.
    from gevent.socket import wait_read

    a, b = socket.socketpair()
    try:
        a.setblocking(False)
        fired = loop.create_future()
        waiter = gevent.spawn(wait_read, a.fileno(), TIMEOUT)
        gevent.sleep(0)  # the greenlet is parked on the fd
        loop.add_reader(a.fileno(), lambda: fired.done() or fired.set_result(True))
        b.send(b"x")
        assert loop.run_until_complete(asyncio.wait_for(fired, TIMEOUT))
        waiter.join(TIMEOUT)
        assert waiter.successful()
        assert loop.remove_reader(a.fileno())
        assert a.recv(10) == b"x"
        waiter = gevent.spawn(wait_read, a.fileno(), TIMEOUT)
        gevent.sleep(0)
        b.send(b"y")
        waiter.join(TIMEOUT)
        assert waiter.successful()
    finally:
        a.close()
        b.close()


def test_the_loop_keeps_asyncio_attributes_in_a_compact_dict(loop):
    # CPython keeps attribute lookups fast only while an instance dict has at most 30 keys
    # (shared keys); our own state is in slots, so every lookup asyncio makes on the loop
    # (a Handle asks get_debug(), transports ask _ready ...) stays on the fast path.
    assert len(vars(loop)) <= 30
    assert "_hub" not in vars(loop)


def test_call_soon_makes_the_handle_asyncio_s_constructor_makes(loop):
    # call_soon fills the Handle's slots itself (two calls fewer per callback); the result must
    # be the constructor's in every slot, in and out of debug mode.
    import contextvars

    from gevent import _asyncio_loop

    assert _asyncio_loop._HANDLE_SLOTS_KNOWN  # so the fast path is the one tested here
    var: contextvars.ContextVar[str] = contextvars.ContextVar("var")
    var.set("value")
    slots = [name for name in asyncio.Handle.__slots__ if name != "__weakref__"]
    for debug in (False, True):
        loop.set_debug(debug)
        for context in (None, contextvars.copy_context()):
            ours = loop.call_soon(print, 1, 2, context=context)
            theirs = asyncio.Handle(print, (1, 2), loop, context)
            ours.cancel()
            theirs.cancel()
            for name in slots:
                mine, expected = getattr(ours, name), getattr(theirs, name)
                if name == "_context":
                    assert type(mine) is contextvars.Context and mine[var] == "value"
                elif name == "_source_traceback":
                    assert bool(mine) == bool(expected) == debug
                elif name == "_repr":  # in debug mode it names the line that made it
                    assert (mine is None) == (expected is None)
                    prefix = str(expected).split(" created at")[0]
                    assert str(mine).split(" created at")[0] == prefix
                else:
                    assert mine == expected, name
            assert type(ours) is asyncio.Handle
            assert repr(ours).split(" created at")[0] == repr(theirs).split(" created at")[0]
    loop.set_debug(False)


def test_sock_methods():
    async def main():
        loop = asyncio.get_running_loop()
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        listener.setblocking(False)
        client = socket.socket()
        client.setblocking(False)
        try:
            accept = asyncio.ensure_future(loop.sock_accept(listener))
            await loop.sock_connect(client, listener.getsockname())
            server, _ = await accept
            with server:
                await loop.sock_sendall(client, b"hello" * 1000)
                data = b""
                while len(data) < 5000:
                    data += await loop.sock_recv(server, 65536)
                await loop.sock_sendall(server, b"back")
                buf = bytearray(4)
                n = await loop.sock_recv_into(client, buf)
                return data == b"hello" * 1000, bytes(buf[:n])
        finally:
            client.close()
            listener.close()

    assert run(main()) == (True, b"back")


def test_sock_sendfile(tmp_path):
    path = tmp_path / "data"
    path.write_bytes(b"0123456789" * 1000)

    async def main():
        loop = asyncio.get_running_loop()
        a, b = socket.socketpair()
        a.setblocking(False)
        b.setblocking(False)
        try:
            with open(path, "rb") as f:
                reader = asyncio.ensure_future(_read_n(loop, b, 10000))
                sent = await loop.sock_sendfile(a, f)
                return sent, await reader
        finally:
            a.close()
            b.close()

    assert run(main()) == (10000, b"0123456789" * 1000)


async def _read_n(loop, sock, n):
    data = b""
    while len(data) < n:
        data += await loop.sock_recv(sock, 65536)
    return data


async def _echo_server_roundtrip(start_server, open_connection, nclients=20):
    handlers = []

    async def handle(reader, writer):
        handlers.append(asyncio.current_task())
        while True:
            line = await reader.readline()
            if not line:
                break
            writer.write(line.upper())
            await writer.drain()
        writer.close()
        await writer.wait_closed()

    server = await start_server(handle)

    async def client(i):
        reader, writer = await open_connection(server)
        writer.write(f"hello {i}\n".encode())
        line = await reader.readline()
        writer.close()
        await writer.wait_closed()
        return line

    try:
        lines = await asyncio.gather(*[client(i) for i in range(nclients)])
        await asyncio.gather(*handlers)
        return lines
    finally:
        server.close()
        await server.wait_closed()


def test_streams_echo_over_tcp():
    async def main():
        return await _echo_server_roundtrip(
            lambda handle: asyncio.start_server(handle, "127.0.0.1", 0),
            lambda server: asyncio.open_connection(*server.sockets[0].getsockname()))

    assert run(main()) == [f"HELLO {i}\n".encode() for i in range(20)]


def test_streams_echo_over_unix_sockets(tmp_path):
    path = str(tmp_path / "sock")

    async def main():
        return await _echo_server_roundtrip(
            lambda handle: asyncio.start_unix_server(handle, path),
            lambda server: asyncio.open_unix_connection(path), nclients=5)

    assert run(main()) == [f"HELLO {i}\n".encode() for i in range(5)]


def test_protocol_and_transport(loop):
    received = []

    class Echo(asyncio.Protocol):
        def connection_made(self, transport):
            self.transport = transport

        def data_received(self, data):
            self.transport.write(data)

    class Client(asyncio.Protocol):
        def __init__(self, done):
            self.done = done

        def data_received(self, data):
            received.append(data)
            self.done.set_result(None)

    async def main():
        server = await loop.create_server(Echo, "127.0.0.1", 0)
        done = loop.create_future()
        transport, _ = await loop.create_connection(lambda: Client(done),
                                                    *server.sockets[0].getsockname())
        transport.write(b"abc")
        await done
        transport.close()
        server.close()
        await server.wait_closed()

    loop.run_until_complete(asyncio.wait_for(main(), TIMEOUT))
    assert received == [b"abc"]


def test_start_tls_and_ssl_connection(tmp_path):
    from _net_helpers import make_certificate

    certfile, keyfile = make_certificate(str(tmp_path))
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(certfile, keyfile)
    client_context = ssl.create_default_context(cafile=certfile)

    async def main():
        handlers = []

        async def handle(reader, writer):
            handlers.append(asyncio.current_task())
            writer.write((await reader.readline()).upper())
            await writer.drain()
            writer.close()
            await writer.wait_closed()

        server = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=server_context)
        host, port = server.sockets[0].getsockname()
        try:
            reader, writer = await asyncio.open_connection(host, port, ssl=client_context,
                                                           server_hostname="localhost")
            writer.write(b"secret\n")
            line = await reader.readline()
            writer.close()
            await writer.wait_closed()
            await asyncio.gather(*handlers)
            return line
        finally:
            server.close()
            await server.wait_closed()

    assert run(main()) == b"SECRET\n"


def test_datagram_endpoint():
    class Echo(asyncio.DatagramProtocol):
        def connection_made(self, transport):
            self.transport = transport

        def datagram_received(self, data, addr):
            self.transport.sendto(data[::-1], addr)

    class Client(asyncio.DatagramProtocol):
        def __init__(self, done):
            self.done = done

        def datagram_received(self, data, addr):
            self.done.set_result(data)

    async def main():
        loop = asyncio.get_running_loop()
        server, _ = await loop.create_datagram_endpoint(Echo, local_addr=("127.0.0.1", 0))
        done = loop.create_future()
        client, _ = await loop.create_datagram_endpoint(
            lambda: Client(done), remote_addr=server.get_extra_info("sockname"))
        client.sendto(b"abc")
        try:
            return await done
        finally:
            client.close()
            server.close()

    assert run(main()) == b"cba"


def test_getaddrinfo_and_getnameinfo():
    async def main():
        loop = asyncio.get_running_loop()
        infos = await loop.getaddrinfo("127.0.0.1", 80, type=socket.SOCK_STREAM)
        name = await loop.getnameinfo(("127.0.0.1", 80), socket.NI_NUMERICHOST
                                      | socket.NI_NUMERICSERV)
        local = await loop.getaddrinfo("localhost", None)
        return infos[0][4], name, bool(local)

    assert run(main()) == (("127.0.0.1", 80), ("127.0.0.1", "80"), True)


def test_subprocess_exec_and_shell():
    async def main():
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-c", "import sys; sys.stdout.write(sys.stdin.read().upper())",
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE)
        out, _ = await proc.communicate(b"abc")
        shell = await asyncio.create_subprocess_shell("exit 3")
        return out, proc.returncode, await shell.wait()

    assert run(main()) == (b"ABC", 0, 3)


def test_add_and_remove_signal_handler(loop):
    got = loop.create_future()
    loop.add_signal_handler(signal.SIGUSR1, got.set_result, "usr1")
    try:
        loop.call_soon(os.kill, os.getpid(), signal.SIGUSR1)
        assert loop.run_until_complete(asyncio.wait_for(got, TIMEOUT)) == "usr1"
    finally:
        assert loop.remove_signal_handler(signal.SIGUSR1)
    assert not loop.remove_signal_handler(signal.SIGUSR1)
    with pytest.raises(TypeError):
        loop.add_signal_handler(signal.SIGUSR1, asyncio.sleep)
    with pytest.raises(RuntimeError):
        loop.add_signal_handler(signal.SIGKILL, print)


def test_run_in_executor_uses_real_threads_and_shuts_down(loop):
    main_ident = threading.get_ident()

    async def main():
        ident = await loop.run_in_executor(None, threading.get_ident)
        with pytest.raises(ZeroDivisionError):
            await loop.run_in_executor(None, lambda: 1 / 0)
        await loop.shutdown_default_executor()
        with pytest.raises(RuntimeError, match="shutdown"):
            loop.run_in_executor(None, print)
        return ident

    assert loop.run_until_complete(main()) != main_ident


def test_shutdown_asyncgens(loop):
    closed = []

    async def agen():
        try:
            yield 1
            yield 2
        finally:
            closed.append(True)

    async def main():
        gen = agen()
        assert await gen.__anext__() == 1
        return gen

    gen = loop.run_until_complete(main())
    loop.run_until_complete(loop.shutdown_asyncgens())
    assert closed == [True]
    del gen


def test_taskgroup_timeout_and_queue():
    async def main():
        queue = asyncio.Queue()
        results = []

        async def producer():
            for i in range(5):
                await queue.put(i)
                await asyncio.sleep(0)

        async def consumer():
            for _ in range(5):
                results.append(await queue.get())

        await asyncio.gather(producer(), consumer())
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(asyncio.sleep(10), 0.01)
        return results

    assert run(main()) == [0, 1, 2, 3, 4]


# -- greenlets <-> coroutines ------------------------------------------------------------------


def test_issue_example_runs_concurrently_in_greenlets():
    async def work(i):
        await asyncio.sleep(0.3)
        return i

    started = time.monotonic()
    jobs = [gevent.spawn(ga.run, work(i)) for i in range(3)]
    gevent.joinall(jobs, timeout=TIMEOUT, raise_error=True)
    assert [j.value for j in jobs] == [0, 1, 2]
    assert time.monotonic() - started < 0.85


def test_run_refuses_non_coroutines_and_nesting():
    with pytest.raises(ValueError, match="coroutine was expected"):
        ga.run(lambda: None)

    async def nested():
        coro = asyncio.sleep(0)
        try:
            ga.run(coro)
        finally:
            coro.close()

    with pytest.raises(RuntimeError, match="running event loop"):
        run(nested())


def test_run_cancels_leftover_tasks():
    cancelled = []

    async def forever():
        try:
            await asyncio.sleep(100)
        except asyncio.CancelledError:
            cancelled.append(True)
            raise

    async def main():
        asyncio.ensure_future(forever())
        await asyncio.sleep(0)
        return "done"

    assert run(main()) == "done"
    assert cancelled == [True]


def test_await_from_a_greenlet_and_spawn():
    async def double(x):
        await asyncio.sleep(0.01)
        return 2 * x

    assert ga.await_(double(2)) == 4
    glet = ga.spawn(double(5))
    assert glet.get(timeout=TIMEOUT) == 10
    with pytest.raises(KeyError):
        ga.await_(_raise(KeyError("x")))


async def _raise(exc):
    raise exc


def test_await_timeout_cancels_the_task():
    cancelled = gevent.event.Event()

    async def slow():
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    with pytest.raises(gevent.Timeout):
        ga.await_(slow(), timeout=0.05)
    assert cancelled.wait(TIMEOUT)


def test_killing_the_awaiting_greenlet_cancels_the_task():
    cancelled = gevent.event.Event()
    started = gevent.event.Event()

    async def slow():
        started.set()
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    glet = ga.spawn(slow())
    assert started.wait(TIMEOUT)
    glet.kill(timeout=TIMEOUT)
    assert cancelled.wait(TIMEOUT)


def test_wrap_greenlet_asyncresult_event():
    async def main():
        glet = gevent.spawn(lambda: gevent.sleep(0.01) or "glet")
        result = AsyncResult()
        event = Event()
        gevent.spawn_later(0.01, result.set, "async-result")
        gevent.spawn_later(0.01, event.set)
        failing = gevent.spawn(lambda: 1 / 0)
        values = [await ga.wrap(glet), await ga.wrap(result), await ga.wrap(event)]
        with pytest.raises(ZeroDivisionError):
            await ga.wrap(failing)
        return values

    assert run(main()) == ["glet", "async-result", True]
    with pytest.raises(TypeError):
        ga.wrap(object())


def test_run_green_and_its_cancellation_kills_the_greenlet():
    killed = gevent.event.Event()

    def blocking(x):
        gevent.sleep(0.01)
        return x + 1

    def forever():
        try:
            gevent.sleep(10)
        except gevent.GreenletExit:
            killed.set()
            raise

    async def main():
        value = await ga.run_green(blocking, 1)
        task = asyncio.ensure_future(ga.run_green(forever))
        await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return value

    assert run(main()) == 2
    assert killed.is_set()


async def _spin_until_set(state: dict, key: str, sock) -> None:
    """A busy task: ``await asyncio.sleep(0)`` until ``state[key]`` is set, counting its
    iterations in ``state["count"]``; at the 10th it sends a byte on *sock*."""
    while state[key] is None and state["count"] < 100_000:
        state["count"] += 1
        if state["count"] == 10:
            sock.send(b"x")
        await asyncio.sleep(0)


def test_a_greenlet_waiting_on_a_socket_wakes_at_the_next_iteration_of_a_busy_loop():
    # Between its iterations a batch hands the selector's fds their events itself; any other
    # ready fd (here a greenlet parked in recv) sends it back to the hub's poll at once, not
    # after a whole callback budget.
    from gevent import socket as gsocket

    a, b = gsocket.socketpair()
    state = {"count": 0, "woke_at": None}

    def reader():
        b.recv(1)
        state["woke_at"] = state["count"]

    try:
        glet = gevent.spawn(reader)
        gevent.sleep(0)  # parked in recv
        run(_spin_until_set(state, "woke_at", a))
        glet.join(TIMEOUT)
    finally:
        a.close()
        b.close()
    assert state["woke_at"] is not None and 10 <= state["woke_at"] <= 12


def test_two_busy_loops_on_one_hub_take_turns_at_each_iteration():
    # The events of one loop's fds, handed out inside the other loop's batch, wake it at once:
    # its batch waits for the hub's next poll, and the busy loop lets it go first.
    a, b = socket.socketpair()
    state = {"count": 0, "read_at": None}

    waiting = Event()

    async def reader():
        loop = asyncio.get_running_loop()
        receive = loop.sock_recv(b, 1)
        waiting.set()  # main runs again once this task waits on b (it only then switches)
        await receive
        state["read_at"] = state["count"]

    try:
        a.setblocking(False)
        b.setblocking(False)
        glet = gevent.spawn(run, reader())
        assert waiting.wait(TIMEOUT)
        run(_spin_until_set(state, "read_at", a))
        glet.join(TIMEOUT)
    finally:
        a.close()
        b.close()
    assert state["read_at"] is not None and 10 <= state["read_at"] <= 13


def test_greenlets_and_tasks_do_not_stall_each_other():
    ticks = []

    def greenlet_ticker():
        for i in range(50):
            ticks.append(("g", i))
            gevent.sleep(0)

    async def task_ticker():
        for i in range(50):
            ticks.append(("t", i))
            await asyncio.sleep(0)

    glet = gevent.spawn(greenlet_ticker)
    run(task_ticker())
    glet.join(TIMEOUT)
    kinds = [kind for kind, _ in ticks[:40]]
    assert "g" in kinds and "t" in kinds


# -- blocking gevent calls inside coroutines ---------------------------------------------------


def test_blocking_gevent_calls_suspend_only_their_task():
    async def sleeper(i):
        gevent.sleep(0.3)
        task = asyncio.current_task()
        await asyncio.sleep(0)
        return i, task is not None, asyncio.get_running_loop() is not None

    async def main():
        return await asyncio.gather(*[sleeper(i) for i in range(10)])

    started = time.monotonic()
    results = run(main())
    assert results == [(i, True, True) for i in range(10)]
    assert time.monotonic() - started < 1.5


def test_blocking_queue_get_inside_a_coroutine():
    queue = Queue()

    async def consumer():
        return queue.get(timeout=TIMEOUT)

    async def main():
        task = asyncio.ensure_future(consumer())
        await asyncio.sleep(0.01)
        assert not task.done()
        gevent.spawn(queue.put, "item")
        return await task

    assert run(main()) == "item"


def test_a_blocked_callback_does_not_leak_the_running_loop():
    async def main():
        asyncio.get_running_loop().call_soon(gevent.sleep, 0.05)
        await asyncio.sleep(0.01)
        # The hub runs other greenlets meanwhile: none of them sees a running loop.
        seen = await ga.run_green(lambda: asyncio.get_event_loop_policy() and
                                  _running_loop_or_none())
        await asyncio.sleep(0.1)
        return seen

    assert run(main()) is None


def _running_loop_or_none():
    from asyncio import events

    return events._get_running_loop()


# -- clean errors ------------------------------------------------------------------------------


def test_await_from_the_hub_is_a_clear_error():
    errors = []

    def in_hub():
        coro = asyncio.sleep(0)
        try:
            ga.await_(coro)
        except RuntimeError as exc:
            errors.append(str(exc))

    gevent.get_hub().loop.run_callback(in_hub)
    gevent.sleep(0.01)
    assert errors and "hub greenlet" in errors[0]


def test_await_needs_an_awaitable():
    async def coroutine_function():
        pass

    with pytest.raises(TypeError, match="forget to call"):
        ga.await_(coroutine_function)
    with pytest.raises(TypeError):
        ga.spawn(42)


def test_using_the_loop_of_another_thread_is_a_clear_error(loop):
    errors = []

    def worker():
        try:
            loop.call_later(1, print)
        except RuntimeError as exc:
            errors.append(str(exc))

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join(TIMEOUT)
    assert errors and "another thread" in errors[0]


def test_run_forever_from_the_hub_is_a_clear_error(loop):
    errors = []

    def in_hub():
        try:
            loop.run_forever()
        except RuntimeError as exc:
            errors.append(str(exc))

    gevent.get_hub().loop.run_callback(in_hub)
    gevent.sleep(0.01)
    assert errors and "hub greenlet" in errors[0]


# -- the policy and monkey patching ------------------------------------------------------------


def test_policy_is_per_greenlet():
    policy = ga.EventLoopPolicy()
    assert policy.get_event_loop() is ga.get_loop()
    mine = policy.new_event_loop()
    try:
        policy.set_event_loop(mine)
        assert policy.get_event_loop() is mine
        other = gevent.spawn(policy.get_event_loop).get(timeout=TIMEOUT)
        assert other is ga.get_loop()
        policy.set_event_loop(None)
        with pytest.raises(RuntimeError):
            policy.get_event_loop()
    finally:
        mine.close()


def _run_script(code: str) -> str:
    env = dict(os.environ)
    src = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "src")
    env["PYTHONPATH"] = src + os.pathsep + env.get("PYTHONPATH", "")
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=env,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


def test_patch_all_makes_asyncio_run_work_in_greenlets():
    out = _run_script("""
        from gevent import monkey; monkey.patch_all()
        import sys
        assert "asyncio" not in sys.modules  # patching did not import it
        import gevent, asyncio, time
        async def work(i):
            await asyncio.sleep(0.5)
            return i
        started = time.monotonic()
        jobs = [gevent.spawn(asyncio.run, work(i)) for i in range(3)]
        gevent.joinall(jobs)
        print([j.value for j in jobs], time.monotonic() - started < 1.2)
        async def sleeper(i):
            time.sleep(0.5)
            return i
        async def main():
            return await asyncio.gather(*[sleeper(i) for i in range(10)])
        started = time.monotonic()
        print(asyncio.run(main()) == list(range(10)), time.monotonic() - started < 1.5)
    """)
    assert out.splitlines() == ["[0, 1, 2] True", "True True"]


def test_patch_asyncio_alone_and_no_asyncio_option():
    out = _run_script("""
        import asyncio
        from gevent import monkey
        from gevent.asyncio import EventLoopPolicy
        monkey.patch_all(asyncio=False)
        print(isinstance(asyncio.get_event_loop_policy(), EventLoopPolicy))
        print(monkey.patch_asyncio(), monkey.patch_asyncio())
        print(isinstance(asyncio.get_event_loop_policy(), EventLoopPolicy))
        print(type(asyncio.new_event_loop()).__name__)
    """)
    assert out.splitlines() == ["False", "True False", "True", "EventLoop"]


def test_python_m_gevent_monkey_applies_it(tmp_path):
    script = tmp_path / "script.py"
    script.write_text("import asyncio\nprint(type(asyncio.get_event_loop_policy()).__name__)\n")
    out = _run_script(f"""
        import sys, runpy
        sys.argv = ["gevent.monkey", {str(script)!r}]
        runpy.run_module("gevent.monkey", run_name="__main__")
    """)
    assert out == "EventLoopPolicy"


def test_importing_gevent_asyncio_first_after_patch_all():
    out = _run_script("""
        from gevent import monkey; monkey.patch_all()
        import sys
        assert "asyncio" not in sys.modules
        from gevent.asyncio import await_
        import asyncio
        async def answer():
            return 42
        print(await_(answer()), type(asyncio.get_event_loop_policy()).__name__)
    """)
    assert out == "42 EventLoopPolicy"


def test_the_hubs_loop_keeps_serving_after_await_returns():
    async def handle(reader, writer):
        writer.write((await reader.readline()).upper())
        await writer.drain()
        writer.close()

    server = ga.await_(asyncio.start_server(handle, "127.0.0.1", 0), timeout=TIMEOUT)
    try:
        from gevent import socket as gsocket

        with gsocket.create_connection(server.sockets[0].getsockname(), timeout=TIMEOUT) as sock:
            sock.sendall(b"hi\n")
            assert sock.makefile("rb").readline() == b"HI\n"
        assert not ga.get_loop().is_running()
    finally:
        server.close()
        ga.await_(server.wait_closed(), timeout=TIMEOUT)


def test_call_soon_threadsafe_keeps_fifo_with_call_soon(loop):
    results = []
    loop.call_soon_threadsafe(results.append, "threadsafe-1")
    loop.call_soon(results.append, "soon")
    thread = threading.Thread(target=loop.call_soon_threadsafe, args=(results.append, "thread"))
    thread.start()
    thread.join(TIMEOUT)
    loop.call_soon(results.append, "soon-2")
    loop.call_soon(loop.stop)
    loop.run_forever()
    assert results == ["threadsafe-1", "soon", "thread", "soon-2"]


def test_run_in_executor_turns_a_concurrent_cancellation_into_asyncio_cancelled(loop):
    import concurrent.futures

    def cancelled():
        raise concurrent.futures.CancelledError()

    with pytest.raises(asyncio.CancelledError):
        loop.run_until_complete(loop.run_in_executor(None, cancelled))


def test_a_parked_runner_keeps_no_reference_to_the_last_handle(loop):
    import gc
    import weakref

    class Result:
        pass

    async def main():
        return Result()

    ref = weakref.ref(loop.run_until_complete(main()))
    gc.collect()
    assert ref() is None


def test_await_inside_a_coroutine_blocks_only_that_task():
    async def inner():
        await asyncio.sleep(0.01)
        return "inner"

    async def outer():
        return ga.await_(inner())

    async def main():
        ticks = 0

        async def ticker():
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0.001)

        tick_task = asyncio.ensure_future(ticker())
        value = await outer()
        tick_task.cancel()
        return value, ticks > 0

    assert run(main()) == ("inner", True)


def test_each_thread_has_its_own_hub_and_loops():
    results = []

    async def work():
        gevent.sleep(0.01)
        await asyncio.sleep(0.01)
        return threading.get_ident()

    def in_thread():
        results.append(ga.run(work()))
        results.append(ga.await_(work()))

    threads = [threading.Thread(target=in_thread) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(TIMEOUT)
    assert sorted(results) == sorted([t.ident for t in threads for _ in range(2)])


def test_gevent_timeout_inside_a_coroutine():
    async def main():
        with gevent.Timeout(0.05, False):
            gevent.sleep(10)
            return "not reached"
        await asyncio.sleep(0)
        return "timed out"

    assert run(main()) == "timed out"


def test_run_until_complete_from_the_hub_refuses_before_starting_anything(loop):
    import warnings

    errors = []
    ran = []

    async def main():
        ran.append(True)

    def in_hub():
        try:
            loop.run_until_complete(main())
        except RuntimeError as exc:
            errors.append(str(exc))

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        gevent.get_hub().loop.run_callback(in_hub)
        gevent.sleep(0.01)
    assert errors and "hub greenlet" in errors[0]
    assert not ran and not asyncio.all_tasks(loop)


def test_run_until_complete_while_another_greenlet_runs_the_loop(loop):
    async def value(x):
        await asyncio.sleep(0.01)
        return x

    runner = gevent.spawn(loop.run_forever)
    gevent.sleep(0.01)
    try:
        assert gevent.spawn(loop.run_until_complete, value(3)).get(timeout=TIMEOUT) == 3
    finally:
        loop.call_soon_threadsafe(loop.stop)
        runner.join(TIMEOUT)
    assert runner.dead


def test_gevent_thread_pool_executor_as_the_default_executor(loop):
    from gevent.threadpool import ThreadPoolExecutor

    executor = ThreadPoolExecutor(2)
    loop.set_default_executor(executor)

    async def main():
        value = await loop.run_in_executor(None, sum, [1, 2, 3])
        await loop.shutdown_default_executor()
        return value

    assert loop.run_until_complete(main()) == 6
    if sys.version_info >= (3, 11):  # 3.10 only warns
        with pytest.raises(TypeError):
            loop.set_default_executor(object())


def test_run_in_executor_turns_a_concurrent_timeout_into_asyncio_timeout(loop):
    import concurrent.futures

    def timeout():
        raise concurrent.futures.TimeoutError()

    with pytest.raises(asyncio.TimeoutError):
        loop.run_until_complete(loop.run_in_executor(None, timeout))
