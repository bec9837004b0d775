"""Compare a run of gevent's own test files with the baseline and our list of expected failures.

``make test-upstream`` runs ``../shared/upstream/run_upstream.sh`` and then this script:

    python tests/upstream_check.py REPORT_DIR BASELINE_TSV EXPECTED_TXT

It prints the cases that pass on the real gevent but fail here without being listed in
``tests/upstream_expected.txt`` (one ``file::case  reason`` per line, ``#`` comments), the
listed cases that pass now (the list should shrink with them), and the files that did not
import or timed out. Exit status 1 when anything unlisted fails, a file did not import or a
file hung; 0 otherwise. Not collected by pytest (no ``test_`` prefix).
"""

from __future__ import annotations

import csv
import os
import sys


def _read_tsv(path: str) -> list[dict[str, str]]:
    with open(path, newline="") as stream:
        return list(csv.DictReader(stream, delimiter="\t"))


def read_expected(path: str) -> dict[str, str]:
    """``{"file::case": reason}`` from the expected-failures list."""
    expected: dict[str, str] = {}
    with open(path) as stream:
        for line in stream:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            case, _, reason = line.partition(" ")
            expected[case] = reason.strip()
    return expected


def main(argv: list[str]) -> int:
    report, baseline_path, expected_path = argv
    baseline = {
        f"{row['file']}::{row['case']}"
        for row in _read_tsv(baseline_path)
        if row["status"] == "ok"
    }
    ours = {f"{row['file']}::{row['case']}": row["status"]
            for row in _read_tsv(os.path.join(report, "cases.tsv"))}
    files = _read_tsv(os.path.join(report, "files.tsv"))
    expected = read_expected(expected_path)

    failing = sorted(case for case in baseline if ours.get(case) != "ok")
    unlisted = [case for case in failing if case not in expected]
    stale = sorted(case for case in expected if ours.get(case) == "ok")
    broken = [row for row in files if row["status"] in ("IMPORT_ERROR", "TIMEOUT", "CRASH")]

    passing = len(baseline) - len(failing)
    print(f"upstream: {passing} of {len(baseline)} baseline-passing cases pass; "
          f"{len(failing)} fail, {len(failing) - len(unlisted)} of them listed "
          f"({len(expected)} entries in {os.path.basename(expected_path)})")
    for row in broken:
        print(f"  file {row['file']}: {row['status']} {row.get('note', '')}")
    for case in unlisted:
        print(f"  unlisted failure: {case} ({ours.get(case, 'not run')})")
    for case in stale:
        print(f"  listed but passes now: {case}")
    return 1 if unlisted or broken else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
