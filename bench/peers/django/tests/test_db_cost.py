"""pytest-django's per-test floor: an empty test, one taking the `db` fixture, the same seeding
what each workload test seeds, and the same sending one request refused before any query.

Run back to back per index by bench/benchkit/pertest.py, as the fastsuite side's
bench/workloads/harness_cost is: db cost per test = median(db) - median(empty), and so on.
"""

from __future__ import annotations

import os

import pytest

from tests.factories import ContextFactory, UserFactory

N = int(os.environ.get("BENCH_TESTS", "200"))


@pytest.mark.parametrize("i", range(N))
def test_empty_sync(i):
    pass


@pytest.mark.parametrize("i", range(N))
def test_db(db, i):
    pass


@pytest.mark.parametrize("i", range(N))
def test_seeding(db, i):
    admin = UserFactory(username="bench-admin", admin=True)
    ContextFactory.create_batch(5, owner=admin)


@pytest.mark.parametrize("i", range(N))
def test_one_request(db, client, i):
    response = client.get("/api/contexts")
    assert response.status_code == 401
