"""gevent.fileobject: cooperative file objects over real pipes, ttys and files."""

from __future__ import annotations

import errno
import io
import os
import subprocess
import sys
import textwrap
import warnings

import pytest

import gevent
from gevent.fileobject import FileObject, FileObjectBlock, FileObjectPosix, FileObjectThread


def _have_threadpool() -> bool:
    try:
        import gevent.threadpool  # noqa: F401
    except ImportError:
        return False
    return True


needs_threadpool = pytest.mark.skipif(not _have_threadpool(),
                                      reason="gevent.threadpool has not landed yet")


@pytest.fixture
def pipe():
    r, w = os.pipe()
    fds = [r, w]
    yield fds
    for fd in fds:
        try:
            os.close(fd)
        except OSError:
            pass  # closed by the test through its file object


def _adopt(fds, *objs):
    """The file objects now own the descriptors: the fixture must not close them again."""
    fds.clear()
    return objs


# -- FileObjectPosix ---------------------------------------------------------------------------

def test_default_fileobject_is_posix():
    assert FileObject is FileObjectPosix


def test_posix_binary_roundtrip_between_greenlets(pipe):
    r, w = pipe
    reader, writer = _adopt(pipe, FileObjectPosix(r, "rb"), FileObjectPosix(w, "wb"))
    log = []

    def produce():
        for i in range(3):
            writer.write(b"line%d\n" % i)
            writer.flush()
            log.append(f"wrote{i}")
            gevent.sleep(0.01)
        writer.close()

    g = gevent.spawn(produce)
    with gevent.Timeout(5):
        lines = list(reader)
    g.join(5)
    reader.close()
    assert lines == [b"line0\n", b"line1\n", b"line2\n"]
    assert log == ["wrote0", "wrote1", "wrote2"]


def test_posix_read_is_a_switch_point(pipe):
    r, w = pipe
    reader, = _adopt(pipe, FileObjectPosix(r, "rb", buffering=0))
    pipe.append(w)
    ticks = []

    def ticker():
        for i in range(5):
            ticks.append(i)
            gevent.sleep(0.01)
        os.write(w, b"done")

    g = gevent.spawn(ticker)
    with gevent.Timeout(5):
        data = reader.read(10)
    assert data == b"done"
    assert ticks == [0, 1, 2, 3, 4]
    g.join(5)
    reader.close()


def test_posix_large_transfer(pipe):
    r, w = pipe
    reader, writer = _adopt(pipe, FileObjectPosix(r, "rb"), FileObjectPosix(w, "wb"))
    payload = os.urandom(1 << 20)

    def produce():
        writer.write(payload)
        writer.close()

    g = gevent.spawn(produce)
    with gevent.Timeout(10):
        got = reader.read()
    g.join(5)
    reader.close()
    assert got == payload


def test_posix_text_mode_encoding_and_newlines(pipe):
    r, w = pipe
    reader, writer = _adopt(pipe, FileObjectPosix(r, "r", encoding="utf-8"),
                            FileObjectPosix(w, "w", encoding="utf-8"))
    assert isinstance(reader.io, io.TextIOWrapper)
    writer.write("héllo\r\nwörld\n")
    writer.close()
    with gevent.Timeout(5):
        assert reader.readline() == "héllo\n"
        assert reader.readline() == "wörld\n"
        assert reader.readline() == ""
    reader.close()


def test_posix_newline_argument_is_passed_through(pipe):
    r, w = pipe
    reader, = _adopt(pipe, FileObjectPosix(r, "r", newline=""))
    os.write(w, b"a\r\nb\n")
    os.close(w)
    with gevent.Timeout(5):
        assert reader.readlines() == ["a\r\n", "b\n"]
    reader.close()


def test_posix_errors_argument(pipe):
    r, w = pipe
    reader, = _adopt(pipe, FileObjectPosix(r, "r", encoding="ascii", errors="replace"))
    os.write(w, b"\xffok")
    os.close(w)
    with gevent.Timeout(5):
        assert reader.read() == "\ufffdok"
    reader.close()


def test_posix_old_argument_names(pipe):
    r, w = pipe
    writer = FileObjectPosix(w, "wb", bufsize=0, close=False)
    assert isinstance(writer.io, io.RawIOBase)
    assert writer.write(b"xyz") == 3
    writer.close()
    os.fstat(w)  # still open: close=False
    assert os.read(r, 3) == b"xyz"


def test_posix_closefd_false_restores_blocking(pipe):
    r, w = pipe
    assert os.get_blocking(r)
    reader = FileObjectPosix(r, "rb", closefd=False)
    assert not os.get_blocking(r)
    reader.close()
    assert reader.closed
    assert os.get_blocking(r)
    os.fstat(r)


def test_posix_wraps_object_with_fileno_and_closes_it(pipe):
    r, w = pipe
    raw_file = os.fdopen(r, "rb")
    pipe.remove(r)
    reader = FileObjectPosix(raw_file, "rb")
    os.write(w, b"abc")
    with gevent.Timeout(5):
        assert reader.read(3) == b"abc"
    reader.close()
    assert raw_file.closed
    with pytest.raises(OSError):
        os.fstat(r)


def test_posix_close_wakes_a_parked_reader(pipe):
    r, w = pipe
    reader, = _adopt(pipe, FileObjectPosix(r, "rb", buffering=0))
    pipe.append(w)
    result = []

    def read():
        try:
            reader.read(1)
        except OSError as exc:
            result.append(exc.errno)

    g = gevent.spawn(read)
    gevent.sleep(0.01)
    reader.close()
    g.join(5)
    assert result == [errno.EBADF]
    gevent.sleep(0)  # let the deferred close run
    with pytest.raises(OSError):
        os.fstat(r)


def test_posix_second_reader_on_same_fd_is_refused(pipe):
    r, w = pipe
    reader, = _adopt(pipe, FileObjectPosix(r, "rb", buffering=0))
    pipe.append(w)
    first = gevent.spawn(reader.read, 1)
    gevent.sleep(0.01)
    with pytest.raises(Exception) as info:
        reader.read(1)
    assert type(info.value).__name__ == "ConcurrentObjectUseError"
    os.write(w, b"x")
    assert first.get(timeout=5) == b"x"
    reader.close()


def test_posix_path_and_regular_file(tmp_path):
    path = tmp_path / "f.txt"
    with FileObjectPosix(path, "w") as f:
        f.write("one\ntwo\n")
    with FileObjectPosix(str(path), "r") as f:
        assert f.name == str(path)
        assert list(f) == ["one\n", "two\n"]
    with FileObjectPosix(path, "rb+") as f:
        assert f.read(3) == b"one"
        f.seek(0)
        f.write(b"ONE")
    assert path.read_bytes() == b"ONE\ntwo\n"


def test_posix_tty():
    master, slave = os.openpty()
    try:
        tty = FileObjectPosix(slave, "rb", buffering=0, closefd=False)
        assert tty.isatty()
        os.write(master, b"hi\n")
        with gevent.Timeout(5):
            assert tty.read(10) == b"hi\n"
        tty.close()
    finally:
        os.close(master)
        os.close(slave)


def test_posix_repr_and_attributes(pipe):
    r, w = pipe
    reader, = _adopt(pipe, FileObjectPosix(r, "rb"))
    pipe.append(w)
    assert "FileObjectPosix" in repr(reader)
    assert reader.fileno() == r
    assert reader.mode == "rb"
    assert reader.fileio.fileno() == r
    assert reader.readable() and not reader.writable()
    reader.close()
    reader.close()  # idempotent
    assert reader.closed


@pytest.mark.parametrize("mode", ["", "rw", "rr", "q", "rbt", "wU", "rU+"])
def test_posix_invalid_modes(pipe, mode):
    with pytest.raises(ValueError):
        FileObjectPosix(pipe[0], mode, closefd=False)
    assert os.get_blocking(pipe[0])


def test_posix_invalid_layering(pipe):
    with pytest.raises(ValueError):
        FileObjectPosix(pipe[0], "rb", encoding="utf-8", closefd=False)
    with pytest.raises(ValueError):
        FileObjectPosix(pipe[0], "r", buffering=0, closefd=False)
    with pytest.raises(ValueError):
        FileObjectPosix("some/path", "r", closefd=False)
    with pytest.raises(TypeError):
        FileObjectPosix(object(), "r")


def test_posix_binary_line_buffering_warns(pipe):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        f = FileObjectPosix(pipe[1], "wb", 1, closefd=False)
    f.close()
    assert any(issubclass(w.category, RuntimeWarning) for w in caught)


# -- FileObjectBlock ---------------------------------------------------------------------------

def test_block_wraps_path_and_fd(tmp_path):
    path = tmp_path / "b.txt"
    path.write_text("x\ny\n")
    with FileObjectBlock(path) as f:
        assert list(f) == ["x\n", "y\n"]
    fd = os.open(path, os.O_RDONLY)
    f = FileObjectBlock(fd, "rb")
    assert f.read() == b"x\ny\n"
    f.close()
    with pytest.raises(OSError):
        os.fstat(fd)
    assert "FileObjectBlock" in repr(f)


# -- FileObjectThread --------------------------------------------------------------------------

@needs_threadpool
def test_thread_regular_file(tmp_path):
    path = tmp_path / "t.txt"
    f = FileObjectThread(path, "w")
    f.write("hello\n")
    f.writelines(["a\n", "b\n"])
    f.close()
    assert f.closed
    assert f.name == str(path)
    with FileObjectThread(str(path)) as f:
        assert f.readline() == "hello\n"
        assert list(f) == ["a\n", "b\n"]
    with FileObjectThread(path, "rb", lock=False) as f:
        assert f.read(5) == b"hello"
        assert f.tell() == 5


@needs_threadpool
def test_thread_concurrent_greenlets(tmp_path):
    path = tmp_path / "c.bin"
    path.write_bytes(b"0123456789" * 1000)
    with FileObjectThread(path, "rb") as f:
        glets = [gevent.spawn(f.read, 10) for _ in range(20)]
        gevent.joinall(glets, timeout=10)
        assert b"".join(g.value for g in glets) == (b"0123456789" * 20)


@needs_threadpool
def test_thread_closefd_false(tmp_path):
    path = tmp_path / "d.bin"
    path.write_bytes(b"abc")
    fd = os.open(path, os.O_RDONLY)
    try:
        with FileObjectThread(fd, "rb", closefd=False) as f:
            assert f.read() == b"abc"
        os.fstat(fd)
    finally:
        os.close(fd)


# -- configuration -----------------------------------------------------------------------------

@pytest.mark.parametrize("setting, expected", [
    ("thread", "FileObjectThread"),
    ("block", "FileObjectBlock"),
    ("posix", "FileObjectPosix"),
])
def test_gevent_file_environment_variable(setting, expected):
    script = "import gevent.fileobject as f; print(f.FileObject.__name__)"
    env = dict(os.environ, GEVENT_FILE=setting, PYTHONPATH=_src_path())
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                         text=True, timeout=30, check=True)
    assert out.stdout.strip() == expected


def _src_path() -> str:
    src = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "src")
    return os.pathsep.join(filter(None, [src, os.environ.get("PYTHONPATH")]))


def test_importing_creates_no_hub():
    script = textwrap.dedent("""
        import gevent.fileobject, gevent.subprocess, gevent.os, gevent.signal, gevent.time
        import gevent.builtins, gevent.hub, threading
        assert gevent.hub.get_hub_if_exists() is None
        assert threading.active_count() == 1
        print("ok")
    """)
    env = dict(os.environ, PYTHONPATH=_src_path())
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                         text=True, timeout=30)
    assert out.stdout.strip() == "ok", out.stderr


# -- the open arguments, checked at once (gevent._fileobjectcommon.OpenDescriptor) ------------

@pytest.mark.parametrize("kwargs, error, message", [
    (dict(mode=42), TypeError, "invalid mode: 42"),
    (dict(buffering="nope"), TypeError, "invalid buffering: 'nope'"),
    (dict(encoding=42), TypeError, "invalid encoding: 42"),
    (dict(errors=42), TypeError, "invalid errors: 42"),
    (dict(mode="aoeug"), ValueError, "invalid mode: 'aoeug'"),
    (dict(mode="wU"), ValueError, "mode U cannot be combined with 'x', 'w', 'a', or '+'"),
    (dict(mode="rtb"), ValueError, "can't have text and binary mode at once"),
    (dict(mode="rw"), ValueError, "can't have read/write/append mode at once"),
    (dict(mode="+"), ValueError, "must have exactly one of read/write/append mode"),
    (dict(mode="rb", encoding="ascii"), ValueError, "binary mode doesn't take an encoding"),
    (dict(mode="rb", errors="strict"), ValueError, "binary mode doesn't take an errors"),
    (dict(mode="rb", newline="\n"), ValueError, "binary mode doesn't take a newline"),
    (dict(bufsize=1, buffering=2), TypeError, "Cannot specify both buffering=2 and bufsize=1"),
    (dict(close=True, closefd=False), TypeError, "Cannot specify both closefd=False"),
])
@pytest.mark.parametrize("module, name", [
    ("gevent._fileobjectcommon", "OpenDescriptor"),
    ("gevent._fileobjectposix", "GreenOpenDescriptor"),
])
def test_open_descriptor_rejects_what_gevent_rejects(kwargs, error, message, module, name):
    import importlib

    descriptor_class = getattr(importlib.import_module(module), name)
    with pytest.raises(error) as caught:
        descriptor_class(1, **kwargs)
    assert str(caught.value).startswith(message)


def test_open_descriptor_atomic_write_writes_everything(pipe):
    from gevent._fileobjectcommon import OpenDescriptor, WriteallMixin
    from gevent._fileobjectposix import GreenOpenDescriptor

    r, w = pipe
    for descriptor_class in (OpenDescriptor, GreenOpenDescriptor):
        desc = descriptor_class(w, "wb", buffering=0, closefd=False, atomic_write=True)
        assert desc.atomic_write and desc.is_fd()
        raw = desc.opened()
        assert raw is desc.opened() is desc.opened_raw()
        assert isinstance(raw, WriteallMixin)
        assert raw.write(b"abc") == 3
        raw.close()
        assert os.read(r, 10) == b"abc"


def test_open_descriptor_opens_a_path_as_io_open(tmp_path):
    from gevent._fileobjectcommon import OpenDescriptor
    from gevent._fileobjectposix import GreenOpenDescriptor

    path = tmp_path / "d.txt"
    path.write_bytes(b"one\ntwo\n")
    for descriptor_class in (OpenDescriptor, GreenOpenDescriptor):
        with descriptor_class(path, "rU").opened() as f:
            assert f.name == str(path) and f.mode == "r"
            assert f.readlines() == ["one\n", "two\n"]


@pytest.mark.parametrize("file_class", [FileObjectPosix, FileObjectBlock, FileObjectThread])
def test_universal_mode_is_accepted_and_dropped_as_gevent_does(pipe, file_class):
    r, w = pipe
    os.write(w, b"a\r\nb\n")
    os.close(w)
    pipe.remove(w)
    f = file_class(r, "rU", closefd=False)
    try:
        assert f.mode == "r"
        assert f.read() == "a\nb\n"
    finally:
        f.close()


def test_posix_object_without_a_name_has_no_name(pipe):
    r, w = pipe

    class Nameless:
        def fileno(self):
            return r

    f = FileObjectPosix(Nameless(), "rb", closefd=False)
    with pytest.raises(AttributeError):
        f.name  # noqa: B018
    f.close()
    with open(w, "wb", closefd=False) as named:
        g = FileObjectPosix(named, "wb", closefd=False)
        assert g.name == w
        g.close()
