"""Run one of CPython's own test modules (from the installed ``test`` package) against gevent.

    .venv/bin/python tests/stdlib/run_stdlib.py test_socket [--mode auto|monkey|substitute|none]
                                                             [--timeout SECONDS] [--json FILE]

Each module runs in a fresh interpreter. ``--mode monkey`` calls ``gevent.monkey.patch_all()``
first; ``substitute`` puts our implementations into the standard modules by hand (what the
modules' ``__implements__`` declare), for when monkey patching is not available; ``auto`` (the
default) uses ``monkey`` when ``gevent.monkey.patch_all`` exists, else ``substitute``.

The child reports every test's outcome; the parent prints the pass counts and compares the
failures with ``expected_failures.py`` (each entry has a reason). The exit status is 1 if a
test failed that is not listed there.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

#: The gevent module substituted for each standard module, in the order they are installed.
SUBSTITUTES = [
    ("socket", "gevent.socket"),
    ("select", "gevent.select"),
    ("selectors", "gevent.selectors"),
    ("ssl", "gevent.ssl"),
]


#: Environment set for a module's run unless the caller set it. CPython's socket tests count
#: threads around every test (``wait_threads_exit``): the thread resolver's pool workers would
#: look like leaked threads, so those modules resolve ``localhost`` with the blocking resolver.
MODULE_ENVIRONMENT = {
    "test_socket": {"GEVENT_RESOLVER": "block"},
    "test_ssl": {"GEVENT_RESOLVER": "block"},
    "test_socketserver": {"GEVENT_RESOLVER": "block"},
}


def substitute(names=None) -> list[str]:
    """Install our implementations into the standard modules (a minimal monkey patch)."""
    done = []
    for std_name, ours_name in SUBSTITUTES:
        if names is not None and std_name not in names:
            continue
        try:
            ours = importlib.import_module(ours_name)
        except ImportError:
            continue
        std = importlib.import_module(std_name)
        for name in getattr(ours, "__implements__", []):
            setattr(std, name, getattr(ours, name))
        hook = getattr(ours, "_gevent_did_monkey_patch", None)
        if hook is not None:
            hook(std)
        done.append(std_name)
    return done


def choose_mode(mode: str) -> str:
    if mode != "auto":
        return mode
    try:
        monkey = importlib.import_module("gevent.monkey")
    except ImportError:
        return "substitute"
    return "monkey" if hasattr(monkey, "patch_all") else "substitute"


def _flatten(suite):
    import unittest

    for item in suite:
        if isinstance(item, unittest.TestSuite):
            yield from _flatten(item)
        else:
            yield item


def child(module_name: str, mode: str, patterns: list[str], skip: set[str]) -> None:
    """Run the module's tests, reporting each one on stdout as it starts and ends."""
    import faulthandler
    import unittest

    faulthandler.enable()
    mode = choose_mode(mode)
    if mode == "monkey":
        from gevent import monkey

        monkey.patch_all()
    elif mode == "substitute":
        substitute()
    out = os.fdopen(os.dup(1), "w", buffering=1)

    def report(kind: str, payload) -> None:
        out.write(f"@@{kind}@@" + json.dumps(payload) + "\n")
        out.flush()

    report("MODE", mode)
    module = importlib.import_module(f"test.{module_name}")
    loader = unittest.TestLoader()
    if patterns:
        # As ``unittest -k``: a pattern without wildcards matches as a substring.
        loader.testNamePatterns = [p if "*" in p else f"*{p}*" for p in patterns]
    tests = [t for t in _flatten(loader.loadTestsFromModule(module)) if t.id() not in skip]
    suite = unittest.TestSuite(tests)

    class Result(unittest.TextTestResult):
        _started = None

        def startTest(self, test):
            self._started = test
            self._outcome_kind = "passed"
            self._problems = []
            report("START", test.id())
            super().startTest(test)

        def stopTest(self, test):
            super().stopTest(test)
            if self._started is not test:
                # Some versions' unittest reports a class-level skip or error for a test it
                # never started (Python 3.12 did here): report the start now.
                report("START", test.id())
                self._outcome_kind = getattr(self, "_outcome_kind", "passed")
                self._problems = getattr(self, "_problems", [])
            self._started = None
            report("END", [test.id(), self._outcome_kind, self._problems])

        def addSuccess(self, test):
            super().addSuccess(test)

        def _fail(self, test, err):
            text = self._exc_info_to_string(err, test).strip().splitlines()
            self._outcome_kind = "failed"
            self._problems.append([test.id(), text[-1] if text else ""])

        def addFailure(self, test, err):
            super().addFailure(test, err)
            self._fail(test, err)

        def addError(self, test, err):
            super().addError(test, err)
            if isinstance(test, unittest.TestCase):
                self._fail(test, err)
            else:  # a class or module fixture failed: no test is running
                text = self._exc_info_to_string(err, test).strip().splitlines()
                report("FIXTURE", [str(test), text[-1] if text else ""])

        def addSubTest(self, test, subtest, err):
            super().addSubTest(test, subtest, err)
            if err is not None:
                self._fail(subtest, err)

        def addSkip(self, test, reason):
            super().addSkip(test, reason)
            self._outcome_kind = "skipped"

        def addExpectedFailure(self, test, err):
            super().addExpectedFailure(test, err)
            self._outcome_kind = "expected"

    runner = unittest.TextTestRunner(stream=sys.stderr, verbosity=2, resultclass=Result)
    runner.run(suite)
    report("DONE", None)


def _run_children(args, env) -> dict:
    """Run the child until every test has a result; a test that hangs for longer than
    ``--test-timeout`` is recorded as hung and the child restarted after it."""
    import select as _select

    done: dict[str, list] = {}
    hung: list[str] = []
    fixtures: list = []
    mode = args.mode
    started = time.monotonic()
    while True:
        with open(os.path.join(args.workdir, "skip.json"), "w") as f:
            json.dump(sorted(set(done) | set(hung)), f)
        command = [sys.executable, os.path.abspath(__file__), args.module, "--mode", args.mode,
                   "--child", "--skip-file", f.name]
        for pattern in args.k:
            command += ["-k", pattern]
        errors = open(os.path.join(args.workdir, "stderr.txt"), "w")
        proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=errors,
                                text=True, env=env, cwd=ROOT)
        errors.close()
        current = None
        last = time.monotonic()
        finished = False
        buffer = ""
        while True:
            if time.monotonic() - started > args.timeout:
                proc.kill()
                proc.wait()
                return {"done": done, "hung": hung + ([current] if current else []),
                        "fixtures": fixtures, "mode": mode, "timed_out": True}
            ready, _, _ = _select.select([proc.stdout], [], [], 1.0)
            if not ready:
                if proc.poll() is not None:
                    break
                if current is not None and time.monotonic() - last > args.test_timeout:
                    proc.kill()
                    proc.wait()
                    hung.append(current)
                    current = None
                    break
                continue
            chunk = os.read(proc.stdout.fileno(), 65536).decode(errors="replace")
            if not chunk:
                proc.wait()
                break
            buffer += chunk
            while "\n" in buffer:
                line, buffer = buffer.split("\n", 1)
                if not line.startswith("@@"):
                    continue
                kind, _, payload = line[2:].partition("@@")
                data = json.loads(payload)
                last = time.monotonic()
                if kind == "MODE":
                    mode = data
                elif kind == "START":
                    current = data
                elif kind == "END":
                    done[data[0]] = data[1:]
                    current = None
                elif kind == "FIXTURE":
                    fixtures.append(data)
                elif kind == "DONE":
                    finished = True
        if finished:
            proc.wait()
            break
        if current is not None:
            # The child died inside a test: count it as hung and go on after it.
            hung.append(current)
        elif proc.returncode not in (0, None) and not done and not hung:
            with open(os.path.join(args.workdir, "stderr.txt")) as f:
                sys.stderr.write(f.read()[-5000:])
            break
    return {"done": done, "hung": hung, "fixtures": fixtures, "mode": mode,
            "timed_out": False}


def load_expected(module_name: str) -> dict[str, str]:
    sys.path.insert(0, HERE)
    try:
        from expected_failures import EXPECTED_FAILURES
    finally:
        sys.path.remove(HERE)
    table = EXPECTED_FAILURES.get(module_name, {})
    version = f"{sys.version_info[0]}.{sys.version_info[1]}"
    merged = dict(table.get("all", {}))
    merged.update(table.get(version, {}))
    return merged


def _matches(test_id: str, expected: dict[str, str]) -> str | None:
    for pattern, reason in expected.items():
        if test_id == pattern or test_id.startswith(pattern + ".") or test_id.startswith(
                pattern + " "):
            return reason
    return None


def main(argv=None) -> int:
    import tempfile

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("module")
    parser.add_argument("--mode", default="auto",
                        choices=["auto", "monkey", "substitute", "none"])
    parser.add_argument("--timeout", type=float, default=900, help="for the whole module")
    parser.add_argument("--test-timeout", type=float, default=60,
                        help="a test silent for this long is recorded as hung")
    parser.add_argument("--json", help="write the summary to this file")
    parser.add_argument("-k", action="append", default=[], help="test name patterns")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--skip-file", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        skip = set()
        if args.skip_file:
            with open(args.skip_file) as f:
                skip = set(json.load(f))
        child(args.module, args.mode, args.k, skip)
        sys.stdout.flush()
        os._exit(0)

    env = dict(os.environ)
    for key, value in MODULE_ENVIRONMENT.get(args.module, {}).items():
        env.setdefault(key, value)
    env["PYTHONPATH"] = os.pathsep.join(
        [os.path.join(ROOT, "src")] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep)
                                      if p])
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as workdir:
        args.workdir = workdir
        outcome = _run_children(args, env)
    done = outcome["done"]
    counts = {"passed": 0, "failed": 0, "skipped": 0, "expected": 0}
    failures = []
    for kind, problems in done.values():
        counts[kind] = counts.get(kind, 0) + 1
        failures.extend(problems)
    failures.extend([test_id, "hung (killed after --test-timeout)"]
                    for test_id in outcome["hung"])
    failures.extend([name, f"fixture failed: {message}"]
                    for name, message in outcome["fixtures"])
    expected = load_expected(args.module)
    unexpected = []
    known = []
    for test_id, message in failures:
        reason = _matches(test_id, expected)
        (known if reason else unexpected).append((test_id, message, reason))
    summary = {
        "module": args.module,
        "python": sys.version.split()[0],
        "mode": outcome["mode"],
        "run": len(done) + len(outcome["hung"]),
        "passed": counts["passed"],
        "skipped": counts["skipped"],
        "expected_failures_unittest": counts["expected"],
        "hung": len(outcome["hung"]),
        "failed_known": len(known),
        "failed_unexpected": len(unexpected),
        "timed_out": outcome["timed_out"],
        "seconds": round(time.monotonic() - started, 1),
    }
    print(json.dumps(summary))
    for test_id, _message, reason in known:
        print(f"  known   {test_id}: {reason}")
    for test_id, message, _ in unexpected:
        print(f"  FAILED  {test_id}: {message}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(dict(summary, known=known, unexpected=unexpected), f, indent=1)
    return 1 if unexpected or outcome["timed_out"] else 0


if __name__ == "__main__":
    sys.exit(main())
