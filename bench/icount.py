"""CPU instructions per operation of one workload, per implementation (cachegrind).

Wall-clock ratios on a shared machine move by 10-15 % between identical runs; the number of
instructions a workload executes does not. This runs one workload script under
``valgrind --tool=cachegrind`` at two sizes for each implementation and prints the difference
divided by the difference in operations, so start-up and imports cancel out. Kernel time (the
system calls themselves) is not counted: compare system calls with ``strace -c``.

Usage (from the checkout; ``--ops`` is the workload's operation count at ``BENCH_SCALE=1``)::

    .venv/bin/python bench/icount.py aio_echo.py protocol --ops 100000 --impl ours --impl asyncio
    .venv/bin/python bench/icount.py timeout_cancel.py --ops 300000 --impl ours --impl ref

Implementations: ``ours`` (this checkout's src, our python), ``ref`` (gevent 26.9.0 in
``.bench/ref``), ``asyncio`` (the stock loop, our python, for the ``aio_*`` scripts). Sizes:
``--scales 0.02 0.06`` by default (valgrind runs programs about 50 times slower).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
_REFS = re.compile(r"I\s+refs:\s+([\d,]+)")


def _instructions(python: str, env: dict, argv: list[str]) -> int:
    proc = subprocess.run(
        ["valgrind", "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null",
         python, *argv],
        env=env, cwd=HERE / "workloads", capture_output=True, text=True, timeout=1800,
    )  # fmt: skip
    found = _REFS.search(proc.stderr)
    if proc.returncode or found is None:
        raise SystemExit(f"icount: {argv[0]} failed under valgrind:\n{proc.stderr[-2000:]}")
    return int(found.group(1).replace(",", ""))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("script", help="a file in bench/workloads")
    parser.add_argument("args", nargs="*", help="the script's own arguments")
    parser.add_argument("--ops", type=int, required=True,
                        help="operations the workload times at BENCH_SCALE=1")  # fmt: skip
    parser.add_argument("--impl", action="append", choices=("ours", "ref", "asyncio"))
    parser.add_argument("--scales", nargs=2, type=float, default=(0.02, 0.06))
    opts = parser.parse_args()
    if shutil.which("valgrind") is None:
        raise SystemExit("icount: valgrind is not installed (apt-get install valgrind)")
    small, large = opts.scales
    ops = int(opts.ops * large) - int(opts.ops * small)
    for impl in opts.impl or ["ours", "ref"]:
        env = dict(os.environ, BENCH_IMPL=impl)
        python = sys.executable
        if impl == "ref":
            python = str(ROOT / ".bench" / "ref" / "bin" / "python")
        else:
            env["PYTHONPATH"] = str(ROOT / "src")
        counts = []
        for scale in (small, large):
            env["BENCH_SCALE"] = str(scale)
            counts.append(_instructions(python, env, [opts.script, *opts.args]))
        print(f"{impl:8s} {(counts[1] - counts[0]) / ops:10,.0f} instructions per operation")


if __name__ == "__main__":
    main()
