"""Ids are never reused: a deleted row's id never goes to a new row (SQLite and PostgreSQL).

The harness's strict SQLite hands out each id once per test process whatever the schema says
(its `sequence_ids` check); that the app's own schema, which `backend serve` runs on, does it
too is checked by tests/migrations/test_ids_never_reused.py.
"""

from __future__ import annotations

from tests.factories import UserFactory


async def test_a_deleted_newest_context_id_is_not_given_to_the_next_context(user_client):
    first = (await user_client.post("/api/contexts", json={"name": "first"})).json()["id"]
    newest = (await user_client.post("/api/contexts", json={"name": "newest"})).json()["id"]
    deleted = await user_client.delete(f"/api/contexts/{newest}")

    created = await user_client.post("/api/contexts", json={"name": "next"})

    assert deleted.status_code == 204
    assert created.status_code == 201
    assert newest > first
    assert created.json()["id"] > newest


async def test_a_bulk_create_after_deletes_gets_only_new_ids(user_client):
    made = await user_client.post(
        "/api/contexts/bulk", json={"items": [{"name": f"n{n}"} for n in range(3)]}
    )
    ids = [item["id"] for item in made.json()["items"]]
    removed = await user_client.post("/api/contexts/bulk-delete", json={"ids": ids[1:]})

    again = await user_client.post(
        "/api/contexts/bulk", json={"items": [{"name": f"m{n}"} for n in range(3)]}
    )

    assert removed.json() == {"deleted": 2}
    assert min(item["id"] for item in again.json()["items"]) > max(ids)


async def test_a_deleted_newest_user_id_is_not_given_to_the_next_user(admin_client):
    newest = await UserFactory.acreate(username="newest")
    deleted = await admin_client.delete(f"/api/admin/users/{newest.id}")

    created = await admin_client.post(
        "/api/admin/users", json={"username": "next", "password": "a good password"}
    )

    assert deleted.status_code == 204
    assert created.status_code == 201
    assert created.json()["id"] > newest.id
