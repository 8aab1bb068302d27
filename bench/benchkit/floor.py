"""The per-test floor: what a test pays for its fixtures, next to what pytest-django's `db` costs.

Each side is one pytest process whose test file holds several variants of an empty test (see
bench/workloads/harness_cost and bench/peers/django/tests/test_db_cost.py), run back to back
per index and timed by the benchkit.pertest plugin. A variant's cost is the median of its tests
(the first tenth, which sets up the session's fixtures, left out); the costs below are
differences of medians within one process, then median (min–max) over the rounds. Wall time
and the process's CPU time are both kept: on a machine shared with other work, a 2 ms test is
more often descheduled mid-way than a 0.5 ms one, which inflates wall-time differences; CPU time
is not moved by that.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchkit.legs import BENCH, COMMON_ARGS, ENVS, PEERS, ROOT, child_env
from benchkit.stats import spread


@dataclass(frozen=True)
class FloorSide:
    name: str
    env: str
    cwd: Path
    test_file: str
    # cost name -> (variant, baseline variant)
    costs: dict[str, tuple[str, str]]


SIDES = (
    FloorSide(
        "fastsuite",
        "root",
        ROOT,
        "bench/workloads/harness_cost/test_harness_cost.py",
        {
            "harness": ("test_client_and_db_session", "test_empty_async"),
            "pytest_asyncio": ("test_empty_async", "test_empty_sync"),
            "empty_sync": ("test_empty_sync", ""),
        },
    ),
    FloorSide(
        "django",
        "django",
        PEERS / "django",
        "tests/test_db_cost.py",
        {
            "db": ("test_db", "test_empty_sync"),
            "empty_sync": ("test_empty_sync", ""),
        },
    ),
)


def run_side(side: FloorSide, n: int) -> tuple[dict[str, dict[str, float]] | None, str]:
    """One process: per cost, {"wall_ms", "cpu_ms"}; None and the output's tail on failure."""
    env = ENVS[side.env]
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        cmd = [
            str(env.python),
            "-m",
            "pytest",
            *COMMON_ARGS,
            "-p",
            "benchkit.pertest",
            side.test_file,
        ]
        proc = subprocess.run(
            cmd,
            cwd=side.cwd,
            env=child_env(BENCH_TESTS=str(n), BENCH_PERTEST_OUT=out.name, PYTHONPATH=str(BENCH)),
            capture_output=True,
            text=True,
            check=False,
        )
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-30:])
        if proc.returncode != 0:
            return None, tail
        durations: dict[str, dict[str, list[float]]] = json.loads(Path(out.name).read_text())
    skip = max(n // 10, 1)
    medians = {
        variant: {kind: statistics.median(values[skip:]) * 1000 for kind, values in timings.items()}
        for variant, timings in durations.items()
    }
    costs: dict[str, dict[str, float]] = {}
    for cost, (variant, baseline) in side.costs.items():
        costs[cost] = {
            f"{kind}_ms": medians[variant][kind] - (medians[baseline][kind] if baseline else 0.0)
            for kind in ("wall", "cpu")
        }
    return costs, tail


def floor_summary(rounds: list[dict[str, dict[str, dict[str, float]]]]) -> dict[str, Any]:
    """side -> cost -> {"wall_ms": spread, "cpu_ms": spread} over the rounds."""
    out: dict[str, Any] = {}
    for side in SIDES:
        per_round = [r[side.name] for r in rounds if side.name in r]
        if not per_round:
            continue
        out[side.name] = {
            cost: {kind: spread(r[cost][kind] for r in per_round) for kind in ("wall_ms", "cpu_ms")}
            for cost in side.costs
        }
    return out
