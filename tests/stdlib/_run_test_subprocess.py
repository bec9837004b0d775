"""Run CPython's own ``test.test_subprocess`` under ``gevent.monkey.patch_all()``.

Executed in a fresh interpreter by ``test_stdlib_subprocess.py``; prints one JSON object:
``{"outcomes": {test_id: "pass" | "fail" | "error" | "skip"}, "seconds": float}``.
"""

import json
import sys
import time

from gevent import monkey

monkey.patch_all()

import subprocess  # noqa: E402
import unittest  # noqa: E402

import test.test_subprocess as module  # noqa: E402

import gevent.subprocess  # noqa: E402

assert subprocess.Popen is gevent.subprocess.Popen, "patch_all did not patch subprocess"


class RecordingResult(unittest.TextTestResult):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.outcomes = {}

    def addSuccess(self, test):
        super().addSuccess(test)
        self.outcomes.setdefault(test.id(), "pass")

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self.outcomes[test.id()] = "fail"

    def addError(self, test, err):
        super().addError(test, err)
        self.outcomes[test.id()] = "error"

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        self.outcomes[test.id()] = "skip"

    def addExpectedFailure(self, test, err):
        super().addExpectedFailure(test, err)
        self.outcomes[test.id()] = "pass"

    def addUnexpectedSuccess(self, test):
        super().addUnexpectedSuccess(test)
        self.outcomes[test.id()] = "fail"

    def addSubTest(self, test, subtest, err):
        super().addSubTest(test, subtest, err)
        if err is not None:
            self.outcomes[test.id()] = "fail"


def main() -> None:
    suite = unittest.defaultTestLoader.loadTestsFromModule(module)
    runner = unittest.TextTestRunner(stream=sys.stderr, verbosity=1,
                                     resultclass=RecordingResult)
    start = time.monotonic()
    result = runner.run(suite)
    print(json.dumps({"outcomes": result.outcomes, "seconds": time.monotonic() - start}))


if __name__ == "__main__":
    main()
