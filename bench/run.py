"""Run the fastsuite benchmark and write bench/results/{results.md,summary.json,bench.png}.

    uv run --project bench/peers/tools python bench/run.py            # full run (~25 min)
    uv run --project bench/peers/tools python bench/run.py --quick    # reduced scale (~4 min)

Every leg is a whole pytest process in its own environment (bench/peers/*, the root project for
fastsuite), timed from the outside. Legs are interleaved round by round so that the machine's
noise hits all of them; ratios are taken per round. Measurement only: nothing asserts a timing.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchkit import floor, stats
from benchkit.legs import BENCH, COMMON_ARGS, ENVS, FLOOR_STACK, LEGS, ROOT, Leg, sync, versions
from benchkit.measure import Sample, log_path, run_pytest
from benchkit.report import render

EXPERIMENTS = ("workload", "ttfr", "xdist", "micro", "floor")
FULL = {
    "sizes": (200, 1000),
    "runs": 5,
    "ttfr_runs": 7,
    "xdist_n": 5000,
    # 3 pairs, not 5: at today's ~30-45 ms/test one pair of 5000-test runs takes 5-7 minutes.
    "xdist_runs": 3,
    "micro": (2000, 7),
    # tests per variant, rounds: the per-test floor (fastsuite's fixtures, pytest-django's db)
    "floor": (1000, 5),
}
QUICK = {
    "sizes": (50, 200),
    "runs": 3,
    "ttfr_runs": 3,
    "xdist_n": 1000,
    "xdist_runs": 3,
    "micro": (500, 3),
    "floor": (300, 3),
}
TTFR_LEGS = ("fastsuite", "django", "django6", "recipe")
XDIST_WORKERS = 2


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


class Runner:
    def __init__(self, results: Path, *, fresh: bool = True) -> None:
        self.samples: list[Sample] = []
        self.failures: list[dict[str, Any]] = []
        self.broken: set[str] = set()
        self.log = log_path(results)
        if fresh:
            self.log.write_text("")
        else:
            self.samples = [
                Sample(**json.loads(line)) for line in self.log.read_text().splitlines()
            ]

    def measure(
        self, leg: Leg, n: int, *, experiment: str, round_: int, extra: tuple[str, ...] = ()
    ) -> None:
        if leg.name in self.broken:
            return
        sample, tail = run_pytest(leg, n, experiment=experiment, round_=round_, extra=extra)
        if not sample.ok:
            # Once more before dropping the leg (the work tree may have been mid-change); the
            # failed attempt stays in the report either way.
            reason = f"exit {sample.returncode}, {sample.passed} passed"
            self.failures.append(
                {"leg": leg.name, "experiment": experiment, "n": n, "reason": reason + " (retried)"}
            )
            log(f"  !! {leg.name} failed ({experiment}, N={n}): {reason}; retrying once\n{tail}")
            sample, tail = run_pytest(leg, n, experiment=experiment, round_=round_, extra=extra)
        if not sample.ok:
            reason = f"exit {sample.returncode}, {sample.passed} passed"
            self.fail(leg.name, experiment, n, reason, tail)
            return
        self.samples.append(sample)
        with self.log.open("a") as fh:
            fh.write(json.dumps(sample.to_json()) + "\n")
        log(
            f"  {experiment:8} {leg.name:12} N={n:<5} {extra_text(extra):6}"
            f" {sample.wall_s:7.2f} s  {sample.cpu_s:7.2f} s CPU  {sample.maxrss_mb:6.0f} MB"
        )

    def warm_up(self, leg: Leg, n: int, extra: tuple[str, ...] = ()) -> bool:
        """One untimed run: compiles the test files' bytecode, checks that the leg passes."""
        if leg.name in self.broken:
            return False
        sample, tail = run_pytest(leg, n, experiment="warm-up", round_=-1, extra=extra)
        if not sample.ok:
            self.fail(
                leg.name, "warm-up", n, f"exit {sample.returncode}, {sample.passed} passed", tail
            )
            return False
        return True

    def fail(self, leg: str, experiment: str, n: int, reason: str, tail: str = "") -> None:
        self.broken.add(leg)
        self.failures.append(
            {"leg": leg, "experiment": experiment, "n": n, "reason": reason, "output_tail": tail}
        )
        log(f"  !! {leg} dropped ({experiment}, N={n}): {reason}\n{tail}")


def extra_text(extra: tuple[str, ...]) -> str:
    return " ".join(extra)


def order(items: list[Leg], round_: int) -> list[Leg]:
    """Forward on even rounds, reversed on odd ones (A B C, C B A, ...): neighbours stay neighbours,
    so fastsuite and pytest-django (listed first) always run back to back, in both orders."""
    return items if round_ % 2 == 0 else items[::-1]


def machine() -> dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    git = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "platform": platform.platform(),
        "git": git + ("+dirty" if dirty else ""),
        "when": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }


def run_workload(r: Runner, legs: list[Leg], sizes: tuple[int, int], runs: int) -> None:
    log(f"workload: {', '.join(leg.name for leg in legs)} at N={sizes}, {runs} rounds")
    for leg in legs:
        r.warm_up(leg, sizes[0])
    for round_ in range(runs):
        # Each round runs every leg once per size, back to back; the order flips every round.
        for n in sizes:
            for leg in order(legs, round_):
                r.measure(leg, n, experiment="workload", round_=round_)


def run_ttfr(r: Runner, legs: list[Leg], runs: int) -> None:
    legs = [FLOOR_STACK, *legs]
    log(f"time to first result: {', '.join(leg.name for leg in legs)}, {runs} rounds")
    for leg in legs:
        r.warm_up(leg, 1, ("-x",))
    for round_ in range(runs):
        for leg in order(legs, round_):
            r.measure(leg, 1, experiment="ttfr", round_=round_, extra=("-x",))


def run_xdist(r: Runner, n: int, runs: int) -> None:
    leg = LEGS["fastsuite"]
    par = ("-n", str(XDIST_WORKERS))
    log(f"xdist: fastsuite at N={n}, serial vs {' '.join(par)}, {runs} rounds")
    if not r.warm_up(leg, 100, par):
        return
    for round_ in range(runs):
        modes: list[tuple[str, ...]] = [(), par] if round_ % 2 == 0 else [par, ()]
        for extra in modes:
            r.measure(leg, n, experiment="xdist", round_=round_, extra=extra)


def run_micro(r: Runner, pairs: int, repeats: int) -> dict[str, Any] | None:
    log(f"micro: INSERT+SELECT pairs={pairs} repeats={repeats}")
    cmd = [
        str(ENVS["root"].python),
        str(BENCH / "micro" / "stmt_cost.py"),
        "--pairs",
        str(pairs),
        "--repeats",
        str(repeats),
    ]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        r.fail("micro", "micro", pairs, f"exit {proc.returncode}", proc.stderr[-2000:])
        return None
    result: dict[str, Any] = json.loads(proc.stdout)
    for name, v in result["variants"].items():
        log(
            f"  micro    {name:20} "
            + (
                f"{v['us_per_pair']:7.0f} µs  ×{v['ratio_to_sync']:.2f}"
                if "us_per_pair" in v
                else v["error"]
            )
        )
    return result


def run_floor(r: Runner, n: int, runs: int) -> list[dict[str, Any]]:
    """The per-test floor, both sides once per round (order flipped every round)."""
    log(f"floor: per-test cost of fixtures, {n} tests per variant, {runs} rounds")
    rounds: list[dict[str, Any]] = []
    for round_ in range(runs):
        results: dict[str, Any] = {}
        sides = list(floor.SIDES) if round_ % 2 == 0 else list(floor.SIDES)[::-1]
        for side in sides:
            name = f"floor-{side.name}"
            if name in r.broken:
                continue
            costs, tail = floor.run_side(side, n)
            if costs is None:
                r.fail(name, "floor", n, "the floor's pytest run failed", tail)
                continue
            results[side.name] = costs
            shown = ", ".join(
                f"{cost} {v['cpu_ms']:.3f} ms cpu / {v['wall_ms']:.3f} wall"
                for cost, v in costs.items()
            )
            log(f"  floor    {side.name:12} {shown}")
        rounds.append(results)
    return rounds


README_START = "<!-- results:start (written by bench/run.py) -->"
README_END = "<!-- results:end -->"


def update_readme(report: str) -> None:
    """Put a full run's tables into bench/README.md, between the results markers."""
    readme = BENCH / "README.md"
    text = readme.read_text()
    if README_START not in text or README_END not in text:
        return
    body = report.split("\n", 2)[2].replace("](bench.png)", "](results/bench.png)")
    body = "\n".join("#" + line if line.startswith("## ") else line for line in body.splitlines())
    head, rest = text.split(README_START, 1)
    tail = rest.split(README_END, 1)[1]
    readme.write_text(f"{head}{README_START}\n{body.strip()}\n{README_END}{tail}")


def write_outputs(summary: dict[str, Any], results: Path) -> int:
    """results.md and bench.png; a full run of every leg also refreshes the README's tables."""
    report = render(summary)
    (results / "results.md").write_text(report)
    try:
        from benchkit.plot import plot

        plot(summary, results / "bench.png")
    except ImportError as exc:
        log(f"no plot ({exc}); run through `uv run --project bench/peers/tools` for matplotlib")
    cfg = summary["config"]
    if not cfg["quick"] and results == BENCH / "results" and set(cfg["legs"]) == set(LEGS):
        update_readme(report)
    print(report)
    return 0


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument(
        "--quick", action="store_true", help="reduced scale: sizes 50/200, 3 runs, xdist at 1000"
    )
    p.add_argument(
        "--legs", default=",".join(LEGS), help=f"comma-separated, from: {', '.join(LEGS)}"
    )
    p.add_argument(
        "--only", default=",".join(EXPERIMENTS), help=f"experiments, from: {', '.join(EXPERIMENTS)}"
    )
    p.add_argument("--sizes", help="two test counts, e.g. 200,1000")
    p.add_argument("--runs", type=int, help="rounds per experiment (workload and xdist)")
    p.add_argument("--xdist-n", type=int, help="test count for serial vs -n 2")
    p.add_argument("--no-sync", action="store_true", help="do not `uv sync` the environments first")
    p.add_argument("--results", type=Path, default=BENCH / "results", help="output directory")
    p.add_argument(
        "--from-raw",
        action="store_true",
        help="build the report from results/raw/samples.jsonl (an interrupted run: give it the"
        " same --quick/--sizes/--legs), running only the micro-benchmark",
    )
    p.add_argument(
        "--report-only",
        action="store_true",
        help="rewrite results.md, bench.png (and the README's tables) from summary.json",
    )
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.report_only:
        return write_outputs(json.loads((args.results / "summary.json").read_text()), args.results)
    cfg = dict(QUICK if args.quick else FULL)
    if args.sizes:
        small, big = (int(x) for x in args.sizes.split(","))
        cfg["sizes"] = (small, big)
    if args.runs:
        cfg["runs"] = cfg["xdist_runs"] = args.runs
        cfg["ttfr_runs"] = max(args.runs, cfg["ttfr_runs"])
    if args.xdist_n:
        cfg["xdist_n"] = args.xdist_n
    wanted = [name.strip() for name in args.legs.split(",") if name.strip()]
    unknown = [n for n in wanted if n not in LEGS]
    experiments = [e.strip() for e in args.only.split(",") if e.strip()]
    if unknown or any(e not in EXPERIMENTS for e in experiments):
        sys.exit(
            f"unknown legs {unknown} or experiments {experiments};"
            f" legs: {list(LEGS)}, experiments: {EXPERIMENTS}"
        )

    args.results.mkdir(parents=True, exist_ok=True)
    runner = Runner(args.results, fresh=not args.from_raw)
    started = time.perf_counter()
    load_at_start = os.getloadavg()

    needed = {LEGS[n].env for n in wanted} | {"root"}
    env_versions: dict[str, dict[str, str]] = {}
    for env_name in sorted(needed):
        env = ENVS[env_name]
        error = None if args.no_sync or args.from_raw else sync(env)
        if error:
            for leg in [n for n in wanted if LEGS[n].env == env_name]:
                runner.fail(leg, "setup", 0, error)
            continue
        env_versions[env_name] = versions(env)
        log(f"env {env_name}: {env_versions[env_name]}")

    legs = [LEGS[n] for n in wanted if n not in runner.broken]
    # --from-raw: the pytest experiments' samples come from the log; only micro runs again.
    to_run = [e for e in experiments if e == "micro"] if args.from_raw else experiments
    if "workload" in to_run:
        run_workload(runner, legs, cfg["sizes"], cfg["runs"])
    if "ttfr" in to_run:
        run_ttfr(runner, [leg for leg in legs if leg.name in TTFR_LEGS], cfg["ttfr_runs"])
    if "xdist" in to_run and "fastsuite" in wanted:
        run_xdist(runner, cfg["xdist_n"], cfg["xdist_runs"])
    micro = run_micro(runner, *cfg["micro"]) if "micro" in to_run else None
    floor_rounds = run_floor(runner, *cfg["floor"]) if "floor" in to_run else []

    names = [leg.name for leg in legs]
    summary: dict[str, Any] = {
        "config": {
            "quick": args.quick,
            "sizes": list(cfg["sizes"]),
            "runs": cfg["runs"],
            "ttfr_runs": cfg["ttfr_runs"],
            "xdist_n": cfg["xdist_n"],
            "xdist_runs": cfg["xdist_runs"],
            "micro_pairs_repeats": list(cfg["micro"]),
            "floor_tests_rounds": list(cfg["floor"]),
            "legs": wanted,
            "experiments": experiments,
            "pytest_args": ["pytest", *COMMON_ARGS],
        },
        "machine": machine()
        | {"loadavg_1_5_15_start": load_at_start, "loadavg_1_5_15_end": os.getloadavg()},
        "versions": env_versions,
        "workload": stats.workload_summary(runner.samples, names, cfg["sizes"]),
        "ttfr": stats.ttfr_summary(runner.samples, [FLOOR_STACK.name, *names]),
        "xdist": stats.xdist_summary(runner.samples, cfg["xdist_n"], XDIST_WORKERS),
        "micro": micro,
        "floor": floor.floor_summary(floor_rounds) if floor_rounds else None,
        "failures": [{k: v for k, v in f.items() if k != "output_tail"} for f in runner.failures],
        "dropped": sorted(runner.broken),
        "elapsed_s": round(time.perf_counter() - started, 1),
        "samples": [s.to_json() for s in runner.samples],
    }
    (args.results / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    write_outputs(summary, args.results)
    log(f"done in {summary['elapsed_s']:.0f} s: {args.results / 'results.md'}")
    return 1 if runner.broken else 0


if __name__ == "__main__":
    raise SystemExit(main())
