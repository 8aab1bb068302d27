"""Cost of keeping the test's ORM objects fresh around each request (src/fastsuite/_freshness.py).

    uv run python bench/micro/fresh_objects.py [--requests 20] [--rounds 50]

Runs one pytest process on the items example app (tests_fastsuite/examples/items_app). Its one
test creates 5 items (and their 5 owners) through `db_session`, then times requests through
`client`, side by side in the same process, with the freshness step on and off (the harness's
own switch, flipped between small batches; the order alternates every round), in CPU time:

  read    GET /items: reads only, so after it nothing is read again
  write   PATCH /items/{id}: the request writes, so after it the 10 objects the test holds
          are read again (one SELECT per mapped class: 2 here)

Prints one JSON object on stdout: µs per request (median, min, max over rounds) for each
kind and mode, the cost of the step per request (median of on minus median of off), and the
ratio on/off. Measurement only: nothing here asserts a timing.
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
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "tests_fastsuite" / "examples" / "items_app"

TEST = """
import json
import os
import time

from items_factories import ItemFactory

REQUESTS = int(os.environ["FRESH_REQUESTS"])
ROUNDS = int(os.environ["FRESH_ROUNDS"])


async def test_measure(client, db_session, _fastsuite_lifespan):
    items = await ItemFactory.acreate_batch(5)
    turns = _fastsuite_lifespan.turns
    fresh = turns.fresh
    assert fresh is not None
    samples = {kind: {"on": [], "off": []} for kind in ("read", "write")}

    async def read(_):
        await client.get("/items")

    async def write(i):
        await client.patch(f"/items/{items[0].id}", json={"name": f"name {i}"})

    # Small batches, on and off alternating (the order flips every round), timed in this
    # process's CPU time: other processes' load on the machine does not count.
    for round_ in range(ROUNDS + 1):  # round 0 warms up and is not kept
        modes = ("on", "off") if round_ % 2 == 0 else ("off", "on")
        for kind, request in (("read", read), ("write", write)):
            for mode in modes:
                turns.fresh = fresh if mode == "on" else None
                start = time.process_time()
                for i in range(REQUESTS):
                    await request(i)
                elapsed = (time.process_time() - start) / REQUESTS * 1e6
                if round_:
                    samples[kind][mode].append(elapsed)
    turns.fresh = fresh
    assert items[0].name == f"name {REQUESTS - 1}"  # the step really ran in the "on" batches
    print("FRESH-SAMPLES " + json.dumps(samples))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20, help="requests per batch")
    parser.add_argument("--rounds", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        project = Path(folder) / "project"
        shutil.copytree(EXAMPLE, project)
        (project / "test_fresh_cost.py").write_text(TEST)
        env = {
            **os.environ,
            "FRESH_REQUESTS": str(args.requests),
            "FRESH_ROUNDS": str(args.rounds),
            "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",
        }
        run = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-s", "-p", "no:cacheprovider"],
            cwd=project,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
    line = next((x for x in run.stdout.splitlines() if x.startswith("FRESH-SAMPLES ")), None)
    if run.returncode != 0 or line is None:
        sys.exit(f"the measuring test failed:\n{run.stdout}\n{run.stderr}")
    samples = json.loads(line.removeprefix("FRESH-SAMPLES "))
    report: dict[str, object] = {"requests_per_batch": args.requests, "rounds": args.rounds}
    for kind, modes in samples.items():
        on, off = statistics.median(modes["on"]), statistics.median(modes["off"])
        report[kind] = {
            "on_us": {
                "median": round(on, 1),
                "min": round(min(modes["on"]), 1),
                "max": round(max(modes["on"]), 1),
            },
            "off_us": {
                "median": round(off, 1),
                "min": round(min(modes["off"]), 1),
                "max": round(max(modes["off"]), 1),
            },
            "cost_us_per_request": round(on - off, 1),
            "ratio_on_off": round(on / off, 3),
        }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
