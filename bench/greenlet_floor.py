"""What spawn + join can cost at the least, on this Python and this greenlet (issue 13).

Runs ``workloads/spawn_joinall.py`` on the reference gevent 26.9.0 and on ours, and beside them
the same work done by bare greenlets with no gevent at all: one ``greenlet`` per task, switched
into once from a driver loop and run to its end. Nothing written in Python can spawn, run and
join a greenlet for less than that floor, so ``reference / floor`` is the best ratio any
pure-Python gevent can reach on ``spawn_joinall_100k``.

On CPython 3.11 and later every new greenlet gets a frame stack of its own, which CPython
allocates with ``mmap`` and frees with ``munmap`` when the greenlet ends (``strace -c``: one of
each per greenlet, on gevent and on ours alike); on 3.10 there is no such stack and the floor is
about a tenth. Usage (from the checkout; the reference virtualenv is ``make bench``'s)::

    .venv/bin/python bench/greenlet_floor.py [--rounds 5]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
FLOOR = r"""
import json, time
from greenlet import getcurrent, greenlet
N = 100_000
def work(index):
    return index
def run(count):
    main = getcurrent()
    start = time.perf_counter()
    glets = [greenlet(work, main) for _ in range(count)]
    for index, glet in enumerate(glets):
        glet.switch(index)
    return time.perf_counter() - start
run(1000)
print(json.dumps({"us_per_greenlet": run(N) / N * 1e6}))
"""


def _one(python: str, args: list[str], env: dict) -> float:
    out = subprocess.run([python, *args], env=env, capture_output=True, text=True, check=True,
                         cwd=HERE / "workloads", timeout=600).stdout  # fmt: skip
    return json.loads(out.strip().splitlines()[-1])["us_per_greenlet"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    rounds = parser.parse_args().rounds
    ours_py = sys.executable
    ref_py = str(ROOT / ".bench" / "ref" / "bin" / "python")
    env = dict(os.environ, BENCH_SCALE="1")
    ours_env = dict(env, BENCH_IMPL="ours", PYTHONPATH=str(ROOT / "src"))
    ref_env = dict(env, BENCH_IMPL="ref")
    runs: dict[str, list[float]] = {"floor": [], "ours": [], "reference": []}
    for _ in range(rounds):  # interleaved, so that the machine's load falls on all three
        runs["floor"].append(_one(ours_py, ["-c", FLOOR], env))
        runs["ours"].append(_one(ours_py, ["spawn_joinall.py"], ours_env))
        runs["reference"].append(_one(ref_py, ["spawn_joinall.py"], ref_env))
    med = {name: statistics.median(values) for name, values in runs.items()}
    print(f"python {sys.version.split()[0]}, {rounds} rounds, microseconds per greenlet (median)")
    for name in ("floor", "ours", "reference"):
        print(f"  {name:10s} {med[name]:7.2f}")
    print(f"ours vs reference:           {med['reference'] / med['ours']:.2f}x")
    print(f"best possible (ref / floor): {med['reference'] / med['floor']:.2f}x")
    print(f"ours above the floor:        {med['ours'] - med['floor']:.2f} us per greenlet")


if __name__ == "__main__":
    main()
