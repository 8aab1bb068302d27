"""The test sees what its requests wrote, ORM objects included, and the requests see what the
test changed, as when the app shared the test's session."""

from __future__ import annotations

import pytest
from postgresql_server import POSTGRESQL_URL, requires_postgresql

FRESH = """
from sqlalchemy import select

from fastsuite import assert_num_queries
from items_app import Item, Owner
from items_factories import ItemFactory


async def test_an_object_the_request_changed_shows_the_change(client, db_session):
    item = await ItemFactory.acreate(name="old")

    response = await client.patch(f"/items/{item.id}", json={"name": "new"})

    assert response.status_code == 200
    assert item.name == "new"
    assert not db_session.is_modified(item)


async def test_an_object_the_request_deleted_leaves_the_session(client, db_session):
    item = await ItemFactory.acreate()
    item_id = item.id

    assert (await client.delete(f"/items/{item_id}")).status_code == 204

    assert item not in db_session
    assert await db_session.get(Item, item_id) is None


async def test_a_write_in_raw_sql_is_seen_too(client, db_session):
    item = await ItemFactory.acreate(name="quiet")

    assert (await client.post(f"/items/{item.id}/shout")).status_code == 204

    assert item.name == "QUIET"


async def test_loaded_relationships_stay_usable(client, db_session):
    item = await ItemFactory.acreate(name="old")

    await client.patch(f"/items/{item.id}", json={"name": "new"})

    assert item.owner.name.startswith("owner")  # no lazy load, no MissingGreenlet


async def test_objects_loaded_by_a_query_are_fresh_too(client, db_session):
    await ItemFactory.acreate_batch(2)
    items = (await db_session.scalars(select(Item).order_by(Item.id))).all()

    await client.patch(f"/items/{items[1].id}", json={"name": "renamed"})

    assert [item.name for item in items] == [items[0].name, "renamed"]


async def test_the_request_sees_what_the_test_changed_without_flushing(client, db_session):
    item = await ItemFactory.acreate(name="before")
    item.name = "changed by the test"

    assert (await client.get("/items")).json() == ["changed by the test"]
    assert item.name == "changed by the test"


async def test_a_request_that_only_reads_costs_no_statement_of_the_harness(client, db_session):
    await ItemFactory.acreate()
    with assert_num_queries(1) as captured:
        await client.get("/items")
    assert captured.statements[0].startswith("SELECT items.name")


async def test_reading_objects_again_is_not_counted_in_query_budgets(client, db_session):
    item = await ItemFactory.acreate(name="old")
    with assert_num_queries(2) as captured:  # the app's SELECT and UPDATE
        await client.patch(f"/items/{item.id}", json={"name": "new"})
    assert [s.split()[0] for s in captured.statements] == ["SELECT", "UPDATE"]
    assert item.name == "new"
"""

DATABASES = {
    "sqlite": [],
    "postgresql": pytest.param(
        [f"--fastsuite-db-url={POSTGRESQL_URL}"], marks=[requires_postgresql, pytest.mark.slow]
    ),
}
# With fastsuite_sessionmaker the app's own dependency opens its sessions; without it, the
# harness overrides the dependency: both are requests in sessions of their own.
SESSION_ROUTES = {"sessionmaker": [], "dependency-override": ["-o", "fastsuite_sessionmaker="]}


@pytest.mark.parametrize("database", DATABASES.values(), ids=DATABASES.keys())
@pytest.mark.parametrize("route", SESSION_ROUTES.values(), ids=SESSION_ROUTES.keys())
def test_the_test_and_its_requests_see_each_others_writes(items_project, database, route):
    items_project.makepyfile(test_fresh=FRESH)

    result = items_project.runpytest(*database, *route)

    result.assert_outcomes(passed=8)
