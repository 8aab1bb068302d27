"""Instructions per test of one variant of a per-test-floor file, repeatable whatever the load.

A pytest plugin: under callgrind started with instrumentation off, it turns instrumentation on
at the test of index CG_FROM and off at the one of index CG_TO (test functions parametrized
over `i`, as in bench/workloads/harness_cost), so the count covers CG_TO - CG_FROM whole
tests (setup, call, teardown), past the session's one-off set-up. Run one variant per process:

    BENCH_TESTS=81 CG_FROM=20 CG_TO=80 PYTHONPATH=bench:bench/micro \\
        valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file=/tmp/cg.out \\
        .venv/bin/python -m pytest -q -p no:randomly -p no:cacheprovider -p callgrind_window \\
        bench/workloads/harness_cost/test_harness_cost.py -k test_client_and_db_session

then divide the `totals:` line of /tmp/cg.out by 60; the harness's cost per test is that of
test_client_and_db_session minus that of test_empty_async. Measurement only.
"""

from __future__ import annotations

import os
import subprocess

import pytest

FROM = int(os.environ.get("CG_FROM", "20"))
TO = int(os.environ.get("CG_TO", "80"))
_state = {"on": False, "done": False}


def _instrumentation(switch: str) -> None:
    subprocess.run(
        ["callgrind_control", "-i", switch, str(os.getpid())], check=True, capture_output=True
    )


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_protocol(item: pytest.Item) -> None:
    callspec = getattr(item, "callspec", None)
    i = None if callspec is None else callspec.params.get("i")
    if i is None or _state["done"]:
        return
    if not _state["on"] and i >= FROM:
        _instrumentation("on")
        _state["on"] = True
    elif _state["on"] and i >= TO:
        _instrumentation("off")
        _state["done"] = True
