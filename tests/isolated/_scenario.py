"""Run a scenario script in a fresh interpreter (monkey patching is process-wide).

A scenario passes when it exits 0 and its last line of output is ``OK``; its assertions do the
checking. The child gets ``src`` on ``PYTHONPATH`` so it imports this checkout's gevent.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCENARIOS = HERE / "scenarios"
SRC = HERE.parent.parent / "src"


def child_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ)
    extra = dict(extra or {})
    path = [str(SRC), str(SCENARIOS)]
    for more in (extra.pop("PYTHONPATH", None), env.get("PYTHONPATH")):
        if more:
            path.append(more)
    env["PYTHONPATH"] = os.pathsep.join(path)
    env.pop("GEVENT_MONITOR_THREAD_ENABLE", None)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env.update(extra)
    return env


def run_python(args: list[str], timeout: float = 45, env: dict[str, str] | None = None,
               cwd: str | Path | None = None,
               input: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], capture_output=True, text=True,
                          timeout=timeout, env=child_env(env), cwd=cwd, input=input)


def run_scenario(name: str, *args: str, timeout: float = 45,
                 env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Run ``scenarios/<name>.py``; fail with its output unless it printed OK and exited 0."""
    proc = run_python([str(SCENARIOS / f"{name}.py"), *args], timeout=timeout, env=env)
    lines = proc.stdout.strip().splitlines()
    assert proc.returncode == 0 and lines and lines[-1] == "OK", (
        f"scenario {name} failed (exit {proc.returncode})\n--- stdout\n{proc.stdout}"
        f"\n--- stderr\n{proc.stderr}"
    )
    return proc
