"""CPython's asyncio tests on gevent.asyncio's loop: no failure without a known reason.

Each module of expected_asyncio.MODULES runs in fresh interpreters with gevent.asyncio's
EventLoopPolicy installed (see _asyncio_setup.py). Unless GEVENT_STDLIB_FULL=1, the modules
with an entry in expected_asyncio.CURATED run only that subset and those in FULL_ONLY do not
run (under a minute in all; the full run takes about 4 minutes). Full-run counts,
beside stock asyncio's, are in RESULTS_asyncio.md.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
FULL = os.environ.get("GEVENT_STDLIB_FULL") == "1"
sys.path.insert(0, str(HERE))
from expected_asyncio import FULL_ONLY, MODULES  # noqa: E402

sys.path.remove(str(HERE))


def _run(module: str, loop: str, tmp_path: Path, full: bool) -> tuple[dict, str]:
    out = tmp_path / "summary.json"
    command = [sys.executable, str(HERE / "_runner_threads.py"), f"test_asyncio.{module}",
               "--asyncio", loop, "--json", str(out), "--per-test", "20",
               "--budget", "900" if full else "45"]
    if full:
        command.append("--full")
    proc = subprocess.run(command, capture_output=True, text=True,
                          timeout=1000 if full else 58)
    assert out.exists(), proc.stdout + proc.stderr[-3000:]
    return json.loads(out.read_text()), proc.stdout + proc.stderr[-3000:]


def test_runner_on_stock_asyncio(tmp_path):
    """The harness itself, on asyncio's own loop: every test of a small module passes."""
    summary, output = _run("test_queues", "stock", tmp_path, full=True)
    assert summary["complete"] and summary["run"] == summary["passed"] > 40, output


@pytest.mark.parametrize("module", MODULES)
def test_asyncio_module_on_gevent_loop(module, tmp_path):
    if module in FULL_ONLY and not FULL:
        pytest.skip(f"GEVENT_STDLIB_FULL=1 runs it: {FULL_ONLY[module]}")
    if importlib.util.find_spec(f"test.test_asyncio.{module}") is None:
        pytest.skip(f"this Python's test package has no test_asyncio.{module} (3.11+)")
    pytest.importorskip("gevent.asyncio", reason="gevent.asyncio is not in this tree yet")
    summary, output = _run(module, "gevent", tmp_path, FULL)
    print(output)
    assert summary["run"] > 0 and summary["complete"], output
    assert not summary["unexpected"], output
