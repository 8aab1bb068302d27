"""The local loop (issue 16): one test re-run after an edit, cold `pytest` against fastsuite-warm.

    uv run python bench/warm.py                 # 9 rounds
    uv run python bench/warm.py --rounds 15 --compare-ref main
    uv run python bench/warm.py --rounds 15 --compare-ref main --warm-only
    uv run python bench/warm.py --rounds 9 --warm-only --timing   # and per phase, CPU too

Legs, interleaved in every round (order reversed every other round), each after an edit:

- `cold`: `.venv/bin/pytest ARGS`, as a developer re-runs one test;
- `cold+cache`: the same with the opt-in bytecode cache (FASTSUITE_BYTECODE_CACHE);
- `warm`: `.venv/bin/fastsuite-warm ARGS` (its zygote started and learned before round 1);
- `REF` and `warm REF`, with --compare-ref: cold and `fastsuite-warm`, with fastsuite's sources
  as they are at that git ref (first on PYTHONPATH: the warm leg's client, zygote and plugin are
  the ref's, in a zygote of its own), to measure a branch against main in one time window.

Edits: `app` appends a comment to an app module the test imports (its bytecode is stale), `test`
appends one to the test's own 700-line module (its rewritten asserts are stale); each run
starts right after its edit, or --think seconds later (the time a developer takes from saving
to starting the command, which fastsuite-warm's spare uses to rewrite an edited test module's
asserts ahead, and a cold run cannot use). Every edit is undone at the end. Figures: medians
over the rounds of the time to the first result (the first " PASSED" on stdout) and of the
whole process; warm ÷ cold per round, then the median.

With --timing, the warm legs whose fastsuite-warm reports its phases (FASTSUITE_WARM_TIMING)
also get a table of each phase's medians: wall time since the client sent its request, and the
CPU time the client and the child spent (CPU time is what a loaded machine disturbs least).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = ROOT / ".venv" / "bin"
TEST = "backend/tests/api/test_contexts.py::test_anonymous_create_writes_nothing"
ARGS = ["-v", "-p", "no:randomly", "-p", "no:cacheprovider", TEST]
EDITS = {"app": ROOT / "backend/app/services/contexts.py", "test": ROOT / TEST.split("::")[0]}


_PHASE = re.compile(r"^  (\S.*?)\s+([\d.]+)\s+\+\s*([\d.]+)\s+\(cpu \+\s*([\d.]+)\)$", re.M)
_CLIENT = re.compile(r"^fastsuite-warm timing: client, ([\d.]+) ms CPU", re.M)


def run(command: list[str], env: dict[str, str]) -> tuple[float, float, bytes]:
    """Seconds to the first result and to the end of the process, and what it printed."""
    start = time.perf_counter()
    first = None
    output = b""
    proc = subprocess.Popen(
        command,
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
    )
    assert proc.stdout is not None
    while chunk := os.read(proc.stdout.fileno(), 65536):
        output += chunk
        if first is None and b" PASSED" in output:
            first = time.perf_counter() - start
    proc.wait()
    whole = time.perf_counter() - start
    if proc.returncode != 0 or first is None:
        raise SystemExit(f"{command[0]} failed:\n{output.decode(errors='replace')[-3000:]}")
    return first, whole, output


def parse_phases(output: bytes) -> dict[str, tuple[float, float]]:
    text = output.decode(errors="replace")
    found = {name: (float(since), float(cpu)) for name, since, _, cpu in _PHASE.findall(text)}
    if client := _CLIENT.search(text):
        found["client (before its request)"] = (0.0, float(client.group(1)))
    return found


def wait_for_zygote(env: dict[str, str]) -> None:
    deadline = time.monotonic() + 120
    status = [str(BIN / "fastsuite-warm"), "--status"]
    while (
        "serves this environment"
        not in subprocess.run(status, env=env, capture_output=True, text=True).stdout
    ):
        assert time.monotonic() < deadline, "the zygote did not start"
        time.sleep(0.2)


def edit(path: Path, counter: int) -> None:
    with path.open("a") as file:
        file.write(f"# bench/warm.py edit {counter}\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--compare-ref", help="also run cold with the plugin of this git ref")
    parser.add_argument(
        "--think",
        type=float,
        default=0.0,
        help="seconds between each edit and its run (a developer's save, then the command)",
    )
    parser.add_argument(
        "--timing",
        action="store_true",
        help="per phase of the warm runs (FASTSUITE_WARM_TIMING), where fastsuite-warm has it",
    )
    parser.add_argument(
        "--warm-only",
        action="store_true",
        help="only `cold` (for the ratios) and the warm legs: more rounds in the same time",
    )
    options = parser.parse_args()

    scratch = Path(tempfile.mkdtemp(prefix="fsw-bench-"))
    base = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("FASTSUITE_", "PYTEST_"))},
        "PYTHONUNBUFFERED": "1",
        "FASTSUITE_WARM_DIR": str(scratch / "state"),
    }
    if options.timing:
        base["FASTSUITE_WARM_TIMING"] = "1"  # no part of the environment's identity
    legs: dict[str, tuple[list[str], dict[str, str]]] = {
        "cold": ([str(BIN / "pytest"), *ARGS], base),
        "cold+cache": (
            [str(BIN / "pytest"), *ARGS],
            {**base, "FASTSUITE_BYTECODE_CACHE": str(scratch / "bytecode")},
        ),
        "warm": ([str(BIN / "fastsuite-warm"), *ARGS], base),
    }
    if options.compare_ref:
        source = scratch / "ref"
        source.mkdir()
        archive = subprocess.run(
            ["git", "archive", options.compare_ref, "src"],
            cwd=ROOT,
            check=True,
            capture_output=True,
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(source)], input=archive, check=True)
        # A state folder of its own: the ref's --status must not meet this version's zygotes.
        ref_env = {
            **base,
            "PYTHONPATH": str(source / "src"),
            "FASTSUITE_WARM_DIR": str(scratch / "state-ref"),
        }
        legs[options.compare_ref] = ([str(BIN / "pytest"), *ARGS], ref_env)
        legs[f"warm {options.compare_ref}"] = ([str(BIN / "fastsuite-warm"), *ARGS], ref_env)
    if options.warm_only:
        legs = {leg: legs[leg] for leg in legs if leg == "cold" or leg.startswith("warm")}

    originals = {name: path.read_bytes() for name, path in EDITS.items()}
    samples: dict[tuple[str, str], list[tuple[float, float]]] = {}
    # Per leg and edit, each run's phases: name -> (ms since the request, CPU ms).
    phases: dict[tuple[str, str], list[dict[str, tuple[float, float]]]] = {}
    print(
        f"PYTHONDONTWRITEBYTECODE={os.environ.get('PYTHONDONTWRITEBYTECODE', '')!r}, "
        f"load average {os.getloadavg()[0]:.1f}, {options.rounds} rounds, "
        f"{options.think} s between an edit and its run"
    )
    try:
        # Untimed: each warm leg's first run is cold, learns, and starts the zygote.
        for command, env in legs.values():
            run(command, env)
        for leg in (leg for leg in legs if leg.startswith("warm")):
            wait_for_zygote(legs[leg][1])
            for _ in range(3):  # the child records what the zygote lacks: it preloads it, or
                run(*legs[leg])  # restarts without what must not be preloaded
                time.sleep(3)
                wait_for_zygote(legs[leg][1])
        counter = 0
        for round_ in range(options.rounds):
            order = list(legs) if round_ % 2 == 0 else list(legs)[::-1]
            for what, path in EDITS.items():
                for leg in order:
                    counter += 1
                    edit(path, counter)
                    time.sleep(options.think)
                    first, whole, output = run(*legs[leg])
                    samples.setdefault((leg, what), []).append((first, whole))
                    if found := parse_phases(output):
                        phases.setdefault((leg, what), []).append(found)
            print(f"round {round_ + 1} done, load average {os.getloadavg()[0]:.1f}", flush=True)
    finally:
        for name, path in EDITS.items():
            path.write_bytes(originals[name])
        for leg in (leg for leg in legs if leg.startswith("warm")):
            subprocess.run(
                [str(BIN / "fastsuite-warm"), "--stop"], env=legs[leg][1], capture_output=True
            )
        shutil.rmtree(scratch, ignore_errors=True)
    report(samples, list(legs))
    report_phases(phases)


def report(samples: dict[tuple[str, str], list[tuple[float, float]]], legs: list[str]) -> None:
    print()
    print(
        "| after editing | leg | first result (s) | whole process (s) "
        "| first ÷ cold | whole ÷ cold |"
    )
    print("| --- | --- | ---: | ---: | ---: | ---: |")
    for what in EDITS:
        cold = samples[("cold", what)]
        for leg in legs:
            mine = samples[(leg, what)]
            first = statistics.median(s[0] for s in mine)
            whole = statistics.median(s[1] for s in mine)
            ratio_first = statistics.median(m[0] / c[0] for m, c in zip(mine, cold, strict=True))
            ratio_whole = statistics.median(m[1] / c[1] for m, c in zip(mine, cold, strict=True))
            low, high = min(s[0] for s in mine), max(s[0] for s in mine)
            print(
                f"| {what} module | {leg} | {first:.3f} ({low:.2f}–{high:.2f}) | {whole:.3f} "
                f"| {ratio_first:.2f} | {ratio_whole:.2f} |"
            )


def report_phases(phases: dict[tuple[str, str], list[dict[str, tuple[float, float]]]]) -> None:
    for (leg, what), runs in phases.items():
        print()
        print(f"{leg}, after editing the {what} module: each phase's end, medians over {len(runs)}")
        print()
        print("| phase | ms since the request | CPU ms in the phase |")
        print("| --- | ---: | ---: |")
        for name in runs[0]:
            since = statistics.median(run[name][0] for run in runs if name in run)
            cpu = statistics.median(run[name][1] for run in runs if name in run)
            print(f"| {name} | {since:.1f} | {cpu:.1f} |")


if __name__ == "__main__":
    main()
