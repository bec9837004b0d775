"""CPython's thread and networking tests after patch_all(): no failure without a known reason.

Every module runs whole except test_threading, of which the curated subset
(expected_threads.CURATED) runs by default; GEVENT_STDLIB_FULL=1 runs it whole too (minutes).
Counts and reasons are printed; full-run counts are kept in RESULTS_threads.md.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
FULL = os.environ.get("GEVENT_STDLIB_FULL") == "1"
MODULES = ["test_thread", "test_threading", "test_queue", "test_httplib",
           "test_urllib2_localnet", "test_socketserver", "test_wsgiref"]


@pytest.mark.parametrize("module", MODULES)
def test_stdlib_module(module, tmp_path):
    out = tmp_path / "summary.json"
    command = [sys.executable, str(HERE / "_runner_threads.py"), module, "--json", str(out),
               "--per-test", "20", "--budget", "1500" if FULL else "45"]
    if FULL:
        command.append("--full")
    proc = subprocess.run(command, capture_output=True, text=True,
                          timeout=1600 if FULL else 58)
    assert out.exists(), proc.stdout + proc.stderr
    summary = json.loads(out.read_text())
    print(proc.stdout)
    assert summary["run"] > 0 and summary["complete"], proc.stdout + proc.stderr[-3000:]
    assert not summary["unexpected"], proc.stdout
