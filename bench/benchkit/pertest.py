"""A pytest plugin for the per-test floor: each test index's variants run back to back, timed.

Loaded with `-p benchkit.pertest` (bench/ on PYTHONPATH). A file defines several test functions
(the variants: an empty test, one taking fixtures...), each parametrized over `i`; this plugin
orders the items by `i`, so the variants of one index run next to each other (their order
rotating with `i`), and writes each variant's per-test durations (setup, call and teardown, as
pytest_runtest_protocol runs them; wall and CPU time) to the JSON file named by
BENCH_PERTEST_OUT. The machine's noise then hits every variant alike, and differences of
medians are the variants' own costs.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Generator
from typing import Any

import pytest

# Per variant: wall-clock seconds, and the process's CPU seconds (less moved by other processes
# competing for the cores: a test descheduled for 10 ms costs 10 ms of wall time, no CPU time).
_durations: dict[str, dict[str, list[float]]] = {}


def _index(item: pytest.Item) -> int | None:
    callspec = getattr(item, "callspec", None)
    return None if callspec is None else callspec.params.get("i")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    indexed = [item for item in items if _index(item) is not None]
    others = [item for item in items if _index(item) is None]
    variants = sorted({item.originalname for item in indexed})  # type: ignore[attr-defined]

    def key(item: pytest.Item) -> tuple[int, int]:
        i = _index(item) or 0
        position = variants.index(item.originalname)  # type: ignore[attr-defined]
        return i, (position + i) % len(variants)

    items[:] = others + sorted(indexed, key=key)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: Any) -> Generator[None, None, None]:
    start, start_cpu = time.perf_counter(), time.process_time()
    yield
    wall, cpu = time.perf_counter() - start, time.process_time() - start_cpu
    variant = _durations.setdefault(item.originalname, {"wall": [], "cpu": []})  # type: ignore[attr-defined]
    variant["wall"].append(wall)
    variant["cpu"].append(cpu)


def pytest_sessionfinish(session: pytest.Session) -> None:
    out = os.environ.get("BENCH_PERTEST_OUT")
    if out:
        with open(out, "w") as fh:
            json.dump(_durations, fh)
