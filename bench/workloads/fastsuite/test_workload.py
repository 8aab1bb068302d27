"""The benchmark workload on fastsuite + the reference backend (same logic as every other leg).

Each test seeds 1 admin + 5 contexts owned by it, then logs in, lists, creates one context and
bulk-creates 3. BENCH_TESTS chooses how many tests are generated. Run from the repository root,
so the root pyproject.toml's [tool.pytest.ini_options] (fastsuite_app etc.) and conftest apply:

    BENCH_TESTS=200 uv run pytest -q -p no:randomly bench/workloads/fastsuite/test_workload.py
"""

from __future__ import annotations

import os

import pytest
from tests.factories import DEFAULT_PASSWORD, ContextFactory, UserFactory

N = int(os.environ.get("BENCH_TESTS", "200"))


@pytest.mark.parametrize("i", range(N))
async def test_workload(client, db_session, i):
    # A fixed username: if a previous test's rows leaked, this insert would fail.
    admin = await UserFactory.acreate(username="bench-admin", admin=True, password=DEFAULT_PASSWORD)
    await ContextFactory.acreate_batch(5, owner=admin)

    r = await client.post(
        "/api/auth/login", json={"username": "bench-admin", "password": DEFAULT_PASSWORD}
    )
    assert r.status_code == 200, r.text
    headers = {"Authorization": f"Bearer {r.json()['access_token']}"}

    r = await client.get("/api/contexts", headers=headers)
    assert r.status_code == 200, r.text
    page = r.json()
    assert page["total"] == 5
    assert len(page["items"]) == 5

    r = await client.post(
        "/api/contexts", json={"name": f"new-{i}", "data": {"i": i}}, headers=headers
    )
    assert r.status_code == 201, r.text
    assert r.json()["name"] == f"new-{i}"

    items = [{"name": f"bulk-{k}"} for k in range(3)]
    r = await client.post("/api/contexts/bulk", json={"items": items}, headers=headers)
    assert r.status_code == 201, r.text
    assert [c["name"] for c in r.json()["items"]] == ["bulk-0", "bulk-1", "bulk-2"]
