"""pytest-django's per-test floor: an empty test, and an empty test taking the `db` fixture.

Run back to back per index by bench/benchkit/pertest.py, as the fastsuite side's
bench/workloads/harness_cost is: db cost per test = median(db) - median(empty).
"""

from __future__ import annotations

import os

import pytest

N = int(os.environ.get("BENCH_TESTS", "200"))


@pytest.mark.parametrize("i", range(N))
def test_empty_sync(i):
    pass


@pytest.mark.parametrize("i", range(N))
def test_db(db, i):
    pass
