"""gevent.os: descriptor I/O on real pipes, fork/waitpid on real children.

Forking happens in a fresh interpreter running a script, so the test process (with its pytest
threads) is never forked itself.
"""

from __future__ import annotations

import errno
import os
import subprocess as stdlib_subprocess
import sys
import textwrap

import pytest

import gevent
import gevent.os as gos

SRC = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "src")


def _run_script(body: str, timeout: float = 30, env: dict | None = None) -> str:
    environ = dict(os.environ)
    environ["PYTHONPATH"] = os.pathsep.join(filter(None, [SRC, os.environ.get("PYTHONPATH")]))
    environ.update(env or {})
    result = stdlib_subprocess.run([sys.executable, "-c", textwrap.dedent(body)],
                                   capture_output=True, text=True, timeout=timeout,
                                   env=environ)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


@pytest.fixture
def nonblocking_pipe():
    r, w = os.pipe()
    os.set_blocking(r, False)
    os.set_blocking(w, False)
    fds = [r, w]
    yield fds
    for fd in fds:
        try:
            os.close(fd)
        except OSError:
            pass  # closed by the test


def _have_threadpool() -> bool:
    try:
        import gevent.threadpool  # noqa: F401
    except ImportError:
        return False
    return True


# -- descriptor I/O ----------------------------------------------------------------------------

def test_make_nonblocking():
    r, w = os.pipe()
    try:
        assert gos.make_nonblocking(r) is True
        assert not os.get_blocking(r)
        assert gos.make_nonblocking(r) is None
    finally:
        os.close(r)
        os.close(w)


def test_nb_read_waits_cooperatively(nonblocking_pipe):
    r, w = nonblocking_pipe
    log = []

    def writer():
        log.append("writer")
        gevent.sleep(0.05)
        gos.nb_write(w, b"hello")

    g = gevent.spawn(writer)
    with gevent.Timeout(5):
        data = gos.nb_read(r, 100)
    log.append("read")
    g.join(5)
    assert data == b"hello"
    assert log == ["writer", "read"]


def test_nb_write_waits_for_room(nonblocking_pipe):
    r, w = nonblocking_pipe
    payload = b"x" * (1 << 20)
    received = []

    def reader():
        total = 0
        while total < len(payload):
            chunk = gos.nb_read(r, 65536)
            total += len(chunk)
        received.append(total)

    g = gevent.spawn(reader)
    sent = 0
    with gevent.Timeout(10):
        while sent < len(payload):
            sent += gos.nb_write(w, payload[sent:])
    g.join(10)
    assert received == [len(payload)]


def test_nb_read_eof(nonblocking_pipe):
    r, w = nonblocking_pipe
    os.close(w)
    nonblocking_pipe.remove(w)
    assert gos.nb_read(r, 10) == b""


def test_nb_read_timeout(nonblocking_pipe):
    with pytest.raises(gevent.Timeout):
        with gevent.Timeout(0.05):
            gos.nb_read(nonblocking_pipe[0], 1)
    # Nothing stays registered for the descriptor's watcher: a later read works.
    os.write(nonblocking_pipe[1], b"!")
    assert gos.nb_read(nonblocking_pipe[0], 1) == b"!"


def test_close_wakes_greenlet_parked_on_the_fd(nonblocking_pipe):
    r, w = nonblocking_pipe
    errors = []

    def reader():
        try:
            gos.nb_read(r, 1)
        except OSError as exc:
            errors.append(exc.errno)

    g = gevent.spawn(reader)
    gevent.sleep(0.01)
    gos.close(r)
    nonblocking_pipe.remove(r)
    g.join(5)
    assert errors == [errno.EBADF]
    gevent.sleep(0)
    with pytest.raises(OSError):
        os.fstat(r)


def test_close_plain_fd():
    r, w = os.pipe()
    gos.close(r)
    gos.close(w)
    with pytest.raises(OSError):
        gos.close(w)


@pytest.mark.skipif(not _have_threadpool(), reason="gevent.threadpool has not landed yet")
def test_tp_read_and_write():
    r, w = os.pipe()
    try:
        assert gos.tp_write(w, b"pool") == 4
        assert gos.tp_read(r, 10) == b"pool"
    finally:
        os.close(r)
        os.close(w)


def test_os_names_are_reexported():
    assert gos.getpid is os.getpid
    assert gos.path is os.path
    assert gos.WNOHANG == os.WNOHANG
    for name in gos.__imports__:
        assert getattr(gos, name) is getattr(os, name), name


# -- children ----------------------------------------------------------------------------------

def test_waitpid_unwatched_child_is_cooperative():
    ticks = []

    def ticker():
        while True:
            ticks.append(1)
            gevent.sleep(0.01)

    t = gevent.spawn(ticker)
    child = stdlib_subprocess.Popen([sys.executable, "-c", "import time; time.sleep(0.3)"])
    pid, status = gos.waitpid(child.pid, 0)
    t.kill()
    child.returncode = os.waitstatus_to_exitcode(status)  # we reaped it for the Popen
    assert pid == child.pid
    assert os.waitstatus_to_exitcode(status) == 0
    assert len(ticks) >= 10


def test_waitpid_nohang_and_errors():
    child = stdlib_subprocess.Popen(["sleep", "0.2"])
    assert gos.waitpid(child.pid, os.WNOHANG) == (0, 0)
    pid, status = gos.waitpid(child.pid, 0)
    child.returncode = 0
    assert os.waitstatus_to_exitcode(status) == 0
    with pytest.raises(ChildProcessError):
        gos.waitpid(child.pid, 0)


def test_posix_spawn_is_watched():
    pid = gos.posix_spawn("/bin/sh", ["sh", "-c", "exit 6"], os.environ)
    assert pid in gos._watched
    with gevent.Timeout(10):
        rpid, status = gos.waitpid(pid, 0)
    assert (rpid, os.waitstatus_to_exitcode(status)) == (pid, 6)
    assert pid not in gos._watched
    pid = gos.posix_spawnp("sh", ["sh", "-c", "exit 2"], os.environ)
    with gevent.Timeout(10):
        assert os.waitstatus_to_exitcode(gos.waitpid(-1, 0)[1]) == 2


def test_fork_from_greenlet_and_waitpid():
    out = _run_script("""
        import os, time, gevent, gevent.os as gos
        def child_work(code):
            pid = gos.fork()
            if pid == 0:
                try:
                    gevent.sleep(0.05)   # the child has a working hub of its own
                    os._exit(code)
                finally:
                    os._exit(99)
            return pid
        start = time.monotonic()
        forks = [gevent.spawn(child_work, code) for code in (3, 4, 5)]
        gevent.joinall(forks, timeout=10)
        pids = [g.value for g in forks]
        waits = [gevent.spawn(gos.waitpid, pid, 0) for pid in pids]
        ticks = []
        def ticker():
            while True:
                ticks.append(1); gevent.sleep(0.01)
        t = gevent.spawn(ticker)
        gevent.joinall(waits, timeout=10)
        t.kill()
        codes = [os.waitstatus_to_exitcode(g.value[1]) for g in waits]
        assert [g.value[0] for g in waits] == pids, (waits, pids)
        print(codes, len(ticks) > 0, time.monotonic() - start < 5)
    """)
    assert out.strip() == "[3, 4, 5] True True"


def test_fork_and_watch_callback_and_waitpid_any():
    out = _run_script("""
        import os, gevent, gevent.os as gos
        seen = []
        pid = gos.fork_and_watch(lambda w: seen.append((w.pid, w.rstatus)))
        if pid == 0:
            os._exit(9)
        rpid, status = gos.waitpid(-1, 0)
        gevent.sleep(0)
        assert rpid == pid and os.waitstatus_to_exitcode(status) == 9, (rpid, status)
        assert seen == [(pid, status)], seen
        # A child nobody waits for keeps its status for a later waitpid.
        pid2 = gos.fork()
        if pid2 == 0:
            os._exit(1)
        gevent.sleep(0.3)
        assert gos.waitpid(pid2, os.WNOHANG)[0] == pid2
        try:
            gos.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            print("no children left")
    """)
    assert out.strip() == "no children left"


def test_fork_child_gets_a_fresh_loop_and_parent_unaffected():
    out = _run_script("""
        import os, gevent, gevent.os as gos
        from gevent.hub import get_hub
        hub = get_hub()
        loop_before = hub.loop
        r, w = os.pipe()
        pid = gos.fork()
        if pid == 0:
            try:
                # Timers and I/O run in the child's loop.
                gevent.sleep(0.01)
                g = gevent.spawn(lambda: 42)
                os.write(w, str(g.get(timeout=5)).encode())
            finally:
                os._exit(0)
        os.close(w)
        gos.make_nonblocking(r)
        data = gos.nb_read(r, 10)
        gos.waitpid(pid, 0)
        print(data.decode(), get_hub().loop is loop_before)
    """)
    assert out.strip() == "42 True"


def test_forkpty():
    out = _run_script("""
        import os, gevent.os as gos
        pid, master = gos.forkpty()
        if pid == 0:
            os.write(1, b"in-pty")
            os._exit(0)
        gos.make_nonblocking(master)
        data = b""
        while b"in-pty" not in data:
            try:
                chunk = gos.nb_read(master, 100)
            except OSError:
                break
            if not chunk:
                break
            data += chunk
        print(os.waitstatus_to_exitcode(gos.waitpid(pid, 0)[1]), b"in-pty" in data)
    """)
    assert out.strip() == "0 True"


def test_gevent_nowaitpid_disables_watching():
    out = _run_script("""
        import os, gevent.os as gos
        pid = gos.fork()
        if pid == 0:
            os._exit(2)
        print(pid in gos._watched, os.waitstatus_to_exitcode(gos.waitpid(pid, 0)[1]))
    """, env={"GEVENT_NOWAITPID": "1"})
    assert out.strip() == "False 2"


def test_gevent_fork_alias():
    out = _run_script("""
        import os, gevent, gevent.os as gos
        pid = gevent.fork()
        if pid == 0:
            os._exit(0)
        print(pid in gos._watched, gos.waitpid(pid, 0)[0] == pid)
    """)
    assert out.strip() == "True True"


def test_waitpid_any_without_watched_children_polls():
    out = _run_script("""
        import subprocess, sys, time, gevent, gevent.os as gos
        child = subprocess.Popen(["sleep", "0.1"])
        ticks = []
        def ticker():
            while True:
                ticks.append(1); gevent.sleep(0.01)
        t = gevent.spawn(ticker)
        with gevent.Timeout(10):
            pid, status = gos.waitpid(-1, 0)
        t.kill()
        child.returncode = 0
        print(pid == child.pid, len(ticks) >= 5)
    """)
    assert out.strip() == "True True"


def test_reap_children_forgets_statuses_older_than_its_argument():
    # gevent.os._reap_children(timeout) is what gevent's own tests call to drop the kept
    # statuses; with 0 every exited child is forgotten, and waitpid then finds no child.
    out = _run_script("""
        import os, gevent, gevent.os as gos
        import gevent.event
        exited = gevent.event.Event()
        pid = gos.fork_and_watch(lambda w: exited.set())
        if pid == 0:
            os._exit(0)
        assert exited.wait(10)
        gos._reap_children(60)
        assert gos.waitpid(pid, os.WNOHANG)[0] == pid  # recent: still kept
        exited.clear()
        pid = gos.fork_and_watch(lambda w: exited.set())
        if pid == 0:
            os._exit(0)
        assert exited.wait(10)
        gos._reap_children(0)
        try:
            gos.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            print("forgotten")
    """)
    assert out.strip() == "forgotten"
