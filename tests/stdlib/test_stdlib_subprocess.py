"""CPython's ``test_subprocess`` passes against gevent.subprocess under ``patch_all()``.

Runs the suite of the running Python through ``run_stdlib.py`` in a fresh interpreter; the
tests that do not pass are listed, each with its reason, under ``"test_subprocess"`` in
``expected_failures.py``. On CPython 3.11 (Linux): 289 passed, 39 skipped, 3 known failures.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))

#: A floor, so that a mass of newly skipped tests cannot hide a breakage.
MIN_PASSED = 250


@pytest.mark.timeout(600)
def test_cpython_test_subprocess(tmp_path):
    pytest.importorskip("test.test_subprocess")
    summary_file = tmp_path / "summary.json"
    proc = subprocess.run(
        [sys.executable, os.path.join(HERE, "run_stdlib.py"), "test_subprocess",
         "--mode", "monkey", "--timeout", "500", "--json", str(summary_file)],
        capture_output=True, text=True, timeout=540)
    assert proc.returncode == 0, proc.stdout[-8000:] + proc.stderr[-3000:]
    summary = json.loads(summary_file.read_text())
    assert summary["failed_unexpected"] == 0, proc.stdout
    assert summary["passed"] >= MIN_PASSED, proc.stdout
