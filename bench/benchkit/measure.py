"""Running one whole pytest process and measuring it: wall time, peak RSS, outcome."""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from benchkit.legs import ENVS, Leg, child_env

_PASSED = re.compile(r"(\d+) passed")


@dataclass
class Sample:
    leg: str
    experiment: str
    n: int
    round: int
    wall_s: float
    maxrss_mb: float  # of the largest single process in the tree that was waited for
    returncode: int
    passed: int
    extra: str = ""
    # CPU seconds (user + system) of the process and the descendants it reaped: on a loaded
    # machine wall time also counts the waits for a core, which CPU time does not.
    cpu_s: float = 0.0

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and self.passed == self.n

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Failure:
    leg: str
    experiment: str
    n: int
    returncode: int
    output_tail: str


def run_pytest(
    leg: Leg, n: int, *, experiment: str, round_: int, extra: tuple[str, ...] = ()
) -> tuple[Sample, str]:
    """Run the leg's pytest once with BENCH_TESTS=n; returns the sample and the output's tail."""
    env = ENVS[leg.env]
    cmd = leg.command(env, *extra)
    with tempfile.TemporaryFile("w+b") as out:
        start = time.perf_counter()
        proc = subprocess.Popen(
            cmd,
            cwd=leg.cwd,
            env=child_env(BENCH_TESTS=str(n), **leg.extra_env),
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        # wait4 gives this child's own rusage (its ru_maxrss also covers the descendants it
        # reaped, e.g. xdist workers: the largest one, not their sum).
        _, status, rusage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        text = out.read().decode("utf-8", "replace")
    tail = "\n".join(text.strip().splitlines()[-30:])
    last = text.strip().splitlines()[-1] if text.strip() else ""
    match = _PASSED.search(last)
    sample = Sample(
        leg=leg.name,
        experiment=experiment,
        n=n,
        round=round_,
        wall_s=wall,
        maxrss_mb=rusage.ru_maxrss / 1024,
        returncode=proc.returncode,
        passed=int(match.group(1)) if match else 0,
        extra=" ".join(extra),
        cpu_s=rusage.ru_utime + rusage.ru_stime,
    )
    return sample, tail


def log_path(results: Path) -> Path:
    raw = results / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    return raw / "samples.jsonl"
