"""The benchmark workload on Django + pytest-django (same logic as every other leg).

Each test seeds 1 admin + 5 contexts owned by it, then logs in, lists, creates one context and
bulk-creates 3. BENCH_TESTS chooses how many tests are generated.
"""

from __future__ import annotations

import os

import pytest

from tests.factories import DEFAULT_PASSWORD, ContextFactory, UserFactory

N = int(os.environ.get("BENCH_TESTS", "200"))
JSON = "application/json"


@pytest.mark.django_db
@pytest.mark.parametrize("i", range(N))
def test_workload(client, i):
    # A fixed username: if a previous test's rows leaked, this insert would fail.
    admin = UserFactory(username="bench-admin", admin=True)
    ContextFactory.create_batch(5, owner=admin)

    r = client.post(
        "/api/auth/login",
        {"username": "bench-admin", "password": DEFAULT_PASSWORD},
        content_type=JSON,
    )
    assert r.status_code == 200, r.content
    headers = {"Authorization": f"Bearer {r.json()['access_token']}"}

    r = client.get("/api/contexts", headers=headers)
    assert r.status_code == 200, r.content
    page = r.json()
    assert page["total"] == 5
    assert len(page["items"]) == 5

    r = client.post(
        "/api/contexts", {"name": f"new-{i}", "data": {"i": i}}, content_type=JSON, headers=headers
    )
    assert r.status_code == 201, r.content
    assert r.json()["name"] == f"new-{i}"

    items = [{"name": f"bulk-{k}"} for k in range(3)]
    r = client.post("/api/contexts/bulk", {"items": items}, content_type=JSON, headers=headers)
    assert r.status_code == 201, r.content
    assert [c["name"] for c in r.json()["items"]] == ["bulk-0", "bulk-1", "bulk-2"]
