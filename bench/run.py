"""Benchmarks: our gevent beside the reference gevent 26.9.0, workload by workload.

Run by ``make bench`` (``.venv/bin/python bench/run.py``). Options: ``--only NAME`` (a
workload name, a shell pattern such as ``'wsgi_*'`` or an issue such as ``issue3``;
repeatable), ``--rounds N``, ``--quick`` (sizes shrunk 10x, a smoke run), ``--no-uvicorn``.

Each workload is a script in ``bench/workloads/`` that uses only the public gevent API and
prints one JSON line of metrics. For every workload the runner runs the same script, in a
fresh process per run, alternately on ours (``.venv/bin/python`` with ``src`` first on the
path) and on the reference (``.bench/ref``, a virtualenv created here with
``gevent==26.9.0`` from PyPI), for several rounds, and reports medians. The ratio is written
so that above 1 means ours is better: reference/ours for times and memory, ours/reference
for rates. Extra columns, from the ``.bench/asyncio`` virtualenv (uvicorn, httptools,
uvloop): stock asyncio and uvloop running the same workload in asyncio's idiom (issue 13,
with their ratios to the reference), and uvicorn for the HTTP workloads. The issue 12 rows
run asyncio code on three loops: ours (``gevent.asyncio.run``), stock asyncio and uvloop;
their ratio is ours against stock asyncio. A workload that fails on one side shows
``error`` with the first line of the error, and the run goes on. Results also go to
``.bench/results.json``.
"""

from __future__ import annotations

import argparse
import datetime
import fnmatch
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WORKLOADS_DIR = os.path.join(ROOT, "bench", "workloads")
BENCH_DIR = os.path.join(ROOT, ".bench")
REF_VENV = os.path.join(BENCH_DIR, "ref")
# Stock asyncio, uvloop and uvicorn share one virtualenv (its python runs all three).
ASYNCIO_VENV = os.path.join(BENCH_DIR, "asyncio")
RESULTS_FILE = os.path.join(BENCH_DIR, "results.json")
REFERENCE_REQUIREMENT = "gevent==26.9.0"
ASYNCIO_REQUIREMENTS = ["uvicorn", "httptools", "uvloop"]
# What the gevent-side workloads need beyond gevent (pyproject.toml's ``bench`` extra):
# installed into our python and the reference's when a selected workload needs it.
BENCH_REQUIREMENTS = ["httptools"]
RUN_TIMEOUT = 120.0
DEFAULT_ROUNDS = 5
HTTP_ROUNDS = 3  # each HTTP run is already a few seconds of wrk load
IMPLEMENTATIONS = ("ours", "ref", "asyncio", "uvloop", "uvicorn")
ASYNCIO_SIDES = ("asyncio", "uvloop")


@dataclass(frozen=True)
class Metric:
    key: str  # the key in the workload's JSON line
    label: str  # suffix of the table row when a workload has several metrics
    unit: str  # unit shown in the table
    higher_is_better: bool
    target: float | None  # ratio the issue asks for; None: shown for information
    display_factor: float = 1.0  # shown value = measured value * display_factor
    # A later issue's target for the same row, as (issue, ratio): shown beside the first.
    later_target: tuple[int, float] | None = None
    # An absolute goal on our own value (information rows): ours must be at most this.
    at_most: float | None = None


@dataclass(frozen=True)
class Workload:
    name: str
    issue: int
    script: str
    metrics: tuple[Metric, ...]
    args: tuple[str, ...] = ()
    uvicorn_script: str | None = None  # HTTP workloads: the same load against uvicorn
    # The same workload in asyncio's idiom, run on stock asyncio and on uvloop (issue 13).
    asyncio_script: str | None = None
    asyncio_args: tuple[str, ...] = ()
    # Issue 12: *script* is asyncio code, run on ours (gevent.asyncio.run), stock asyncio and
    # uvloop; no reference gevent column, and the ratio is ours against stock asyncio.
    asyncio_code: bool = False
    http: bool = False  # loaded by wrk: fewer rounds by default
    bench_extra: bool = False  # ours and the reference need BENCH_REQUIREMENTS (httptools)

    @property
    def baseline(self) -> str:
        return "asyncio" if self.asyncio_code else "ref"

    @property
    def issues(self) -> tuple[int, ...]:
        later = [m.later_target[0] for m in self.metrics if m.later_target is not None]
        return (self.issue, *sorted(set(later) - {self.issue}))

    def sides(self, no_asyncio: bool = False, no_uvicorn: bool = False) -> list[str]:
        """The implementations this workload runs on, ours first."""
        if self.asyncio_code:
            return ["ours"] if no_asyncio else ["ours", *ASYNCIO_SIDES]
        sides = ["ours", "ref"]
        if self.asyncio_script and not no_asyncio:
            sides += ASYNCIO_SIDES
        if self.uvicorn_script and not no_uvicorn:
            sides.append("uvicorn")
        return sides

    def command(self, implementation: str) -> list[str]:
        """The script and its arguments for *implementation*."""
        if implementation == "uvicorn":
            assert self.uvicorn_script is not None
            return [self.uvicorn_script, *self.args]
        if implementation in ASYNCIO_SIDES and not self.asyncio_code:
            assert self.asyncio_script is not None
            return [self.asyncio_script, *self.asyncio_args]
        return [self.script, *self.args]


def _time(key: str, unit: str, target: float | None, label: str = "") -> Metric:
    return Metric(key, label, unit, False, target)


def _rate(key: str, unit: str, target: float) -> Metric:
    return Metric(key, "", unit, True, target)


def _memory(key: str, target: float) -> Metric:
    return Metric(key, "", "KiB", False, target, display_factor=1 / 1024)


def _http(name: str, mode: str, *metrics: Metric, issue: int = 6) -> Workload:
    return Workload(
        name, issue, "wsgi_server.py", metrics, (mode,), uvicorn_script="asgi_server.py",
        http=True,
    )  # fmt: skip


def _wrk(name: str, mode: str, target: float) -> Workload:
    """A workload loaded by wrk: requests per second (the issue's metric, with its target),
    and for information the server process's CPU time per request: what the server itself
    costs, which req/s stops showing once the single wrk thread saturates first (1 MiB
    uploads on two cores)."""
    return _http(
        name, mode, _rate("req_per_s", "req/s", target),
        _time("server_cpu_us_per_req", "us", None, "server_cpu"),
    )  # fmt: skip


def _minimal_http(name: str, mode: str, target: float) -> Workload:
    """Issue 13: the minimal httptools server on StreamServer (ours, reference) and on
    asyncio protocols (stock asyncio, uvloop), loaded by wrk like the WSGI rows."""
    metrics = (
        _rate("req_per_s", "req/s", target),
        _time("server_cpu_us_per_req", "us", None, "server_cpu"),
    )
    return Workload(
        name, 13, "stream_http.py", metrics, (mode,), asyncio_script="aio_http.py",
        asyncio_args=(mode,), http=True, bench_extra=True,
    )  # fmt: skip


def _latency(name: str, mode: str, p99_at_most: float | None, timeouts: bool) -> Workload:
    """Issue 13: tail latency of pywsgi (and uvicorn) under wrk --latency, keep-alive.
    Information rows: the goal is on our own figures (p99, timeouts), not on a ratio."""
    metrics = [
        _time("p50_ms", "ms", None, "p50"),
        Metric("p99_ms", "p99", "ms", False, None, at_most=p99_at_most),
    ]
    if timeouts:
        metrics.append(Metric("wrk_timeouts", "timeouts", "count", False, None, at_most=0))
    return _http(name, mode, *metrics, issue=13)


def _on_asyncio(name: str, script: str, metric: Metric, *args: str) -> Workload:
    """Issue 12: asyncio code on ours (gevent.asyncio.run), stock asyncio and uvloop."""
    return Workload(name, 12, script, (metric,), args, asyncio_code=True)


WORKLOADS: tuple[Workload, ...] = (
    # Issue 2: core runtime.
    Workload("sleep0_pingpong", 2, "sleep0_pingpong.py", (_time("us_per_sleep0", "us", 1.3),)),
    Workload(
        "spawn_joinall_100k",
        2,
        "spawn_joinall.py",
        (Metric("us_per_greenlet", "", "us", False, 1.3, later_target=(13, 2.2)),),
        asyncio_script="aio_spawn_join.py",
    ),
    Workload(
        "sleep_random_100k",
        2,
        "sleep_random.py",
        (_time("wall_s", "s", 1.0, "wall"), _time("lateness_ms", "ms", 1.0, "lateness")),
    ),
    Workload("timeout_start_cancel", 2, "timeout_cancel.py", (_time("us_per_timeout", "us", 1.0),)),
    Workload("greenlet_memory", 2, "greenlet_memory.py", (_memory("bytes_per_greenlet", 1.0),)),
    # Issue 3: primitives.
    Workload("queue_unbounded_1M", 3, "queue_transfer.py", (_time("us_per_item", "us", 1.0),)),
    Workload(
        "queue_bounded100_1M", 3, "queue_transfer.py", (_time("us_per_item", "us", 1.0),), ("100",)
    ),
    Workload("event_pingpong", 3, "event_pingpong.py", (_time("us_per_round_trip", "us", 1.3),)),
    Workload(
        "semaphore_contended_100",
        3,
        "semaphore_contended.py",
        (_time("us_per_acquire", "us", 1.0),),
    ),
    Workload("threadpool_apply_10k", 3, "threadpool_apply.py", (_time("us_per_call", "us", 1.0),)),
    # Issue 4: cooperative I/O.
    Workload(
        "echo_100x1000",
        4,
        "echo_server.py",
        (Metric("us_per_round_trip", "", "us", False, 1.0, later_target=(13, 1.3)),),
        asyncio_script="aio_echo.py",  # the protocol idiom: asyncio's faster one
        asyncio_args=("protocol",),
    ),
    Workload("tcp_1gib", 4, "bulk_transfer.py", (_rate("mib_per_s", "MiB/s", 1.0),)),
    Workload("tls_1gib", 4, "bulk_transfer.py", (_rate("mib_per_s", "MiB/s", 1.0),), ("tls",)),
    Workload("getaddrinfo_2k", 4, "getaddrinfo_localhost.py", (_time("us_per_call", "us", 1.0),)),
    # Issue 6: servers, loaded by wrk from another process (uvicorn as an extra column).
    _wrk("wsgi_hello_keepalive", "hello_keepalive", 3.0),
    _wrk("wsgi_hello_close", "hello_close", 1.5),
    _wrk("wsgi_1mib_response", "big_response", 1.5),
    _wrk("wsgi_1mib_post", "big_post", 1.5),
    _http("wsgi_idle_10k", "idle", _memory("bytes_per_connection", 1.5)),
    # Issue 12: asyncio code on our loop (gevent.asyncio) beside stock asyncio and uvloop.
    _on_asyncio(
        "asyncio_sleep0_pingpong", "aio_sleep0_pingpong.py", _time("us_per_sleep0", "us", 1.0)
    ),
    _on_asyncio("asyncio_call_soon_1M", "aio_call_soon.py", _time("us_per_callback", "us", 1.0)),
    _on_asyncio(
        "asyncio_echo_streams_100", "aio_echo.py", _time("us_per_round_trip", "us", 1.0), "streams"
    ),
    _on_asyncio(
        "asyncio_echo_protocol_100",
        "aio_echo.py",
        _time("us_per_round_trip", "us", 1.0),
        "protocol",
    ),
    # Issue 13: where the time goes against asyncio and uvloop (see also the rows above
    # with a "#13" target: spawn_joinall_100k and echo_100x1000).
    _minimal_http("minimal_http_keepalive", "minimal_keepalive", 1.3),
    _minimal_http("minimal_http_close", "minimal_close", 1.1),
    _latency("wsgi_latency_c50", "latency_c50", p99_at_most=10.0, timeouts=False),
    _latency("wsgi_latency_c1000", "latency_c1000", p99_at_most=None, timeouts=True),
)


@dataclass
class Outcome:
    """What one implementation did on one workload over all rounds."""

    runs: list[dict] = field(default_factory=list)
    error: str | None = None
    seconds: list[float] = field(default_factory=list)

    def median(self, key: str) -> float | None:
        values = [run[key] for run in self.runs if key in run]
        if self.error is not None or not values:
            return None
        return statistics.median(values)


# --- environments ------------------------------------------------------------------------


def _log(message: str) -> None:
    sys.stderr.write(message + "\n")
    sys.stderr.flush()


def _venv_python(venv: str) -> str:
    return os.path.join(venv, "bin", "python")


def _our_python() -> str:
    candidate = _venv_python(os.path.join(ROOT, ".venv"))
    return candidate if os.path.exists(candidate) else sys.executable


def _create_venv(venv: str, requirements: list[str], probe: str) -> str:
    """Make *venv* with *requirements* unless *probe* already succeeds in it.

    Returns the venv's python, or raises ``RuntimeError`` with pip's last words.
    """
    python = _venv_python(venv)
    env = _run_env("ref", 1.0)  # no PYTHONPATH: probe what the venv itself has
    if os.path.exists(python) and _probe(python, probe, env) is not None:
        return python
    _log(f"bench: installing {' '.join(requirements)} into {os.path.relpath(venv, ROOT)} ...")
    # Built from the interpreter running us, so every side runs the same CPython.
    if not os.path.exists(python):
        subprocess.run([sys.executable, "-m", "venv", venv], check=True)
    completed = subprocess.run(
        [python, "-m", "pip", "install", "-q", *requirements], capture_output=True, text=True
    )
    if completed.returncode != 0 or _probe(python, probe, env) is None:
        lines = (completed.stderr or completed.stdout or "pip failed").strip().splitlines()
        raise RuntimeError(lines[-1] if lines else "pip failed")
    return python


def _probe(python: str, code: str, env: dict[str, str] | None = None) -> str | None:
    try:
        completed = subprocess.run(
            [python, "-c", code], capture_output=True, text=True, timeout=60, env=env
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return completed.stdout.strip() if completed.returncode == 0 else None


def _ensure_requirements(python: str, requirements: list[str], env: dict[str, str]) -> None:
    """pip-install *requirements* into *python* unless they all import already; a failure
    is logged, and the workloads that need them show the import error."""
    probe = "import " + ", ".join(requirements)
    if _probe(python, probe, env) is not None:
        return
    _log(f"bench: installing {' '.join(requirements)} for {python} ...")
    completed = subprocess.run(
        [python, "-m", "pip", "install", "-q", *requirements], capture_output=True, text=True
    )
    if completed.returncode != 0:
        lines = (completed.stderr or completed.stdout or "pip failed").strip().splitlines()
        _log(f"bench: could not install {' '.join(requirements)}: {lines[-1] if lines else ''}")


def _ensure_wrk() -> str | None:
    """The path of ``wrk``, installing Debian's package when we can; None if unavailable."""
    wrk = shutil.which("wrk")
    if wrk or not shutil.which("apt-get") or os.geteuid() != 0:
        return wrk
    _log("bench: installing wrk (apt-get) ...")
    for command in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "wrk"]):
        subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return shutil.which("wrk")


def _run_env(implementation: str, scale: float) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    env.update(BENCH_IMPL=implementation, BENCH_SCALE=str(scale), BENCH_DIR=BENCH_DIR)
    if implementation == "ours":
        env["PYTHONPATH"] = os.path.join(ROOT, "src")
    return env


# --- running -----------------------------------------------------------------------------


def _first_error_line(stderr: str, returncode: int) -> str:
    """The line that names the error: the last line of a traceback, or what was printed."""
    lines = [line.strip() for line in stderr.strip().splitlines() if line.strip()]
    if not lines:
        return f"exit status {returncode}"
    if any(line.startswith("Traceback") for line in lines):
        return lines[-1]
    return lines[0]


def _run_once(python: str, workload: Workload, implementation: str, scale: float) -> dict:
    """One fresh process; returns its metrics or raises ``RuntimeError`` with the error."""
    script, *script_args = workload.command(implementation)
    command = [python, os.path.join(WORKLOADS_DIR, script), *script_args]
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        env=_run_env(implementation, scale),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group: helpers it starts die with it
    )
    try:
        stdout, stderr = process.communicate(timeout=RUN_TIMEOUT)
    except subprocess.TimeoutExpired:
        _kill_group(process.pid)
        process.communicate()
        raise RuntimeError(f"timed out after {RUN_TIMEOUT:.0f} s") from None
    finally:
        _kill_group(process.pid)
    if process.returncode != 0:
        raise RuntimeError(_first_error_line(stderr, process.returncode))
    lines = stdout.strip().splitlines()
    try:
        metrics = json.loads(lines[-1])
    except (IndexError, ValueError):
        raise RuntimeError("no JSON line in the output: " + stdout.strip()[-200:]) from None
    missing = [metric.key for metric in workload.metrics if metric.key not in metrics]
    if missing:
        raise RuntimeError(f"metrics missing from the output: {', '.join(missing)}")
    return metrics


def _kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass  # the group is already gone


def _format_value(value: float | None, metric: Metric) -> str:
    if value is None:
        return "error"
    shown = value * metric.display_factor
    if shown >= 100:
        return f"{shown:,.0f}"
    if shown >= 10:
        return f"{shown:.1f}"
    return f"{shown:.3g}"


def _ratio(ours: float | None, other: float | None, metric: Metric) -> float | None:
    if ours is None or other is None or ours <= 0 or other <= 0:
        return None
    return ours / other if metric.higher_is_better else other / ours


def _progress(workload: Workload, implementation: str, outcome: Outcome) -> None:
    if outcome.error is not None:
        _log(f"  {workload.name:24} {implementation:8} error: {outcome.error}")
        return
    last = outcome.runs[-1]
    shown = ", ".join(
        f"{_format_value(last[metric.key], metric)} {metric.unit}" for metric in workload.metrics
    )
    if last.get("wrk_errors"):
        shown += f" [{last['wrk_errors']} wrk errors]"
    _log(f"  {workload.name:24} {implementation:8} {shown}  ({outcome.seconds[-1]:.1f} s)")


def run_workload(
    workload: Workload, pythons: dict[str, str | None], setup_errors: dict[str, str], args
) -> dict[str, Outcome]:
    sides = workload.sides(args.no_asyncio, args.no_uvicorn)
    outcomes = {side: Outcome() for side in sides}
    for side in sides:
        if pythons.get(side) is None:
            outcomes[side].error = setup_errors.get(side, "not available")
    rounds = args.rounds or (HTTP_ROUNDS if workload.http else DEFAULT_ROUNDS)
    for round_index in range(rounds):
        # Rotate who goes first, so no side always runs on a warmer machine.
        shift = round_index % len(sides)
        order = sides[shift:] + sides[:shift]
        for side in order:
            outcome = outcomes[side]
            if outcome.error is not None:
                continue
            started = time.monotonic()
            try:
                metrics = _run_once(pythons[side], workload, side, args.scale)
            except (RuntimeError, OSError) as error:
                outcome.error = str(error) or type(error).__name__
            else:
                outcome.runs.append(metrics)
                outcome.seconds.append(time.monotonic() - started)
            _progress(workload, side, outcome)
    return outcomes


# --- report ------------------------------------------------------------------------------


def _rows(workload: Workload, outcomes: dict[str, Outcome]) -> list[dict]:
    """One JSON row per metric. ``ratio`` is ours against the baseline (``ref``, or
    ``asyncio`` for the issue 12 rows); ``ratio_asyncio`` / ``ratio_uvloop`` are those
    columns against the same baseline; ``ratio_vs_uvicorn`` is ours against uvicorn."""
    rows = []
    baseline = workload.baseline
    for metric in workload.metrics:
        name = f"{workload.name}.{metric.label}" if metric.label else workload.name
        ours = outcomes["ours"].median(metric.key)
        base = outcomes[baseline].median(metric.key) if baseline in outcomes else None
        ratio = _ratio(ours, base, metric)
        row = {
            "workload": name,
            "issue": workload.issue,
            "metric": metric.key,
            "unit": metric.unit,
            "display_factor": metric.display_factor,
            "higher_is_better": metric.higher_is_better,
            "baseline": baseline,
            "target": metric.target,
            "ratio": ratio,
            "target_met": None if ratio is None or metric.target is None
            else ratio >= metric.target,
        }  # fmt: skip
        if metric.later_target is not None:
            issue, target = metric.later_target
            row["later_target"] = {
                "issue": issue,
                "target": target,
                "target_met": None if ratio is None else ratio >= target,
            }
        if metric.at_most is not None:
            row["at_most"] = metric.at_most
            row["at_most_met"] = None if ours is None else ours <= metric.at_most
        for side, outcome in outcomes.items():
            row[side] = {
                "median": outcome.median(metric.key),
                "runs": [run.get(metric.key) for run in outcome.runs],
                "error": outcome.error,
            }
        for side in ASYNCIO_SIDES:
            if side in outcomes and side != baseline:
                row[f"ratio_{side}"] = _ratio(outcomes[side].median(metric.key), base, metric)
        if "uvicorn" in outcomes:
            row["ratio_vs_uvicorn"] = _ratio(ours, outcomes["uvicorn"].median(metric.key), metric)
        rows.append(row)
    return rows


def _target_cells(row: dict) -> tuple[str, str]:
    """The target column and the verdict column of a row."""
    targets, verdicts = [], []

    def verdict(met: bool | None) -> str:
        return "" if met is None else ("ok" if met else "BELOW")

    if row["target"] is not None:
        targets.append(f">={row['target']:g}")
        verdicts.append(verdict(row["target_met"]))
    later = row.get("later_target")
    if later is not None:
        targets.append(f"#{later['issue']}: >={later['target']:g}")
        verdicts.append(verdict(later["target_met"]))
    if row.get("at_most") is not None:
        targets.append(f"ours<={row['at_most']:g}")
        verdicts.append(verdict(row["at_most_met"]))
    if not targets:
        return "-", ""
    return ", ".join(targets), ", ".join(v for v in verdicts if v)


def print_table(rows: list[dict]) -> None:
    with_asyncio = any(side in row for row in rows for side in ASYNCIO_SIDES)
    with_uvicorn = any("uvicorn" in row for row in rows)
    header = ["workload", "unit", "ours", "reference", "ratio", "target", ""]
    if with_asyncio:
        header += ["asyncio", "x", "uvloop", "x"]
    if with_uvicorn:
        header += ["uvicorn", "vs uvicorn"]
    table = [header]
    errors: dict[tuple[str, str], str] = {}

    def ratio_cell(value: float | None) -> str:
        return "-" if value is None else f"{value:.2f}"

    for row in rows:
        metric = Metric(
            row["metric"], "", row["unit"], row["higher_is_better"], row["target"],
            row["display_factor"],
        )  # fmt: skip
        on_asyncio = row.get("baseline") == "asyncio"
        target, verdict = _target_cells(row)
        line = [
            row["workload"],
            row["unit"] + (" ^" if row["higher_is_better"] else ""),
            _format_value(row["ours"]["median"], metric),
            _format_value(row["ref"]["median"], metric) if "ref" in row else "-",
            ratio_cell(row["ratio"]) + ("*" if on_asyncio and row["ratio"] is not None else ""),
            target,
            verdict,
        ]
        if with_asyncio:
            for side in ASYNCIO_SIDES:
                if side in row:
                    line += [
                        _format_value(row[side]["median"], metric),
                        ratio_cell(row.get(f"ratio_{side}"))
                        + ("*" if on_asyncio and row.get(f"ratio_{side}") is not None else ""),
                    ]
                else:
                    line += ["", ""]
        if with_uvicorn:
            if "uvicorn" in row:
                line += [
                    _format_value(row["uvicorn"]["median"], metric),
                    ratio_cell(row["ratio_vs_uvicorn"]),
                ]
            else:
                line += ["", ""]
        table.append(line)
        for side in IMPLEMENTATIONS:
            error = row.get(side, {}).get("error")
            if error:
                errors.setdefault((row["workload"].split(".")[0], side), error)
    widths = [max(len(line[column]) for line in table) for column in range(len(header))]
    print()
    for index, line in enumerate(table):
        cells = [
            cell.ljust(width) if column < 2 else cell.rjust(width)
            for column, (cell, width) in enumerate(zip(line, widths, strict=True))
        ]
        print("  ".join(cells).rstrip())
        if index == 0:
            print("  ".join("-" * width for width in widths))
    print("\nratio > 1: ours is better (time and memory: reference/ours; ^ rates: ours/reference)")
    if with_asyncio:
        print("x: that column against the reference gevent, the same way (> 1: faster than it)")
    if any(row.get("baseline") == "asyncio" for row in rows):
        print("*: issue 12 rows (asyncio code on our loop): ratios against stock asyncio")
    if errors:
        print("\nerrors:")
        for (name, side), error in errors.items():
            print(f"  {name} [{side}]: {error}")
    measured = [row for row in rows if row["ratio"] is not None and row["target"] is not None]
    met = sum(1 for row in measured if row["target_met"])
    print(f"\ntargets met: {met} of {len(measured)} measured with a target ({len(rows)} metrics)")
    later = [row["later_target"] for row in rows if "later_target" in row]
    later = [entry for entry in later if entry["target_met"] is not None]
    for issue in sorted({entry["issue"] for entry in later}):
        of_issue = [entry for entry in later if entry["issue"] == issue]
        met = sum(1 for entry in of_issue if entry["target_met"])
        print(f"issue {issue}'s targets on earlier rows: {met} of {len(of_issue)} met")
    goals = [row["at_most_met"] for row in rows if row.get("at_most_met") is not None]
    if goals:
        print(f"goals on our own figures (ours<=): {sum(goals)} of {len(goals)} met")


# --- main --------------------------------------------------------------------------------


def _select(patterns: list[str] | None) -> list[Workload]:
    if not patterns:
        return list(WORKLOADS)
    chosen = []
    for workload in WORKLOADS:
        for pattern in patterns:
            for part in pattern.split(","):
                scripts = (workload.script, workload.asyncio_script, workload.uvicorn_script)
                if (
                    fnmatch.fnmatch(workload.name, part)
                    or part in {f"issue{issue}" for issue in workload.issues}
                    or part in {script.removesuffix(".py") for script in scripts if script}
                ):
                    chosen.append(workload)
                    break
            else:
                continue
            break
    if not chosen:
        names = ", ".join(workload.name for workload in WORKLOADS)
        raise SystemExit(f"bench: no workload matches {patterns}; known: {names}")
    return chosen


def _git_commit() -> str | None:
    try:
        completed = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        )
    except OSError:
        return None
    return completed.stdout.strip() or None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", action="append", metavar="NAME",
                        help="workload name, shell pattern, or issueN (repeatable)")  # fmt: skip
    parser.add_argument(
        "--rounds",
        type=int,
        help=f"runs per side (default {DEFAULT_ROUNDS}; {HTTP_ROUNDS} for the HTTP workloads)",
    )
    parser.add_argument("--quick", action="store_true", help="smoke run: sizes shrunk 10x")
    parser.add_argument("--no-uvicorn", action="store_true", help="skip the uvicorn column")
    parser.add_argument("--no-asyncio", action="store_true",
                        help="skip the stock asyncio and uvloop columns")  # fmt: skip
    parser.add_argument("--list", action="store_true", help="list the workloads and exit")
    args = parser.parse_args(argv)
    if args.list:
        for workload in WORKLOADS:
            issues = ",".join(str(issue) for issue in workload.issues)
            sides = " ".join(workload.sides())
            print(f"{workload.name:26} issue {issues:5} {workload.script:24} {sides}")
        return 0
    if args.rounds is not None:
        args.rounds = max(1, args.rounds)
    args.scale = 0.1 if args.quick else 1.0
    workloads = _select(args.only)
    os.makedirs(BENCH_DIR, exist_ok=True)

    sys.path.insert(0, WORKLOADS_DIR)
    import benchlib  # noqa: E402  (lives beside the workloads)

    pythons: dict[str, str | None] = dict.fromkeys(IMPLEMENTATIONS)
    pythons["ours"] = _our_python()
    setup_errors: dict[str, str] = {}
    try:
        pythons["ref"] = _create_venv(
            REF_VENV, [REFERENCE_REQUIREMENT], "import gevent; assert gevent.__version__ == "
            f"{REFERENCE_REQUIREMENT.split('==')[1]!r}; print(gevent.__version__)",
        )  # fmt: skip
    except (RuntimeError, OSError, subprocess.CalledProcessError) as error:
        setup_errors["ref"] = f"reference not installed: {error}"
    if any(workload.http for workload in workloads) and _ensure_wrk() is None:
        _log("bench: wrk is not available; the HTTP workloads will fail")
    if any(workload.bench_extra for workload in workloads):
        for side in ("ours", "ref"):
            if pythons[side] is not None:
                _ensure_requirements(pythons[side], BENCH_REQUIREMENTS, _run_env(side, 1.0))
    needed = {side for workload in workloads
              for side in workload.sides(args.no_asyncio, args.no_uvicorn)}  # fmt: skip
    if needed & {*ASYNCIO_SIDES, "uvicorn"}:
        try:
            python = _create_venv(
                ASYNCIO_VENV, ASYNCIO_REQUIREMENTS, "import uvicorn, httptools, uvloop"
            )
        except (RuntimeError, OSError, subprocess.CalledProcessError) as error:
            for side in (*ASYNCIO_SIDES, "uvicorn"):
                setup_errors[side] = f"{ASYNCIO_VENV} not installed: {error}"
        else:
            for side in (*ASYNCIO_SIDES, "uvicorn"):
                pythons[side] = python
    if any(workload.args == ("tls",) for workload in workloads):
        benchlib.ensure_certificate(BENCH_DIR)

    where = "import gevent; print(getattr(gevent, '__version__', '?'), gevent.__path__[0])"
    ours_gevent = _probe(pythons["ours"], where, _run_env("ours", 1.0))
    ref_gevent = _probe(pythons["ref"], where, _run_env("ref", 1.0)) if pythons["ref"] else None
    python_version = platform.python_version()
    rounds = args.rounds or f"{DEFAULT_ROUNDS} ({HTTP_ROUNDS} for HTTP)"
    _log(f"bench: python {python_version}, {os.cpu_count()} cores, rounds={rounds}"
         f"{', quick (sizes /10)' if args.quick else ''}")  # fmt: skip
    _log(f"bench: ours      {ours_gevent or 'gevent does not import'}")
    _log(f"bench: reference {ref_gevent or setup_errors.get('ref', '?')}")

    rows: list[dict] = []
    started = time.monotonic()
    for workload in workloads:
        outcomes = run_workload(workload, pythons, setup_errors, args)
        rows.extend(_rows(workload, outcomes))
    elapsed = time.monotonic() - started
    print_table(rows)
    print(f"({elapsed:.0f} s; results in {os.path.relpath(RESULTS_FILE, ROOT)})")
    report = {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "commit": _git_commit(),
        "python": python_version,
        "cpus": os.cpu_count(),
        "rounds": args.rounds or {"default": DEFAULT_ROUNDS, "http": HTTP_ROUNDS},
        "quick": args.quick,
        "ours": ours_gevent,
        "reference": ref_gevent,
        "results": rows,
    }
    with open(RESULTS_FILE, "w") as out:
        json.dump(report, out, indent=2)
        out.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
