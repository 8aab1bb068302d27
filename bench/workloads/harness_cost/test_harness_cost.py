"""The per-test floor of fastsuite: what a test pays for pytest-asyncio, the harness's fixtures,
the workload's seeding and one request.

Variants per index, run back to back (bench/benchkit/pertest.py orders and times them): an
empty sync test, an empty async test, one taking `client` and `db_session` (a BEGIN and a
ROLLBACK, a session, a client on the app, the overrides restored), the same seeding what each
workload test seeds (1 admin + 5 contexts, through the factories), and the same sending one
request the app refuses before any query (GET /api/contexts without a token: 401).
Harness cost per test = median(client + db_session) - median(empty async), and so on.

    BENCH_TESTS=500 BENCH_PERTEST_OUT=/tmp/cost.json PYTHONPATH=bench \\
        uv run pytest -q -p no:randomly -p benchkit.pertest \\
        bench/workloads/harness_cost/test_harness_cost.py
"""

from __future__ import annotations

import os

import pytest
from tests.factories import DEFAULT_PASSWORD, ContextFactory, UserFactory

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


@pytest.mark.parametrize("i", range(N))
async def test_seeding(client, db_session, i):
    admin = await UserFactory.acreate(username="bench-admin", admin=True, password=DEFAULT_PASSWORD)
    await ContextFactory.acreate_batch(5, owner=admin)


@pytest.mark.parametrize("i", range(N))
async def test_one_request(client, db_session, i):
    response = await client.get("/api/contexts")
    assert response.status_code == 401
