"""What Faker's pytest plugin costs a lean project's time to first result (issue 9, point 8).

    uv run python bench/micro/faker_ttfr.py [--rounds 7]

factory_boy depends on Faker, and Faker ships a pytest plugin (entry point `faker`), so every
project that installs fastsuite and lets pytest auto-load plugins (pytest's default) loads it.
This builds the fastsuite wheel from the working tree, installs it alone in a fresh virtual
environment (bytecode compiled at install), and times whole pytest processes on a lean project:
the wheel example app (tests_fastsuite/examples/wheel_app) with one test that uses `client`
and no factory. The variants run interleaved, round after round (the order reversed every other
round):

  autoload            `pytest`: every installed plugin loads (Faker's, anyio's, fastsuite's)
  autoload-no-faker   `pytest -p no:faker`
  listed              plugins auto-loading off, `-p pytest_asyncio.plugin -p fastsuite`

Prints one JSON object: seconds per run (median, min, max) and each variant's ratio to
`listed`; and whether a run imported Faker at all (fastsuite itself imports factory_boy, and
Faker with it, only when a test uses AsyncFactory). Measurement only.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "tests_fastsuite" / "examples" / "wheel_app"

LEAN_TEST = """
import sys


async def test_ready(client):
    assert (await client.get("/ready")).json()["ready"] is True
    print("faker imported:", "faker" in sys.modules)
"""

VARIANTS = {
    "autoload": ([], {}),
    "autoload-no-faker": (["-p", "no:faker"], {}),
    "listed": (
        ["-p", "pytest_asyncio.plugin", "-p", "fastsuite"],
        {"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"},
    ),
}


def _run(python: Path, project: Path, args: list[str], env: dict[str, str]) -> tuple[float, str]:
    command = [str(python), "-m", "pytest", "-q", "-s", "-p", "no:cacheprovider", *args]
    start = time.perf_counter()
    done = subprocess.run(
        command, cwd=project, env={**os.environ, **env}, capture_output=True, text=True
    )
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"{' '.join(command)} failed:\n{done.stdout}\n{done.stderr}")
    return elapsed, done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        subprocess.run(
            ["uv", "build", "--wheel", "--quiet", "-o", str(work / "dist")], cwd=ROOT, check=True
        )
        subprocess.run(
            ["uv", "venv", "--quiet", "--python", "3.11", str(work / "venv")], check=True
        )
        wheel = next((work / "dist").glob("fastsuite-*.whl"))
        subprocess.run(
            ["uv", "pip", "install", "--quiet", "--compile-bytecode", str(wheel)],
            env={**os.environ, "VIRTUAL_ENV": str(work / "venv")},
            check=True,
        )
        project = work / "app"
        shutil.copytree(EXAMPLE, project)
        shutil.rmtree(project / "tests")
        (project / "tests").mkdir()
        (project / "tests" / "test_lean.py").write_text(LEAN_TEST)
        python = work / "venv" / "bin" / "python"

        samples: dict[str, list[float]] = {name: [] for name in VARIANTS}
        faker_imported: dict[str, bool] = {}
        for extra, env in VARIANTS.values():  # warm-up, not kept
            _run(python, project, extra, env)
        for round_ in range(args.rounds):
            order = list(VARIANTS) if round_ % 2 == 0 else list(reversed(VARIANTS))
            for name in order:
                extra, env = VARIANTS[name]
                elapsed, output = _run(python, project, extra, env)
                samples[name].append(elapsed)
                faker_imported[name] = "faker imported: True" in output

    baseline = statistics.median(samples["listed"])
    report = {
        name: {
            "median_s": round(statistics.median(times), 3),
            "min_s": round(min(times), 3),
            "max_s": round(max(times), 3),
            "ratio_to_listed": round(statistics.median(times) / baseline, 3),
            "faker_imported": faker_imported[name],
        }
        for name, times in samples.items()
    }
    print(json.dumps({"rounds": args.rounds, **report}, indent=2))


if __name__ == "__main__":
    main()
