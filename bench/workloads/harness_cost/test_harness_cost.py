"""The per-test floor of fastsuite: what a test pays for pytest-asyncio and the harness's fixtures.

Three variants per index, run back to back (bench/benchkit/pertest.py orders and times them):
an empty sync test, an empty async test, and an empty async test taking `client` and
`db_session` (a BEGIN and a ROLLBACK, a session, a client on the app, the overrides restored).
Harness cost per test = median(client + db_session) - median(empty async).

    BENCH_TESTS=500 BENCH_PERTEST_OUT=/tmp/cost.json PYTHONPATH=bench \\
        uv run pytest -q -p no:randomly -p benchkit.pertest bench/workloads/harness_cost
"""

from __future__ import annotations

import os

import pytest

N = int(os.environ.get("BENCH_TESTS", "200"))


@pytest.mark.parametrize("i", range(N))
def test_empty_sync(i):
    pass


@pytest.mark.parametrize("i", range(N))
async def test_empty_async(i):
    pass


@pytest.mark.parametrize("i", range(N))
async def test_client_and_db_session(client, db_session, i):
    pass
