"""CPython's own network test modules, run against gevent's modules in fresh interpreters.

Failures must be listed, with a reason, in ``expected_failures.py``. ``test_socket`` takes
minutes: it runs only with ``GEVENT_STDLIB_SLOW=1``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
SLOW = os.environ.get("GEVENT_STDLIB_SLOW") == "1"


@pytest.mark.parametrize("module,timeout", [
    ("test_select", 120),
    ("test_selectors", 120),
    ("test_ssl", 240),
    pytest.param("test_socket", 900, marks=pytest.mark.skipif(
        not SLOW, reason="takes minutes: set GEVENT_STDLIB_SLOW=1")),
])
@pytest.mark.timeout(1000)
def test_stdlib_module(module, timeout, tmp_path):
    report = tmp_path / "report.json"
    result = subprocess.run(
        [sys.executable, os.path.join(HERE, "run_stdlib.py"), module, "--timeout", str(timeout),
         "--json", str(report)],
        capture_output=True, text=True, timeout=timeout + 60,
    )
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-3000:]
    summary = json.loads(report.read_text())
    assert summary["failed_unexpected"] == 0
    assert summary["passed"] > 0
