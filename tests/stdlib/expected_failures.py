"""CPython tests that fail against gevent's network modules, each with the reason.

``EXPECTED_FAILURES[module]["all"]`` applies to every Python; a ``"3.x"`` key adds entries for
one version. A key matches a test id exactly or as a prefix (a class or a subtest).
"""

EXPECTED_FAILURES: dict[str, dict[str, dict[str, str]]] = {
    "test_select": {"all": {
        "test.test_select.SelectTestCase.test_disallow_instantiation":
            "gevent.select.poll is a Python class that can be instantiated; the C poll type "
            "cannot (gevent has the same difference)",
    }},
    "test_selectors": {"all": {}},
    "test_socket": {"all": {
        "test.test_socket.NonBlockingTCPTests.testSetBlocking":
            "checks O_NONBLOCK on the fd: gevent keeps every OS socket non-blocking and "
            "emulates blocking mode and timeouts (by design, as gevent does)",
        "test.test_socket.NonBlockingTCPTests.testSetBlocking_overflow":
            "checks O_NONBLOCK on the fd: the OS socket is always non-blocking (by design)",
        "test.test_socket.NonblockConstantTest.test_SOCK_NONBLOCK":
            "checks O_NONBLOCK on the fd after setblocking(True): always non-blocking "
            "(by design)",
        "test.test_socket.NetworkConnectionNoServer.test_create_connection_timeout":
            "mocks socket.socket in the stdlib module; gevent's create_connection builds "
            "gevent.socket.socket directly",
        "test.test_socket.ThreadedVSOCKSocketStreamTest":
            "AF_VSOCK connect hangs in this sandbox (gVisor) without gevent too",
    }},
    "test_ssl": {"all": {}},
    "test_subprocess": {"all": {
        "test.test_subprocess.MiscTests.test_call_keyboardinterrupt_no_kill":
            "the test swaps subprocess.Popen for a recording subclass and expects the patched "
            "subprocess.call to pick it up at call time; gevent.subprocess.call always uses "
            "gevent.subprocess.Popen (gevent's does too)",
        "test.test_subprocess.MiscTests.test_run_keyboardinterrupt_no_kill":
            "as test_call_keyboardinterrupt_no_kill, for subprocess.run",
        "test.test_subprocess.POSIXProcessTestCase.test_stopped":
            "mocks os.waitpid to report a WIFSTOPPED status after the child exited; the exit "
            "status comes from the loop's child watcher, which had reaped the real one (0)",
        "test.test_subprocess.POSIXProcessTestCase.test_send_signal_race":
            "asserts returncode is still None after the child was waited for behind the "
            "Popen's back (by a cooperative os.waitpid, which lets the loop see the exit); "
            "as in gevent, returncode is set as soon as the loop sees it",
    }},
}
