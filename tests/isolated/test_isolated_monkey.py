"""gevent.monkey in fresh interpreters: patch_all, events and plugins, warnings, the CLI."""

from __future__ import annotations

import textwrap

import pytest
from _scenario import SCENARIOS, run_python, run_scenario


def test_patch_all_replaces_the_seams_and_is_idempotent():
    run_scenario("patch_all_state")


@pytest.mark.parametrize("mode", ["module", "all", "items"])
def test_do_not_patch(mode):
    run_scenario("donotpatch", mode)


def test_warns_about_modules_imported_too_early():
    run_scenario("early_imports")


def _write_plugin(root):
    (root / "gevent_test_plugin.py").write_text(textwrap.dedent("""\
        CALLS = []

        def record(kind):
            def plugin(event):
                CALLS.append((kind, getattr(event, "module_name", None)))
            return plugin

        will_patch_all = record("will_patch_all")
        will_patch_module = record("will_patch_module")
        did_patch_module = record("did_patch_module")
        did_patch_builtins = record("did_patch_builtins")
        did_patch_all = record("did_patch_all")
        """))
    info = root / "gevent_test_plugin-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: gevent-test-plugin\n"
                                   "Version: 1.0\n")
    groups = ["will_patch_all", "will_patch_module", "did_patch_module",
              "did_patch_builtins", "did_patch_all"]
    (info / "entry_points.txt").write_text("".join(
        f"[gevent.plugins.monkey.{group}]\nrecord = gevent_test_plugin:{group}\n\n"
        for group in groups))


def test_plugins_from_entry_points_are_called(tmp_path):
    _write_plugin(tmp_path)
    run_scenario("plugins", env={"PYTHONPATH": str(tmp_path)})


SCRIPT = """\
import sys, socket, threading
import gevent.socket
print("argv", sys.argv)
print("name", __name__)
print("patched", socket.socket is gevent.socket.socket)
print("path0", sys.path[0])
"""


def test_command_line_runs_a_script_patched(tmp_path):
    script = tmp_path / "prog.py"
    script.write_text(SCRIPT)
    proc = run_python(["-m", "gevent.monkey", str(script), "a", "--b"], cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert f"argv ['{script}', 'a', '--b']" in proc.stdout
    assert "name __main__" in proc.stdout
    assert "patched True" in proc.stdout
    assert f"path0 {tmp_path}" in proc.stdout


def test_command_line_runs_a_module_and_honours_options(tmp_path):
    (tmp_path / "progmod.py").write_text(SCRIPT)
    proc = run_python(["-m", "gevent.monkey", "--no-socket", "--module", "progmod", "x"],
                      cwd=tmp_path, env={"PYTHONPATH": str(tmp_path)})
    assert proc.returncode == 0, proc.stderr
    assert "argv" in proc.stdout and "'x'" in proc.stdout
    assert "name __main__" in proc.stdout
    assert "patched False" in proc.stdout


def test_command_line_usage_and_errors(tmp_path):
    proc = run_python(["-m", "gevent.monkey"])
    assert proc.returncode == 0 and "USAGE" in proc.stdout
    proc = run_python(["-m", "gevent.monkey", "--frobnicate", "x.py"])
    assert proc.returncode != 0 and "Cannot patch 'frobnicate'" in proc.stderr


def test_scenarios_exist():
    assert (SCENARIOS / "fork_state.py").exists()


def test_patch_sys_reads_stdin_and_flushes_stdout_at_exit():
    # gevent's test__issue6: with sys patched, the interpreter's last flush of sys.stdout
    # happens while it finalizes, when greenlets can no longer switch; it must not fail (that
    # made the exit status 120).
    script = textwrap.dedent("""\
        import sys
        import gevent, gevent.monkey
        gevent.monkey.patch_all(sys=True)

        def printline():
            print("%s chars." % len(input()))

        gevent.spawn(printline).join()
        print("unflushed at exit", end="")
        """)
    proc = run_python(["-c", script], input="hello world\n")
    assert (proc.returncode, proc.stdout, proc.stderr) == (
        0, "11 chars.\nunflushed at exit", "")


def test_fork_guard_lock_of_concurrent_futures_imported_first_becomes_green():
    # gevent #1865: concurrent.futures.thread imported before patching takes its native
    # module lock in an at-fork hook; a greenlet forking while another held it hung.
    script = textwrap.dedent("""\
        import concurrent.futures.thread as cft
        native = cft._global_shutdown_lock
        from gevent import monkey
        monkey.patch_all()
        import os, gevent
        from gevent.thread import LockType
        assert isinstance(cft._global_shutdown_lock, LockType)
        assert monkey.get_original("concurrent.futures.thread", "_global_shutdown_lock") \\
            is native

        def hold():
            with cft._global_shutdown_lock:
                gevent.sleep(0.2)

        holder = gevent.spawn(hold)
        gevent.sleep(0.01)
        pid = os.fork()
        if pid == 0:
            os._exit(7)
        assert os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) == 7
        holder.join()
        print("OK")
        """)
    proc = run_python(["-c", script], timeout=30)
    assert proc.stdout.strip().splitlines()[-1:] == ["OK"], proc.stdout + proc.stderr
