"""Concurrent requests in one test (asyncio.gather): every one answered, consistently, both in
the test's transaction (the harness makes them take turns on its connection) and with real
commits. Never a hang, never "database table is locked", never a 500.
"""

from __future__ import annotations

import asyncio

import pytest
from app.models import Context
from sqlalchemy import select

from tests.conftest import bearer
from tests.factories import ContextFactory, UserFactory

# Not a timing assertion: a deadlock would otherwise hang the whole run instead of failing.
HANG_GUARD_SECONDS = 120


async def _all(*requests):
    return await asyncio.wait_for(asyncio.gather(*requests), HANG_GUARD_SECONDS)


def _statuses(responses) -> list[int]:
    return [response.status_code for response in responses]


# --- in the test's transaction ------------------------------------------------------------


async def test_fifty_concurrent_creates_and_reads_through_one_client_all_succeed(user_client, user):
    seeded = await ContextFactory.acreate(owner=user, name="seeded")
    names = [f"concurrent {n}" for n in range(20)]

    responses = await _all(
        *(user_client.post("/api/contexts", json={"name": name}) for name in names),
        *(user_client.get("/api/contexts") for _ in range(20)),
        *(user_client.get(f"/api/contexts/{seeded.id}") for _ in range(10)),
    )
    creates, lists, gets = responses[:20], responses[20:40], responses[40:]

    assert _statuses(creates) == [201] * 20
    assert _statuses(lists) == [200] * 20
    assert _statuses(gets) == [200] * 10
    assert [response.json()["name"] for response in creates] == names
    assert len({response.json()["id"] for response in creates}) == 20
    known = {"seeded", *names}
    for listed in (response.json() for response in lists):
        # Each read saw a consistent state: somewhere between no create and all of them.
        assert listed["total"] == len(listed["items"])
        assert 1 <= listed["total"] <= 21
        assert {item["name"] for item in listed["items"]} <= known
    assert all(response.json() == gets[0].json() for response in gets)
    final = (await user_client.get("/api/contexts")).json()
    assert {item["name"] for item in final["items"]} == known


async def test_fifty_concurrent_creates_of_one_name_make_one_context_and_49_conflicts(
    user_client, db_session
):
    responses = await _all(
        *(user_client.post("/api/contexts", json={"name": "taken once"}) for _ in range(50))
    )

    assert sorted(_statuses(responses)) == [201] + [409] * 49
    names = (await db_session.scalars(select(Context.name))).all()
    assert names == ["taken once"]


async def test_concurrent_requests_of_different_users_each_see_only_their_own(
    client_factory, db_session
):
    owners = [await UserFactory.acreate(username=f"owner{n}") for n in range(5)]
    clients = [client_factory(headers=bearer(owner)) for owner in owners]

    creates = await _all(
        *(
            each.post("/api/contexts/bulk", json={"items": [{"name": "mine"}, {"name": "also"}]})
            for each in clients
        ),
        *(
            each.post("/api/contexts", json={"name": f"single {n}"})
            for n, each in enumerate(clients)
        ),
    )
    lists = await _all(*(each.get("/api/contexts") for each in clients for _ in range(8)))

    assert _statuses(creates) == [201] * 10
    assert _statuses(lists) == [200] * 40
    for n, listed in enumerate(lists):
        owner = owners[n // 8]
        items = listed.json()["items"]
        assert {item["owner_id"] for item in items} == {owner.id}
        assert {item["name"] for item in items} == {"mine", "also", f"single {n // 8}"}


# --- with real commits ----------------------------------------------------------------------


@pytest.mark.fastsuite_db(transaction=True)
async def test_fifty_concurrent_requests_with_real_commits_all_succeed_and_are_committed(
    client_factory, db_session, db_engine
):
    owner = await UserFactory.acreate(username="committer")
    await db_session.commit()
    owner_client = client_factory(headers=bearer(owner))
    names = [f"committed {n}" for n in range(20)]

    responses = await _all(
        *(owner_client.post("/api/contexts", json={"name": name}) for name in names),
        *(owner_client.post("/api/contexts", json={"name": "raced"}) for _ in range(10)),
        *(owner_client.get("/api/contexts") for _ in range(20)),
    )
    creates, raced, lists = responses[:20], responses[20:30], responses[30:]

    assert _statuses(creates) == [201] * 20
    assert sorted(_statuses(raced)) == [201] + [409] * 9
    assert _statuses(lists) == [200] * 20
    for listed in (response.json() for response in lists):
        assert listed["total"] == len(listed["items"]) <= 21
    # Committed: another connection, outside every session of the test, sees every row.
    async with db_engine.connect() as other:
        stored = set((await other.scalars(select(Context.name))).all())
    assert stored == {*names, "raced"}
