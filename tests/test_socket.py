"""gevent.socket over real loopback TCP, UDP and Unix sockets."""

from __future__ import annotations

import errno
import io
import os
import socket as stdsocket
import sys
import tempfile
import time

import pytest

import gevent
from _net_helpers import ensure_threadpool
from gevent import socket
from gevent.event import Event
from gevent.exceptions import ConcurrentObjectUseError
from gevent.hub import get_hub


def tcp_listener():
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(128)
    return listener


def tcp_pair():
    listener = tcp_listener()
    try:
        client = socket.create_connection(listener.getsockname(), timeout=5)
        server, _ = listener.accept()
    finally:
        listener.close()
    return client, server


def test_is_a_stdlib_socket_and_nonblocking_underneath():
    sock = socket.socket()
    try:
        assert isinstance(sock, stdsocket.socket)
        assert isinstance(sock, stdsocket.SocketType)
        assert sock.gettimeout() is None
        assert sock.timeout is None
        assert sock.getblocking()
        assert os.get_blocking(sock.fileno()) is False
        sock.settimeout(2)
        assert sock.gettimeout() == 2.0
        sock.setblocking(False)
        assert sock.gettimeout() == 0.0 and not sock.getblocking()
        with pytest.raises(ValueError):
            sock.settimeout(-1)
        with pytest.raises(TypeError):
            sock.settimeout("x")
        assert sock.family == socket.AF_INET and sock.type == socket.SOCK_STREAM
    finally:
        sock.close()


def test_default_timeout_is_honoured():
    old = stdsocket.getdefaulttimeout()
    stdsocket.setdefaulttimeout(3.5)
    try:
        with socket.socket() as sock:
            assert sock.gettimeout() == 3.5
    finally:
        stdsocket.setdefaulttimeout(old)


def test_socketpair_recv_waits_cooperatively():
    a, b = socket.socketpair()
    log = []
    try:
        def reader():
            log.append("reader-waiting")
            log.append(b.recv(10))

        glet = gevent.spawn(reader)
        gevent.sleep(0)
        log.append("writer")
        a.sendall(b"hello")
        glet.join(timeout=5)
        assert log == ["reader-waiting", "writer", b"hello"]
    finally:
        a.close()
        b.close()


@pytest.mark.parametrize("method", ["recv", "recv_into", "recvfrom", "recvfrom_into", "recvmsg"])
def test_receive_timeouts(method):
    a, b = socket.socketpair()
    try:
        b.settimeout(0.05)
        args = {"recv": (10,), "recv_into": (bytearray(10),), "recvfrom": (10,),
                "recvfrom_into": (bytearray(10),), "recvmsg": (10,)}[method]
        start = time.monotonic()
        with pytest.raises(socket.timeout) as info:
            getattr(b, method)(*args)
        assert isinstance(info.value, TimeoutError)
        assert str(info.value) == "timed out"
        assert 0.04 <= time.monotonic() - start < 2
    finally:
        a.close()
        b.close()


def test_nonblocking_mode_raises_blocking_io_error():
    a, b = socket.socketpair()
    try:
        b.setblocking(False)
        with pytest.raises(BlockingIOError):
            b.recv(1)
        listener = tcp_listener()
        listener.setblocking(False)
        with pytest.raises(BlockingIOError):
            listener.accept()
        listener.close()
    finally:
        a.close()
        b.close()


def test_accept_timeout_and_connect():
    listener = tcp_listener()
    try:
        listener.settimeout(0.05)
        with pytest.raises(socket.timeout):
            listener.accept()
        listener.settimeout(5)
        client = socket.socket()
        client.settimeout(5)
        client.connect(listener.getsockname())
        server, address = listener.accept()
        assert address == client.getsockname()
        assert isinstance(server, socket.socket)
        # The listener had a timeout and the default is None: the accepted socket blocks.
        assert server.gettimeout() is None
        client.close()
        server.close()
    finally:
        listener.close()


def test_sendall_timeout_when_peer_does_not_read():
    client, server = tcp_pair()
    try:
        client.settimeout(0.2)
        with pytest.raises(socket.timeout):
            client.sendall(b"x" * (64 << 20))
    finally:
        client.close()
        server.close()


def test_sendall_and_recv_into_large_transfer():
    client, server = tcp_pair()
    total = 8 << 20
    try:
        def send():
            client.sendall(b"\x01" * total)
            client.shutdown(socket.SHUT_WR)

        sender = gevent.spawn(send)
        received = 0
        buffer = bytearray(65536)
        while True:
            count = server.recv_into(buffer)
            if not count:
                break
            received += count
        sender.get(timeout=10)
        assert received == total
    finally:
        client.close()
        server.close()


def test_sendall_accepts_any_buffer():
    import array

    a, b = socket.socketpair()
    try:
        a.sendall(array.array("i", [1, 2, 3]))
        a.sendall(memoryview(b"abcdef")[2:])
        assert b.recv(100, socket.MSG_WAITALL if False else 0)
    finally:
        a.close()
        b.close()


def test_connect_refused_and_connect_ex():
    listener = tcp_listener()
    address = listener.getsockname()
    listener.close()
    with socket.socket() as sock:
        sock.settimeout(5)
        with pytest.raises(ConnectionRefusedError):
            sock.connect(address)
    with socket.socket() as sock:
        assert sock.connect_ex(address) == errno.ECONNREFUSED
    listener = tcp_listener()
    try:
        with socket.socket() as sock:
            assert sock.connect_ex(listener.getsockname()) == 0
    finally:
        listener.close()


def test_connect_resolves_host_names():
    ensure_threadpool()
    listener = tcp_listener()
    try:
        with socket.socket() as sock:
            sock.settimeout(5)
            sock.connect(("localhost", listener.getsockname()[1]))
            conn, _ = listener.accept()
            conn.close()
    finally:
        listener.close()


def test_close_wakes_waiting_greenlet_with_ebadf():
    a, b = socket.socketpair()
    fd = b.fileno()
    started = Event()

    def reader():
        started.set()
        return b.recv(10)

    glet = gevent.spawn(reader)
    started.wait(timeout=5)
    gevent.sleep(0)
    b.close()
    glet.join(timeout=5)
    assert isinstance(glet.exception, OSError)
    assert glet.exception.errno == errno.EBADF
    assert isinstance(glet.exception, socket.cancel_wait_ex)
    # The loop forgot the fd before it was closed, so a reused number starts clean.
    state = get_hub().loop._fds.get(fd)
    assert state is None or not state.watchers
    a.close()


def test_two_readers_on_one_socket_is_an_error():
    a, b = socket.socketpair()
    try:
        first = gevent.spawn(b.recv, 1)
        gevent.sleep(0)
        with pytest.raises(ConcurrentObjectUseError):
            b.recv(1)
        a.sendall(b"x")
        assert first.get(timeout=5) == b"x"
    finally:
        a.close()
        b.close()


def test_killed_reader_leaves_nothing_registered():
    a, b = socket.socketpair()
    try:
        glet = gevent.spawn(b.recv, 1)
        gevent.sleep(0)
        glet.kill(timeout=5)
        # Nothing is left parked: another greenlet may wait for the same direction.
        a.sendall(b"y")
        assert b.recv(1) == b"y"
    finally:
        a.close()
        b.close()


def test_udp_sendto_recvfrom():
    server = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    client = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        server.bind(("127.0.0.1", 0))
        server.settimeout(5)
        reply = gevent.spawn(server.recvfrom, 100)
        gevent.sleep(0)
        client.sendto(b"ping", server.getsockname())
        data, address = reply.get(timeout=5)
        assert data == b"ping" and address[1] == client.getsockname()[1]
        server.sendto(b"pong", address)
        buffer = bytearray(10)
        count, _ = client.recvfrom_into(buffer)
        assert buffer[:count] == b"pong"
    finally:
        server.close()
        client.close()


def test_unix_stream_socket():
    with tempfile.TemporaryDirectory() as directory:
        path = os.path.join(directory, "sock")
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            listener.bind(path)
            listener.listen()
            acceptor = gevent.spawn(listener.accept)
            client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            client.settimeout(5)
            client.connect(path)
            conn, _ = acceptor.get(timeout=5)
            client.sendall(b"over unix")
            assert conn.recv(100) == b"over unix"
            conn.close()
            client.close()
        finally:
            listener.close()


def test_send_and_receive_file_descriptors():
    a, b = socket.socketpair()
    r, w = os.pipe()
    try:
        receiver = gevent.spawn(socket.recv_fds, b, 10, 1)
        gevent.sleep(0)
        socket.send_fds(a, [b"fd"], [w])
        data, fds, _flags, _addr = receiver.get(timeout=5)
        assert data == b"fd" and len(fds) == 1
        os.write(fds[0], b"!")
        assert os.read(r, 1) == b"!"
        os.close(fds[0])
    finally:
        os.close(r)
        os.close(w)
        a.close()
        b.close()


@pytest.mark.parametrize("mode,buffering", [("rb", -1), ("rb", 0), ("r", -1), ("rwb", -1)])
def test_makefile(mode, buffering):
    a, b = socket.socketpair()
    try:
        reader = b.makefile(mode, buffering=buffering)
        writer = a.makefile("wb")
        glet = gevent.spawn(reader.readline)
        gevent.sleep(0)
        writer.write(b"line one\nline two\n")
        writer.flush()
        line = glet.get(timeout=5)
        assert line in (b"line one\n", "line one\n")
        reader.close()
        writer.close()
    finally:
        a.close()
        b.close()


def test_makefile_timeout():
    a, b = socket.socketpair()
    try:
        b.settimeout(0.05)
        reader = b.makefile("rb")
        with pytest.raises(socket.timeout):
            reader.read(1)
        reader.close()
    finally:
        a.close()
        b.close()


def test_sendfile():
    client, server = tcp_pair()
    payload = os.urandom(300_000)
    try:
        with tempfile.TemporaryFile() as f:
            f.write(payload)
            f.seek(0)
            sender = gevent.spawn(client.sendfile, f)
            received = bytearray()
            while len(received) < len(payload):
                received += server.recv(65536)
            assert sender.get(timeout=5) == len(payload)
            assert bytes(received) == payload
            # A non-file object goes through send().
            sender = gevent.spawn(client.sendfile, io.BytesIO(b"abc"))
            assert sender.get(timeout=5) == 3
            assert server.recv(3) == b"abc"
    finally:
        client.close()
        server.close()


def test_dup_detach_fromfd_and_fileno_constructor():
    a, b = socket.socketpair()
    try:
        a.settimeout(1.5)
        c = a.dup()
        assert isinstance(c, socket.socket) and c.gettimeout() == 1.5
        d = socket.fromfd(b.fileno(), socket.AF_UNIX, socket.SOCK_STREAM)
        c.sendall(b"dup")
        assert d.recv(3) == b"dup"
        fd = d.detach()
        assert d.fileno() == -1
        # gunicorn builds its sockets like this.
        e = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM, fileno=fd)
        c.sendall(b"again")
        assert e.recv(5) == b"again"
        c.close()
        e.close()
    finally:
        a.close()
        b.close()


def test_subclass_with_fileno():
    class MySocket(socket.socket):
        pass

    raw = stdsocket.socket()
    sock = MySocket(fileno=raw.detach())
    try:
        assert sock.family == socket.AF_INET
        assert sock.gettimeout() is None
        sock.extra = 1
    finally:
        sock.close()


def test_create_connection_tries_every_address():
    listener = tcp_listener()
    dead = tcp_listener()
    dead_address = dead.getsockname()
    dead.close()
    port = listener.getsockname()[1]
    hub = get_hub()

    class TwoAddresses:
        def getaddrinfo(self, host, port_, family=0, type=0, proto=0, flags=0):
            return [
                (socket.AF_INET, socket.SOCK_STREAM, 6, "", dead_address),
                (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port)),
            ]

    old = hub._resolver
    hub.resolver = TwoAddresses()
    try:
        sock = socket.create_connection(("two.example", port), timeout=5)
        assert sock.getpeername() == ("127.0.0.1", port)
        assert sock.gettimeout() == 5
        sock.close()
        hub.resolver = type("Dead", (), {"getaddrinfo": lambda *a: [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", dead_address)]})()
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("dead.example", 1))
        if sys.version_info >= (3, 11):
            with pytest.raises(ExceptionGroup):  # noqa: F821
                socket.create_connection(("dead.example", 1), all_errors=True)
    finally:
        hub.resolver = old
        listener.close()


def test_create_connection_source_address_and_timeout():
    listener = tcp_listener()
    try:
        sock = socket.create_connection(listener.getsockname(), 2, ("127.0.0.1", 0))
        assert sock.getsockname()[0] == "127.0.0.1"
        assert sock.gettimeout() == 2
        sock.close()
    finally:
        listener.close()


def test_create_server():
    server = socket.create_server(("127.0.0.1", 0))
    try:
        assert isinstance(server, socket.socket)
        client = socket.create_connection(server.getsockname())
        conn, _ = server.accept()
        conn.close()
        client.close()
    finally:
        server.close()


def test_wait_read_write_on_pipe():
    r, w = os.pipe()
    try:
        with pytest.raises(socket.timeout):
            socket.wait_read(r, timeout=0.05)
        socket.wait_write(w, timeout=1)
        socket.wait_readwrite(w, timeout=1)
        gevent.spawn_later(0.01, os.write, w, b"x")
        socket.wait_read(r, timeout=5)
        assert os.read(r, 1) == b"x"

        class Boom(Exception):
            pass

        with pytest.raises(Boom):
            socket.wait_read(r, timeout=0.01, timeout_exc=Boom("late"))
    finally:
        os.close(r)
        os.close(w)


def test_wait_and_cancel_wait():
    r, w = os.pipe()
    try:
        watcher = get_hub().loop.io(r, 1)
        glet = gevent.spawn(socket.wait, watcher)
        gevent.sleep(0)
        socket.cancel_wait(watcher)
        glet.join(timeout=5)
        assert isinstance(glet.exception, socket.cancel_wait_ex)
        assert glet.exception.errno == errno.EBADF
        watcher.close()
    finally:
        os.close(r)
        os.close(w)


def test_declarations():
    for name in socket.__implements__ + socket.__imports__:
        assert hasattr(stdsocket, name), name
    for name in socket.__all__:
        assert hasattr(socket, name), name
    assert socket.SocketType is socket.socket  # gevent's class, as in gevent
    assert issubclass(socket.SocketType, stdsocket.SocketType)
    assert socket.AF_INET == stdsocket.AF_INET


def test_thousand_concurrent_connections():
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < 2200:
        if hard != resource.RLIM_INFINITY and hard < 2200:
            pytest.skip("needs 2200 file descriptors")
        resource.setrlimit(resource.RLIMIT_NOFILE, (2200, hard))
    count = 1000
    listener = tcp_listener()
    listener.listen(count)
    connections = []
    all_connected = Event()

    def serve():
        while len(connections) < count:
            conn, _ = listener.accept()
            connections.append(conn)
            gevent.spawn(echo, conn)
        all_connected.set()

    def echo(conn):
        data = conn.recv(100)
        conn.sendall(data.upper())

    def client(number):
        sock = socket.create_connection(listener.getsockname(), timeout=30)
        try:
            sock.sendall(b"hi %d" % number)
            return sock.recv(100)
        finally:
            sock.close()

    server = gevent.spawn(serve)
    try:
        clients = [gevent.spawn(client, n) for n in range(count)]
        gevent.joinall(clients, timeout=50, raise_error=True)
        assert [c.value for c in clients] == [b"HI %d" % n for n in range(count)]
        assert all_connected.wait(timeout=10)
    finally:
        server.kill()
        for conn in connections:
            conn.close()
        listener.close()


def test_msg_dontwait_and_sock_nonblock_never_wait():
    a, b = socket.socketpair()
    try:
        with pytest.raises(BlockingIOError):
            b.recv(10, socket.MSG_DONTWAIT)
        with pytest.raises(BlockingIOError):
            b.recv_into(bytearray(4), 4, socket.MSG_DONTWAIT)
        with pytest.raises(BlockingIOError):
            while True:
                a.send(b"x" * 65536, socket.MSG_DONTWAIT)
    finally:
        a.close()
        b.close()
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM | socket.SOCK_NONBLOCK) as sock:
        assert sock.gettimeout() == 0.0 and sock.type == socket.SOCK_STREAM


def test_setblocking_reports_an_invalid_fd():
    sock0 = socket.socket()
    sock = socket.socket(fileno=sock0.fileno())
    sock0.close()
    try:
        with pytest.raises(OSError):
            sock.setblocking(False)
    finally:
        sock.detach()


def test_getnameinfo_type_error_keeps_no_reference():
    name = "not a tuple"
    before = sys.getrefcount(name)
    try:
        socket.getnameinfo(name, 0)
    except TypeError:
        assert sys.getrefcount(name) == before
    else:
        raise AssertionError("TypeError not raised")


def test_signal_handler_error_reaches_the_blocked_call_and_the_hub_survives(capsys):
    import signal

    class Alarm(Exception):
        pass

    def handler(*args):
        raise Alarm

    a, b = socket.socketpair()
    old = signal.signal(signal.SIGALRM, handler)
    try:
        b.settimeout(5)
        signal.setitimer(signal.ITIMER_REAL, 0.05)
        with pytest.raises(Alarm):
            b.recv(1)
        signal.setitimer(signal.ITIMER_REAL, 0)
        b.settimeout(0.05)
        with pytest.raises(socket.timeout):
            b.recv(1)
        assert not get_hub().dead
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
        a.close()
        b.close()


def test_close_from_another_thread_wakes_the_waiter():
    import threading

    a, b = socket.socketpair()
    glet = gevent.spawn(b.recv, 1)
    gevent.sleep(0)
    closer = threading.Thread(target=b.close)
    closer.start()
    glet.join(timeout=5)
    closer.join(timeout=5)
    assert isinstance(glet.exception, OSError) and glet.exception.errno == errno.EBADF
    a.close()


# -- address checks before any lookup ----------------------------------------------------------

@pytest.mark.parametrize("blocking", [True, False])
def test_connect_with_a_host_name_checks_the_port_before_resolving(blocking):
    # As the standard call (and gevent): a resolver would wrap 65539 round to port 3.
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.setblocking(blocking)
        with pytest.raises(OverflowError, match=r"connect_ex\(\): port must be 0-65535"):
            s.connect_ex(("localhost", 65539))
        with pytest.raises(OverflowError, match=r"connect\(\): port must be 0-65535"):
            s.connect(("localhost", -1))
        with pytest.raises(TypeError):
            s.connect(("localhost", "80"))
    finally:
        s.close()


def test_ipv6_literal_with_scope_needs_no_resolution():
    from gevent import _socketcommon

    class Sock:
        family = socket.AF_INET6
        type = socket.SOCK_STREAM
        proto = 0

    addr = ("2607:f8b0:4000:80e::200e", 80, 0, 9)
    assert _socketcommon._resolve_addr(Sock, addr) is addr


def test_wait_times_out_even_if_the_watcher_switches_while_starting():
    # gevent.socket.wait() takes any object with start()/stop(); one whose start() switches
    # (gevent #635) must still time out.
    class SlowWatcher:
        callback = None

        def start(self, *args):
            gevent.sleep(10)

        def stop(self):
            pass

    start = time.monotonic()
    with pytest.raises(socket.timeout):
        socket.wait(SlowWatcher(), timeout=0.05)
    assert time.monotonic() - start < 5
    with pytest.raises(KeyError):
        socket.wait(SlowWatcher(), timeout=0.05, timeout_exc=KeyError)


def test_ref_false_lets_the_loop_end_under_a_wait():
    # As gevent: socket.ref (default True) is the ref of its watchers. In a thread of its
    # own, so that nothing else keeps that hub's loop alive.
    import threading

    outcome = []

    def run():
        a, b = socket.socketpair()
        try:
            assert a.ref
            a.ref = False
            assert not a.ref and not a._read_event.ref and not a._write_event.ref
            try:
                a.recv(1)
            except gevent.hub.LoopExit:
                outcome.append("LoopExit")
            a.ref = True
            assert a._read_event.ref
            gevent.spawn_later(0.05, b.send, b"x")
            outcome.append(a.recv(1))
        finally:
            a.close()
            b.close()
            get_hub().destroy(destroy_loop=True)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(10)
    assert outcome == ["LoopExit", b"x"]


def test_send_takes_gevent_timeout_argument():
    a, b = socket.socketpair()
    try:
        a.setblocking(False)
        with pytest.raises(socket.timeout):
            while True:  # fill the buffer; then the explicit timeout makes send wait
                a.send(b"x" * 65536, timeout=0.05)
        with pytest.raises(BlockingIOError):
            a.send(b"x", timeout=0.0)
        a.close()
        with pytest.raises(OSError) as caught:
            a.send(b"x", timeout=1)
        assert caught.value.errno == errno.EBADF
    finally:
        a.close()
        b.close()


# -- the fast wait (greenlets parked in the loop's per-fd slots) -------------------------------

def test_sendall_of_a_buffer_without_len():
    # gevent #466: a ctypes structure is a buffer but has no len().
    import ctypes

    class Pair(ctypes.Structure):
        _fields_ = [("x", ctypes.c_int), ("y", ctypes.c_int)]

    a, b = socket.socketpair()
    try:
        a.sendall(Pair(1, 2))
        assert len(b.recv(64)) == ctypes.sizeof(Pair)
    finally:
        a.close()
        b.close()


def test_a_socket_collected_without_close_leaves_no_stale_registration():
    import gc
    import warnings

    a, b = socket.socketpair()
    fd = b.fileno()
    gevent.get_hub().loop.run_callback(a.send, b"1")
    assert b.recv(1) == b"1"  # b's fd is now registered with the loop
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        del b
        gc.collect()  # closed by the collector: the kernel dropped the registration
    c, d = socket.socketpair()
    try:
        reused = d if d.fileno() == fd else c if c.fileno() == fd else None
        peer = c if reused is d else d
        assert reused is not None, "the number was not reused; the test needs it"
        reused.settimeout(5)
        gevent.get_hub().loop.run_callback(peer.send, b"2")
        assert reused.recv(1) == b"2"  # registered again, not waiting forever
    finally:
        a.close()
        c.close()
        d.close()


def test_detach_wakes_the_waiter_with_cancel_wait_ex():
    a, b = socket.socketpair()
    glet = gevent.spawn(b.recv, 1)
    gevent.sleep(0)
    fd = b.detach()
    try:
        glet.join(timeout=5)
        assert isinstance(glet.exception, socket.cancel_wait_ex)
    finally:
        os.close(fd)
        a.close()


def test_closing_the_fd_under_a_waiter_wakes_it():
    a, b = socket.socketpair()
    glet = gevent.spawn(b.recv, 1)
    gevent.sleep(0)
    socket.close(b.fileno())  # the number, closed behind b's back
    glet.join(timeout=5)
    assert glet.dead and isinstance(glet.exception, OSError)
    b.detach()
    a.close()


def test_a_wait_that_timed_out_frees_the_slot_and_a_write_wait_coexists():
    a, b = socket.socketpair()
    try:
        b.settimeout(0.01)
        with pytest.raises(TimeoutError):
            b.recv(1)
        b.settimeout(5)
        reader = gevent.spawn(b.recv, 1)
        gevent.sleep(0)
        # Fill b's send buffer so a writer parks too, on the same fd.
        b.setsockopt(stdsocket.SOL_SOCKET, stdsocket.SO_SNDBUF, 4096)
        writer = gevent.spawn(b.sendall, b"w" * 1_000_000)
        gevent.sleep(0)
        a.send(b"r")
        assert reader.get(timeout=5) == b"r"
        received = 0
        while received < 1_000_000:
            received += len(a.recv(1 << 16))
        writer.get(timeout=5)
    finally:
        a.close()
        b.close()


def test_a_greenlet_waiting_on_a_socket_is_described():
    a, b = socket.socketpair()
    try:
        glet = gevent.spawn(b.recv, 1)
        gevent.sleep(0)
        lines = get_hub().loop.describe_watchers()
        assert any(str(b.fileno()) in line and "read" in line for line in lines), lines
        a.send(b"x")
        assert glet.get(timeout=5) == b"x"
    finally:
        a.close()
        b.close()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_greenlet_parked_on_a_socket_across_fork_still_wakes_in_the_child():
    a, b = socket.socketpair()
    report_r, report_w = os.pipe()
    try:
        glet = gevent.spawn(b.recv, 1)
        gevent.sleep(0)
        pid = os.fork()
        if pid == 0:  # pragma: no cover - runs in the child
            try:
                a.send(b"c")
                os.write(report_w, glet.get(timeout=5))
            finally:
                os._exit(0)
        os.waitpid(pid, 0)
        assert os.read(report_r, 1) == b"c"
        a.send(b"p")
        assert glet.get(timeout=5) == b"p"
    finally:
        os.close(report_r)
        os.close(report_w)
        a.close()
        b.close()
