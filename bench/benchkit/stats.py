"""From samples to figures: medians with min–max, marginal cost per test, paired ratios."""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from typing import Any

from benchkit.measure import Sample


def spread(values: Iterable[float]) -> dict[str, float] | None:
    vals = list(values)
    if not vals:
        return None
    return {"median": statistics.median(vals), "min": min(vals), "max": max(vals), "n": len(vals)}


def _by_round(
    samples: list[Sample], leg: str, experiment: str, n: int, extra: str = ""
) -> dict[int, Sample]:
    return {
        s.round: s
        for s in samples
        if s.leg == leg and s.experiment == experiment and s.n == n and s.extra == extra and s.ok
    }


def paired_ratios(
    samples: list[Sample],
    leg: str,
    base: str,
    *,
    experiment: str,
    n: int,
    extra: str = "",
    base_extra: str = "",
    measure: str = "wall_s",
) -> dict[str, float] | None:
    """Median and min–max of per-round ratios wall(leg) / wall(base): noise hits both alike.
    `measure="cpu_s"` compares CPU time instead (rounds without it, from older logs, skipped)."""
    mine = _by_round(samples, leg, experiment, n, extra)
    theirs = _by_round(samples, base, experiment, n, base_extra)
    rounds = sorted(mine.keys() & theirs.keys())
    pairs = [(getattr(mine[r], measure), getattr(theirs[r], measure)) for r in rounds]
    return spread(a / b for a, b in pairs if b > 0)


def workload_summary(
    samples: list[Sample], legs: list[str], sizes: tuple[int, int]
) -> dict[str, Any]:
    small, big = sizes
    out: dict[str, Any] = {}
    for leg in legs:
        at = {n: _by_round(samples, leg, "workload", n) for n in sizes}
        if not at[small] and not at[big]:
            continue
        rounds = sorted(at[small].keys() & at[big].keys())
        marginal = [
            (at[big][r].wall_s - at[small][r].wall_s) / (big - small) * 1000 for r in rounds
        ]
        entry: dict[str, Any] = {
            "wall_s": {str(n): spread(s.wall_s for s in at[n].values()) for n in sizes},
            "maxrss_mb": {str(n): spread(s.maxrss_mb for s in at[n].values()) for n in sizes},
            "marginal_ms_per_test": spread(marginal),
            "ratio_vs": {},
        }
        for base in ("django", "django6"):
            if base != leg and base in legs:
                entry["ratio_vs"][base] = {
                    str(n): paired_ratios(samples, leg, base, experiment="workload", n=n)
                    for n in sizes
                }
                entry.setdefault("cpu_ratio_vs", {})[base] = {
                    str(n): paired_ratios(
                        samples, leg, base, experiment="workload", n=n, measure="cpu_s"
                    )
                    for n in sizes
                }
        out[leg] = entry
    _strict_layer_cost(out, samples, sizes)
    return out


def _strict_layer_cost(out: dict[str, Any], samples: list[Sample], sizes: tuple[int, int]) -> None:
    """fastsuite ÷ fastsuite with the strict SQLite layer off: per-round ratios of the marginal
    ms per test (the cost a test pays), and of the wall time at the big size."""
    if "fastsuite" not in out or "fastsuite-lenient" not in out:
        return
    small, big = sizes
    per_test: dict[str, dict[int, float]] = {}
    for leg in ("fastsuite", "fastsuite-lenient"):
        at = {n: _by_round(samples, leg, "workload", n) for n in sizes}
        per_test[leg] = {
            r: (at[big][r].wall_s - at[small][r].wall_s) / (big - small)
            for r in at[small].keys() & at[big].keys()
        }
    on, off = per_test["fastsuite"], per_test["fastsuite-lenient"]
    out["fastsuite"]["strict_layer_cost"] = {
        "per_test": spread(on[r] / off[r] for r in sorted(on.keys() & off.keys()) if off[r] > 0),
        "wall": paired_ratios(
            samples, "fastsuite", "fastsuite-lenient", experiment="workload", n=big
        ),
    }


def ttfr_summary(samples: list[Sample], legs: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for leg in legs:
        walls = [s.wall_s for s in _by_round(samples, leg, "ttfr", 1, "-x").values()]
        if not walls:
            continue
        out[leg] = {
            "wall_s": spread(walls),
            "ratio_vs_floor_stack": paired_ratios(
                samples, leg, "floor-stack", experiment="ttfr", n=1, extra="-x", base_extra="-x"
            ),
        }
    return out


def xdist_summary(samples: list[Sample], n: int, workers: int) -> dict[str, Any] | None:
    par_extra = f"-n {workers}"
    serial = _by_round(samples, "fastsuite", "xdist", n, "")
    parallel = _by_round(samples, "fastsuite", "xdist", n, par_extra)
    if not serial or not parallel:
        return None
    rounds = sorted(serial.keys() & parallel.keys())
    return {
        "n": n,
        "workers": workers,
        "serial_wall_s": spread(s.wall_s for s in serial.values()),
        "parallel_wall_s": spread(s.wall_s for s in parallel.values()),
        "serial_maxrss_mb": spread(s.maxrss_mb for s in serial.values()),
        "parallel_maxrss_mb": spread(s.maxrss_mb for s in parallel.values()),
        # speed-up: serial / parallel, per pair
        "speedup": spread(serial[r].wall_s / parallel[r].wall_s for r in rounds),
    }
