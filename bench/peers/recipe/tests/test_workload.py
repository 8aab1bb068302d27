"""The benchmark workload on the best-known FastAPI recipe (same logic as every other leg)."""

from __future__ import annotations

import os

import pytest
from recipe_app.models import Context, User
from recipe_app.security import hash_password

N = int(os.environ.get("BENCH_TESTS", "200"))
PASSWORD = "bench-password-123"


@pytest.mark.parametrize("i", range(N))
async def test_workload(client, db_session, i):
    # A fixed username: if a previous test's rows leaked, this insert would fail.
    admin = User(
        username="bench-admin",
        email="bench-admin@example.com",
        password=hash_password(PASSWORD),
        is_staff=True,
        is_superuser=True,
    )
    db_session.add(admin)
    await db_session.flush()
    db_session.add_all(Context(owner_id=admin.id, name=f"context-{k}") for k in range(5))
    await db_session.commit()

    r = await client.post("/api/auth/login", json={"username": "bench-admin", "password": PASSWORD})
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
