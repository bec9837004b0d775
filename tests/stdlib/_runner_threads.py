"""Run CPython's own thread and networking tests after ``gevent.monkey.patch_all()``.

    .venv/bin/python tests/stdlib/_runner_threads.py test_threading [--full] [--json FILE]
    .venv/bin/python tests/stdlib/_runner_threads.py test_asyncio.test_tasks --asyncio gevent

``--asyncio gevent`` runs one of CPython's asyncio test modules on gevent.asyncio's loop
instead (no monkey patching: see _asyncio_setup.py), ``--asyncio stock`` on asyncio's own;
their skip lists, known failures and curated subsets are in expected_asyncio.py.

The modules come from the installed ``test`` package (nothing is copied). Each run happens in a
fresh interpreter that patches first. A test that hangs is cut off after ``--per-test``
seconds (faulthandler ends the child); the runner records it as hung and resumes after it, so
one hang costs one timeout, not the run. Tests listed in ``expected_threads.SKIP`` are not run
at all (they block the whole process by design, see the reasons there).

By default only the curated subset in ``expected_threads.CURATED`` runs (fast enough for
``make test``); ``--full`` (or GEVENT_STDLIB_FULL=1 for the pytest wrapper) runs every test.
The summary gives pass counts and each failure, known (with its reason) or unexpected.

tests/stdlib/run_stdlib.py is the generic runner; this one adds hang recovery and skip lists,
which the threading tests need.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def _matches(test_id: str, patterns) -> str | None:
    for pattern in patterns:
        if test_id == pattern or test_id.startswith(pattern + ".") or \
                test_id.startswith(pattern + " "):
            return pattern
    return None


def _iter_tests(suite):
    import unittest

    for item in suite:
        if isinstance(item, unittest.TestSuite):
            yield from _iter_tests(item)
        else:
            yield item


def child(module_name: str, progress: str, done: set[str], skip: dict[str, str],
          only: list[str] | None, per_test: float, asyncio_loop: str | None = None) -> None:
    import faulthandler
    import unittest

    if asyncio_loop is None:
        from gevent import monkey

        monkey.patch_all()
        setup = None
    else:
        sys.path.insert(0, HERE)
        from _asyncio_setup import Setup

        setup = Setup(asyncio_loop)
    module = __import__(f"test.{module_name}", fromlist=["x"])
    suite = unittest.TestLoader().loadTestsFromModule(module)
    out = open(progress, "a", buffering=1)

    def record(kind: str, test_id: str, message: str = "") -> None:
        out.write(json.dumps([kind, test_id, message]) + "\n")

    class Result(unittest.TestResult):
        def startTest(self, test):
            super().startTest(test)
            record("start", test.id())
            if setup is not None:
                setup.before_test()
            faulthandler.dump_traceback_later(per_test, exit=True, file=sys.stderr)

        def stopTest(self, test):
            faulthandler.cancel_dump_traceback_later()
            if setup is not None and setup.used_our_loop():
                record("ours", test.id())
            super().stopTest(test)
            record("stop", test.id())

        def _fail(self, test, err):
            text = self._exc_info_to_string(err, test).strip().splitlines()
            record("fail", test.id(), text[-1] if text else "")

        def addSuccess(self, test):
            record("pass", test.id())

        addFailure = addError = _fail

        def addSubTest(self, test, subtest, err):
            if err is not None:
                self._fail(subtest, err)

        def addSkip(self, test, reason):
            record("skip", test.id(), reason)

        def addExpectedFailure(self, test, err):
            record("xfail", test.id())

        def addUnexpectedSuccess(self, test):
            record("pass", test.id())

    selected = unittest.TestSuite()
    for test in _iter_tests(suite):
        test_id = test.id()
        if test_id in done:
            continue
        if only is not None and not _matches(test_id, only):
            continue
        reason = _matches(test_id, skip)
        if reason:
            record("skip", test_id, "gevent: " + skip[reason])
            continue
        selected.addTest(test)
    if setup is not None:
        setup.prepare(list(_iter_tests(selected)))
    # Module fixtures (setUpModule/tearDownModule) are handled by the suite as usual.
    selected.run(Result())
    record("finished", module_name)
    out.close()
    sys.stdout.flush()
    os._exit(0)


def run(module_name: str, full: bool, per_test: float, budget: float,
        asyncio_loop: str | None = None) -> dict:
    sys.path.insert(0, HERE)
    try:
        import expected_asyncio
        import expected_threads
    finally:
        sys.path.remove(HERE)
    if asyncio_loop is None:
        skip = expected_threads.SKIP.get(module_name, {})
        known = expected_threads.known_failures(module_name)
        curated = expected_threads.CURATED
    else:
        skip = expected_asyncio.skipped(module_name, asyncio_loop)
        known = expected_asyncio.known_failures(module_name, asyncio_loop)
        curated = expected_asyncio.CURATED
    only = None if full else curated.get(module_name)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([os.path.join(ROOT, "src")] + [
        p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p])
    outcomes: dict[str, tuple[str, str]] = {}
    ours: set[str] = set()
    hung: list[str] = []
    finished = False
    deadline = time.monotonic() + budget
    with tempfile.TemporaryDirectory() as tmp:
        progress = os.path.join(tmp, "progress.jsonl")
        spec = os.path.join(tmp, "spec.json")
        while True:
            with open(spec, "w") as f:
                json.dump({"done": sorted(set(outcomes) | set(hung)), "skip": skip,
                           "only": only, "per_test": per_test,
                           "asyncio_loop": asyncio_loop}, f)
            open(progress, "w").close()
            command = [sys.executable, os.path.abspath(__file__), module_name,
                       "--child", progress, spec]
            try:
                subprocess.run(command, capture_output=True, text=True, env=env, cwd=ROOT,
                               timeout=max(deadline - time.monotonic(), 1))
            except subprocess.TimeoutExpired:
                pass
            finished = False
            current = None
            with open(progress) as f:
                for line in f:
                    kind, test_id, message = json.loads(line)
                    if kind == "start":
                        current = test_id
                    elif kind == "stop":
                        outcomes.setdefault(test_id, ("pass", ""))
                        current = None
                    elif kind == "ours":
                        ours.add(test_id)
                    elif kind == "finished":
                        finished = True
                    elif kind == "fail" and outcomes.get(test_id, ("",))[0] == "fail":
                        continue
                    else:
                        outcomes[test_id] = (kind, message)
            if finished or time.monotonic() > deadline:
                break
            if current is None:
                break  # died outside a test (import or module fixture)
            hung.append(current)
            outcomes.pop(current, None)
    failed = {t: m for t, (k, m) in outcomes.items() if k == "fail"}
    failed.update({t: "hung (cut off by the runner)" for t in hung})
    known_failed = {t: _matches(t, known) for t in failed if _matches(t, known)}
    summary = {
        "module": module_name,
        "python": sys.version.split()[0],
        "loop": "patch_all" if asyncio_loop is None else asyncio_loop,
        "subset": "full" if full else "curated",
        "complete": finished,
        "run": len(outcomes) + len(hung),
        "passed": sum(1 for k, _ in outcomes.values() if k in ("pass", "xfail")),
        "skipped": sum(1 for k, _ in outcomes.values() if k == "skip"),
        "failed": len(failed),
        "known": {t: known[p] for t, p in known_failed.items()},
        "unexpected": {t: m for t, m in failed.items() if t not in known_failed},
    }
    if asyncio_loop == "gevent":
        summary["passed_on_our_loop"] = sum(
            1 for t, (k, _) in outcomes.items() if k in ("pass", "xfail") and t in ours)
        by_class: dict[str, list[int]] = {}
        for test_id in outcomes:
            counts = by_class.setdefault(test_id.rsplit(".", 1)[0], [0, 0])
            counts[0] += 1
            counts[1] += test_id in ours
        summary["classes"] = {name: {"run": run, "on_our_loop": on_ours}
                              for name, (run, on_ours) in sorted(by_class.items())}
    return summary


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("module")
    parser.add_argument("--full", action="store_true")
    parser.add_argument("--per-test", type=float, default=30)
    parser.add_argument("--budget", type=float, default=1800)
    parser.add_argument("--json")
    parser.add_argument("--asyncio", choices=["stock", "gevent"],
                        help="an asyncio test module on asyncio's loop or gevent.asyncio's")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        progress, spec_path = args.child
        with open(spec_path) as f:
            spec = json.load(f)
        child(args.module, progress, set(spec["done"]), spec["skip"], spec["only"],
              spec["per_test"], spec["asyncio_loop"])
        return 0
    summary = run(args.module, args.full, args.per_test, args.budget, args.asyncio)
    print(json.dumps({k: v for k, v in summary.items()
                      if k not in ("known", "unexpected", "classes")}))
    for test_id, reason in sorted(summary["known"].items()):
        print(f"  known   {test_id}: {reason}")
    for test_id, message in sorted(summary["unexpected"].items()):
        print(f"  FAILED  {test_id}: {message}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(summary, f, indent=1)
    return 1 if summary["unexpected"] else 0


if __name__ == "__main__":
    sys.exit(main())
