"""The strict SQLite layer's cost per test: the workload with the layer on and off, side by side.

Runs the fastsuite workload (bench/workloads/fastsuite) in pairs of processes, the layer on and
off (`FASTSUITE_SQLITE_LENIENT=all`), the order alternating from pair to pair. Each process
times every test (setup, call and teardown; wall and CPU time) with benchkit.pertest; a
process's figure is the median of its tests, and a pair's ratio is on ÷ off. Reported: the
median (min–max) of the pairs' ratios. Per-test medians leave out start-up and the odd slow
test, and CPU time is not moved by other processes taking the cores, which on a shared machine
moves whole-process wall times by far more than the few per cent measured here.

    uv run python bench/strict_cost.py                  # 7 pairs of 300 tests
    uv run python bench/strict_cost.py --pairs 3 --tests 100

Writes bench/results/strict.md (and prints it).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORKLOAD = "bench/workloads/fastsuite/test_workload.py"
LEGS = {"on": {}, "off": {"FASTSUITE_SQLITE_LENIENT": "all"}}


def run_once(layer: str, tests: int) -> dict[str, float]:
    """One pytest process; the median wall and CPU ms per test."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "pertest.json"
        env = (
            os.environ
            | LEGS[layer]
            | {
                "BENCH_TESTS": str(tests),
                "BENCH_PERTEST_OUT": str(out),
                "PYTHONPATH": str(ROOT / "bench"),
            }
        )
        if layer == "on":
            env.pop("FASTSUITE_SQLITE_LENIENT", None)
        command = [sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", "-p",
                   "no:cacheprovider", "-p", "benchkit.pertest", WORKLOAD]  # fmt: skip
        done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
        if done.returncode != 0:
            sys.exit(f"the workload failed with the layer {layer}:\n{done.stdout[-3000:]}")
        durations = json.loads(out.read_text())["test_workload"]
    return {kind: statistics.median(durations[kind]) * 1000 for kind in ("wall", "cpu")}


def spread(values: list[float]) -> str:
    return f"{statistics.median(values):.3f} ({min(values):.3f}–{max(values):.3f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=7)
    parser.add_argument("--tests", type=int, default=300)
    args = parser.parse_args()
    run_once("on", 20)  # warm-up: bytecode, caches
    samples: dict[str, list[dict[str, float]]] = {"on": [], "off": []}
    for pair in range(args.pairs):
        for layer in ("on", "off") if pair % 2 == 0 else ("off", "on"):
            samples[layer].append(run_once(layer, args.tests))
            print(f"pair {pair}, layer {layer}: {samples[layer][-1]}", file=sys.stderr)
    ratio = {
        kind: [on[kind] / off[kind] for on, off in zip(samples["on"], samples["off"], strict=True)]
        for kind in ("wall", "cpu")
    }
    load = os.getloadavg()[0]
    report = "\n".join(
        [
            "# The strict SQLite layer's cost per test",
            "",
            f"`bench/strict_cost.py`, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC: the fastsuite "
            f"workload, {args.pairs} pairs of processes of {args.tests} tests, layer on and "
            f"off (`FASTSUITE_SQLITE_LENIENT=all`) side by side, order alternating; per process "
            f"the median test (setup + call + teardown); medians (min–max) over the pairs. "
            f"Load average at the end: {load:.1f} on {os.cpu_count()} cores.",
            "",
            "| | layer on (ms per test) | layer off (ms per test) | on ÷ off, per pair |",
            "| --- | ---: | ---: | ---: |",
            *(
                f"| {kind} time | {spread([s[kind] for s in samples['on']])} "
                f"| {spread([s[kind] for s in samples['off']])} | {spread(ratio[kind])} |"
                for kind in ("cpu", "wall")
            ),
            "",
            "Target: on ÷ off ≤ 1.05.",
            "",
        ]
    )
    results = ROOT / "bench" / "results"
    results.mkdir(exist_ok=True)
    (results / "strict.md").write_text(report)
    print(report)


if __name__ == "__main__":
    main()
