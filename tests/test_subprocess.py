"""gevent.subprocess against real child processes."""

from __future__ import annotations

import errno
import gc
import inspect
import io
import os
import shutil
import signal
import subprocess as stdlib_subprocess
import sys
import threading
import time

import pytest

import gevent
import gevent.event
import gevent.os
from gevent import subprocess
from gevent.subprocess import PIPE, STDOUT, Popen, TimeoutExpired

PY = sys.executable


def _ticker(ticks: list, interval: float = 0.01):
    def run():
        while True:
            ticks.append(time.monotonic())
            gevent.sleep(interval)
    return gevent.spawn(run)


# -- the API surface ---------------------------------------------------------------------------

def test_popen_accepts_every_stdlib_argument():
    ours = inspect.signature(Popen).parameters
    theirs = inspect.signature(stdlib_subprocess.Popen).parameters
    missing = [name for name in theirs if name not in ours]
    assert not missing
    for name, param in theirs.items():
        assert ours[name].kind == param.kind, name
        assert ours[name].default == param.default, name
    assert "threadpool" in ours


def test_popen_is_a_stdlib_popen():
    assert issubclass(Popen, stdlib_subprocess.Popen)
    assert Popen[bytes] is not None  # generic alias, as the stdlib class


def test_reexported_names_are_the_stdlib_objects():
    for name in subprocess.__imports__:
        assert getattr(subprocess, name) is getattr(stdlib_subprocess, name), name


# -- concurrency -------------------------------------------------------------------------------

def test_ten_children_sleep_in_parallel():
    start = time.monotonic()
    glets = [gevent.spawn(subprocess.call, ["sleep", "0.5"]) for _ in range(10)]
    gevent.joinall(glets, timeout=10)
    elapsed = time.monotonic() - start
    assert [g.value for g in glets] == [0] * 10
    assert 0.45 < elapsed < 2.0, elapsed


def test_wait_lets_other_greenlets_run():
    ticks: list = []
    ticker = _ticker(ticks)
    p = Popen(["sleep", "0.3"])
    assert p.wait(timeout=10) == 0
    ticker.kill()
    assert len(ticks) >= 10


def test_pipe_reads_let_other_greenlets_run():
    ticks: list = []
    ticker = _ticker(ticks)
    with Popen([PY, "-c", "import time; time.sleep(0.3); print('late')"], stdout=PIPE) as p:
        with gevent.Timeout(10):
            assert p.stdout.readline() == b"late\n"
    ticker.kill()
    assert len(ticks) >= 10


# -- wait / poll -------------------------------------------------------------------------------

def test_wait_timeout_then_kill():
    p = Popen(["sleep", "10"])
    assert p.poll() is None
    start = time.monotonic()
    with pytest.raises(TimeoutExpired) as info:
        p.wait(timeout=0.1)
    assert time.monotonic() - start < 2
    assert info.value.timeout == 0.1
    assert info.value.cmd == ["sleep", "10"]
    p.kill()
    assert p.wait(timeout=10) == -signal.SIGKILL
    assert p.poll() == -signal.SIGKILL


def test_exit_codes_and_poll():
    p = Popen([PY, "-c", "import sys; sys.exit(7)"])
    assert p.wait(timeout=10) == 7
    assert p.returncode == 7
    p = Popen(["true"])
    deadline = time.monotonic() + 10
    while p.poll() is None and time.monotonic() < deadline:
        gevent.sleep(0.01)
    assert p.returncode == 0


def test_poll_without_yielding_reaps():
    p = Popen(["true"])
    deadline = time.monotonic() + 10
    while p.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)  # the hub never runs: poll() itself must reap
    assert p.returncode == 0
    gevent.sleep(0.05)  # the watcher fires (or was stopped) without disturbing the result
    assert p.returncode == 0


def test_terminate_and_send_signal():
    p = Popen(["sleep", "10"])
    p.send_signal(signal.SIGTERM)
    assert p.wait(timeout=10) == -signal.SIGTERM
    p.terminate()  # already dead: nothing happens
    q = Popen(["sleep", "10"])
    q.terminate()
    assert q.wait(timeout=10) == -signal.SIGTERM


def _in_thread(func):
    """Run *func* in a native thread that cleans up its own hub."""
    def run():
        try:
            func()
        finally:
            hub = gevent.get_hub()
            hub.destroy(destroy_loop=True)
    return threading.Thread(target=run)


def test_wait_from_another_thread():
    p = Popen(["sleep", "0.2"])
    result = []
    t = _in_thread(lambda: result.append(p.wait(timeout=10)))
    t.start()
    t.join(15)
    assert result == [0]
    assert p.returncode == 0


def test_run_from_a_native_thread():
    result = []
    t = _in_thread(lambda: result.append(
        subprocess.run(["echo", "thread"], stdout=PIPE, timeout=10).stdout))
    t.start()
    t.join(15)
    assert result == [b"thread\n"]


def test_rawlink_called_on_exit():
    p = Popen(["true"])
    seen = []
    p.rawlink(seen.append)
    p.wait(timeout=10)
    gevent.sleep(0)
    assert seen == [p]


def test_never_reaps_other_code_children():
    # A child started by the real subprocess module keeps its status for its own wait().
    theirs = stdlib_subprocess.Popen([PY, "-c", "import sys; sys.exit(3)"])
    ours = Popen(["sleep", "0.2"])
    assert ours.wait(timeout=10) == 0
    gevent.sleep(0.1)
    assert theirs.wait(timeout=10) == 3


def test_popen_collected_while_running():
    p = Popen(["sleep", "0.1"])
    pid = p.pid
    with pytest.warns(ResourceWarning):
        del p
        gc.collect()
    gevent.sleep(0.3)
    # The stdlib keeps it in _active until a later Popen's _cleanup() reaps it.
    Popen(["true"]).wait(timeout=10)
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


# -- pipes and communicate ---------------------------------------------------------------------

def test_communicate_binary_with_input():
    p = Popen(["cat"], stdin=PIPE, stdout=PIPE)
    assert p.communicate(b"data" * 10000, timeout=10) == (b"data" * 10000, None)
    assert p.returncode == 0


def test_communicate_text_mode_translates_newlines():
    p = Popen(["cat"], stdin=PIPE, stdout=PIPE, text=True)
    assert isinstance(p.stdin, io.TextIOWrapper)
    assert p.communicate("a\r\nb\rc\n", timeout=10) == ("a\nb\nc\n", None)


def test_communicate_stdout_and_stderr_large():
    code = ("import sys; sys.stdout.write('o' * 300000); sys.stderr.write('e' * 300000)")
    p = Popen([PY, "-c", code], stdout=PIPE, stderr=PIPE)
    out, err = p.communicate(timeout=20)
    assert (len(out), len(err)) == (300000, 300000)


def test_communicate_stderr_to_stdout():
    p = Popen(["sh", "-c", "echo out; echo err >&2"], stdout=PIPE, stderr=STDOUT)
    out, err = p.communicate(timeout=10)
    assert sorted(out.split()) == [b"err", b"out"]
    assert err is None


def test_communicate_timeout_then_resume():
    p = Popen(["sh", "-c", "echo first; sleep 0.5; echo second"], stdout=PIPE)
    with pytest.raises(TimeoutExpired) as info:
        p.communicate(timeout=0.2)
    assert info.value.output == b"first\n"
    assert p.communicate(timeout=10) == (b"first\nsecond\n", None)


def test_communicate_timeout_without_pipes():
    p = Popen(["sleep", "5"])
    with pytest.raises(TimeoutExpired):
        p.communicate(timeout=0.1)
    p.kill()
    assert p.communicate(timeout=10) == (None, None)


def test_communicate_input_after_start_refused():
    p = Popen(["cat"], stdin=PIPE, stdout=PIPE)
    p.communicate(b"x", timeout=10)
    with pytest.raises(ValueError):
        p.communicate(b"again")


def test_communicate_child_does_not_read_stdin():
    p = Popen(["true"], stdin=PIPE)
    assert p.communicate(b"x" * 1_000_000, timeout=10) == (None, None)


def test_stdin_write_and_close_then_read():
    with Popen(["cat"], stdin=PIPE, stdout=PIPE) as p:
        p.stdin.write(b"hello\n")
        p.stdin.close()
        with gevent.Timeout(10):
            assert p.stdout.read() == b"hello\n"
    assert p.returncode == 0
    assert p.stdout.closed


def test_unbuffered_pipes_are_raw():
    with Popen(["cat"], stdin=PIPE, stdout=PIPE, bufsize=0) as p:
        assert isinstance(p.stdin, io.RawIOBase)
        assert isinstance(p.stdout, io.RawIOBase)
        p.stdin.write(b"z")
        with gevent.Timeout(10):
            assert p.stdout.read(1) == b"z"
        p.stdin.close()


def test_line_buffered_text_stdin():
    with Popen(["cat"], stdin=PIPE, stdout=PIPE, text=True, bufsize=1) as p:
        assert p.stdin.line_buffering
        p.stdin.write("line\n")  # flushed by the newline, no explicit flush
        with gevent.Timeout(10):
            assert p.stdout.readline() == "line\n"
        p.stdin.close()


def test_encoding_and_errors():
    p = Popen([PY, "-c", "import sys; sys.stdout.buffer.write(b'\\xff-ok')"], stdout=PIPE,
              encoding="ascii", errors="replace")
    assert p.communicate(timeout=10)[0] == "\ufffd-ok"


def test_pipesize():
    fcntl = pytest.importorskip("fcntl")
    if not hasattr(fcntl, "F_GETPIPE_SZ"):
        pytest.skip("no F_GETPIPE_SZ")
    with Popen(["cat"], stdin=PIPE, stdout=PIPE, pipesize=65536 * 2) as p:
        assert fcntl.fcntl(p.stdin.fileno(), fcntl.F_GETPIPE_SZ) == 65536 * 2
        assert fcntl.fcntl(p.stdout.fileno(), fcntl.F_GETPIPE_SZ) == 65536 * 2
        p.communicate(timeout=10)


def test_env_cwd_and_pass_fds(tmp_path):
    r, w = os.pipe()
    try:
        code = f"import os; os.write({w}, os.getcwd().encode() + b'|' + os.environ['X'].encode())"
        p = Popen([PY, "-c", code], cwd=tmp_path, env=dict(os.environ, X="y"), pass_fds=[w])
        assert p.wait(timeout=10) == 0
        assert os.read(r, 1000) == str(tmp_path).encode() + b"|y"
    finally:
        os.close(r)
        os.close(w)


def test_missing_executable_closes_its_pipes():
    with pytest.raises(FileNotFoundError):
        Popen(["/nonexistent/program"], stdin=PIPE, stdout=PIPE, stderr=PIPE)


def test_bad_arguments_close_pipes():
    with pytest.raises(TypeError):
        Popen(["true"], stdout=PIPE, bufsize="x")


def test_shell_and_process_group():
    kwargs = {"process_group": 0} if sys.version_info >= (3, 11) else {"start_new_session": True}
    p = Popen("echo $0-ok", shell=True, stdout=PIPE, **kwargs)
    out, _ = p.communicate(timeout=10)
    assert out.endswith(b"-ok\n")


def test_context_manager_after_communicate_timeout():
    with Popen(["sh", "-c", "echo a; sleep 5"], stdout=PIPE) as p:
        with pytest.raises(TimeoutExpired):
            p.communicate(timeout=0.2)
        p.kill()
    assert p.returncode == -signal.SIGKILL
    assert p.stdout.closed


@pytest.mark.parametrize("text", [False, True])
def test_exit_closes_a_pipe_another_greenlet_is_reading(text):
    # That greenlet holds the buffered layer's lock: the standard __exit__ would fail with
    # "RuntimeError: reentrant call" (gevent too lets __exit__ through, and reaps the child).
    p = Popen(["sh", "-c", "sleep 5 & exec sleep 60"], stdout=PIPE, stderr=PIPE, text=text)

    def read():
        try:
            return p.stdout.read()
        except OSError as exc:
            return exc

    reader = gevent.spawn(read)
    gevent.sleep(0.1)
    assert not reader.dead
    p.kill()
    start = time.monotonic()
    p.__exit__(None, None, None)
    assert p.stdout.closed and p.stderr.closed
    assert p.returncode == -signal.SIGKILL
    result = reader.get(timeout=5)
    assert time.monotonic() - start < 2
    assert isinstance(result, OSError) and result.errno == errno.EBADF


def test_nonblocking_file_object_given_as_stdin_blocks_in_the_child():
    # gevent.subprocess.FileObject is gevent.fileobject.FileObject, as in gevent.
    from gevent.fileobject import FileObject

    assert subprocess.FileObject is FileObject
    r, w = os.pipe()
    stdin = subprocess.FileObject(r)
    try:
        with Popen([PY, "-c", "import os, sys; print(os.get_blocking(0)); sys.stdin.read()"],
                   stdin=stdin, stdout=PIPE) as p:
            assert p.stdout.readline() == b"True\n"
            assert p.poll() is None
            os.close(w)
            w = -1
            assert p.wait(timeout=10) == 0
    finally:
        stdin.close()
        if w != -1:
            os.close(w)


# -- the convenience functions -----------------------------------------------------------------

def test_run_capture_and_check():
    cp = subprocess.run(["sh", "-c", "echo out; echo err >&2; exit 3"], capture_output=True,
                        timeout=10)
    assert (cp.returncode, cp.stdout, cp.stderr) == (3, b"out\n", b"err\n")
    with pytest.raises(subprocess.CalledProcessError) as info:
        subprocess.run(["sh", "-c", "echo x; exit 2"], stdout=PIPE, check=True, timeout=10)
    assert info.value.returncode == 2
    assert info.value.output == b"x\n"


def test_run_input_text():
    cp = subprocess.run(["cat"], input="in", capture_output=True, text=True, timeout=10)
    assert cp.stdout == "in"


def test_run_timeout_kills_child():
    start = time.monotonic()
    with pytest.raises(TimeoutExpired) as info:
        subprocess.run([PY, "-c", "print('so far', flush=True); import time; time.sleep(10)"],
                       stdout=PIPE, timeout=1)
    assert time.monotonic() - start < 5
    assert info.value.output == b"so far\n"


def test_run_argument_conflicts():
    with pytest.raises(ValueError):
        subprocess.run(["true"], input=b"", stdin=PIPE)
    with pytest.raises(ValueError):
        subprocess.run(["true"], capture_output=True, stdout=PIPE)


def test_call_check_call_check_output():
    assert subprocess.call(["sh", "-c", "exit 4"], timeout=10) == 4
    assert subprocess.check_call(["true"], timeout=10) == 0
    with pytest.raises(subprocess.CalledProcessError) as info:
        subprocess.check_call(["false"])
    assert info.value.cmd == ["false"]
    assert subprocess.check_output(["echo", "hi"], timeout=10) == b"hi\n"
    assert subprocess.check_output(["cat"], input=None, timeout=10) == b""
    assert subprocess.check_output(["cat"], input="t", text=True, timeout=10) == "t"
    with pytest.raises(ValueError):
        subprocess.check_output(["true"], stdout=PIPE)
    with pytest.raises(TimeoutExpired):
        subprocess.call(["sleep", "5"], timeout=0.1)


def test_getoutput_and_getstatusoutput():
    assert subprocess.getstatusoutput("echo a; exit 2") == (2, "a")
    assert subprocess.getoutput("echo z") == "z"
    assert subprocess.getstatusoutput("echo b") == (0, "b")


def test_pipeline_hands_a_pipe_to_the_next_child():
    p1 = Popen([PY, "-c", "import time, sys; time.sleep(0.2); sys.stdout.write('x' * 100000)"],
               stdout=PIPE)
    p2 = Popen([PY, "-c", "import sys; print(len(sys.stdin.read()))"], stdin=p1.stdout,
               stdout=PIPE)
    p1.stdout.close()
    assert p2.communicate(timeout=20)[0] == b"100000\n"
    assert p1.wait(timeout=10) == 0


def test_status_stays_for_waitpid_until_the_popen_is_asked():
    # The exit is noticed by the loop (returncode set, as gevent does), and until the Popen is
    # polled or waited for, os.waitpid() can still collect the status.
    p = Popen(["true"])
    done = gevent.event.Event()
    p._exit.rawlink(lambda _: done.set())
    assert done.wait(timeout=10)
    assert p.returncode == 0
    pid, status = gevent.os.waitpid(p.pid, 0)
    assert (pid, os.waitstatus_to_exitcode(status)) == (p.pid, 0)
    assert p.poll() == 0


def test_status_consumed_by_popen_is_gone_for_waitpid():
    p = Popen(["true"])
    assert p.wait(timeout=10) == 0
    with pytest.raises(ChildProcessError):
        gevent.os.waitpid(p.pid, 0)


def test_child_spawned_through_patched_posix_spawn_has_one_watcher():
    # Under monkey patching the standard _execute_child may call gevent.os.posix_spawn (3.13
    # does whenever it can): the Popen's watcher alone must own the child.
    if not stdlib_subprocess._USE_POSIX_SPAWN:
        pytest.skip("posix_spawn is not used by this Python")
    original = os.posix_spawn
    os.posix_spawn = gevent.os.posix_spawn
    try:
        p = Popen([shutil.which("true")], close_fds=False)
    finally:
        os.posix_spawn = original
    assert p.pid not in gevent.os._watched
    assert p.wait(timeout=10) == 0
    with pytest.raises(ChildProcessError):
        gevent.os.waitpid(p.pid, 0)


def test_returncode_is_set_when_the_child_exits_without_poll():
    # gevent sets returncode as soon as its child watcher sees the exit: a program may wait
    # by watching the attribute alone.
    p = subprocess.Popen([sys.executable, "-c", "raise SystemExit(3)"])
    with gevent.Timeout(10):
        while p.returncode is None:
            gevent.sleep(0.01)
    assert (p.returncode, p.poll(), p.wait()) == (3, 3, 3)
