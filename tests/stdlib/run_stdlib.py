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


def child(module_name: str, mode: str, patterns: list[str]) -> dict:
    import faulthandler
    import unittest

    faulthandler.enable()
    mode = choose_mode(mode)
    if mode == "monkey":
        from gevent import monkey

        monkey.patch_all()
    elif mode == "substitute":
        substitute()
    module = importlib.import_module(f"test.{module_name}")
    loader = unittest.TestLoader()
    if patterns:
        loader.testNamePatterns = patterns
    suite = loader.loadTestsFromModule(module)

    outcomes: dict[str, list] = {"failed": [], "skipped": 0, "passed": 0, "expected": 0}

    class Result(unittest.TextTestResult):
        def addSuccess(self, test):
            super().addSuccess(test)
            outcomes["passed"] += 1

        def _fail(self, test, err):
            text = self._exc_info_to_string(err, test).strip().splitlines()
            outcomes["failed"].append([test.id(), text[-1] if text else ""])

        def addFailure(self, test, err):
            super().addFailure(test, err)
            self._fail(test, err)

        def addError(self, test, err):
            super().addError(test, err)
            self._fail(test, err)

        def addSubTest(self, test, subtest, err):
            super().addSubTest(test, subtest, err)
            if err is not None:
                self._fail(subtest, err)

        def addSkip(self, test, reason):
            super().addSkip(test, reason)
            outcomes["skipped"] += 1

        def addExpectedFailure(self, test, err):
            super().addExpectedFailure(test, err)
            outcomes["expected"] += 1

        def addUnexpectedSuccess(self, test):
            super().addUnexpectedSuccess(test)
            outcomes["passed"] += 1

    # Module-level fixtures (setUpModule) run through the suite as usual.
    runner = unittest.TextTestRunner(stream=sys.stderr, verbosity=2, resultclass=Result)
    started = time.monotonic()
    result = runner.run(suite)
    outcomes["run"] = result.testsRun
    outcomes["seconds"] = round(time.monotonic() - started, 1)
    outcomes["mode"] = mode
    return outcomes


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
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("module")
    parser.add_argument("--mode", default="auto",
                        choices=["auto", "monkey", "substitute", "none"])
    parser.add_argument("--timeout", type=float, default=900)
    parser.add_argument("--json", help="write the summary to this file")
    parser.add_argument("-k", action="append", default=[], help="test name patterns")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        outcomes = child(args.module, args.mode, args.k)
        sys.stdout.write("\n@@RESULT@@" + json.dumps(outcomes) + "\n")
        sys.stdout.flush()
        os._exit(0)

    env = dict(os.environ)
    for key, value in MODULE_ENVIRONMENT.get(args.module, {}).items():
        env.setdefault(key, value)
    env["PYTHONPATH"] = os.pathsep.join(
        [os.path.join(ROOT, "src")] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep)
                                      if p])
    command = [sys.executable, os.path.abspath(__file__), args.module, "--mode", args.mode,
               "--child"] + [f"-k={k}" for k in args.k]
    try:
        proc = subprocess.run(command, capture_output=True, text=True, timeout=args.timeout,
                              env=env, cwd=ROOT)
    except subprocess.TimeoutExpired as ex:
        print(f"{args.module}: timed out after {args.timeout} s")
        tail = (ex.stderr or b"")[-3000:]
        print(tail.decode(errors="replace") if isinstance(tail, bytes) else tail)
        return 2
    marker = proc.stdout.rfind("@@RESULT@@")
    if marker < 0:
        print(f"{args.module}: the child died (status {proc.returncode})")
        print(proc.stderr[-5000:])
        return 2
    outcomes = json.loads(proc.stdout[marker + len("@@RESULT@@"):].strip())
    expected = load_expected(args.module)
    unexpected = []
    known = []
    for test_id, message in outcomes["failed"]:
        reason = _matches(test_id, expected)
        (known if reason else unexpected).append((test_id, message, reason))
    summary = {
        "module": args.module,
        "python": sys.version.split()[0],
        "mode": outcomes["mode"],
        "run": outcomes["run"],
        "passed": outcomes["passed"],
        "skipped": outcomes["skipped"],
        "expected_failures_unittest": outcomes["expected"],
        "failed_known": len(known),
        "failed_unexpected": len(unexpected),
        "seconds": outcomes["seconds"],
    }
    print(json.dumps(summary))
    for test_id, _message, reason in known:
        print(f"  known   {test_id}: {reason}")
    for test_id, message, _ in unexpected:
        print(f"  FAILED  {test_id}: {message}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(dict(summary, known=known, unexpected=unexpected), f, indent=1)
    return 1 if unexpected else 0


if __name__ == "__main__":
    sys.exit(main())
