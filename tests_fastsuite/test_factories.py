"""Factories through the async bridge: `await Factory.acreate()` in the test's transaction."""

from __future__ import annotations

FACTORIES = """
from sqlalchemy import func, select
from items_app import Item, Owner, Tag
from items_factories import ItemFactory, OwnerFactory, TagFactory


async def count(session, model):
    return await session.scalar(select(func.count()).select_from(model))


async def test_acreate_assigns_ids_and_persists_subfactory_relations(db_session):
    item = await ItemFactory.acreate(name="lamp")
    assert item.id is not None
    assert item.owner.id is not None
    assert item.owner_id == item.owner.id
    db_session.expunge_all()
    stored = await db_session.get(Item, item.id)
    assert stored.name == "lamp"
    assert (await db_session.get(Owner, item.owner_id)).name == item.owner.name
    assert await count(db_session, Owner) == 1


async def test_factory_rows_are_seen_by_the_app_and_rolled_back(client, db_session):
    await ItemFactory.acreate(name="chair")
    assert (await client.get("/items")).json() == ["chair"]
    assert await count(db_session, Item) == 1


async def test_acreate_batch_is_one_insert_whatever_the_size(db_session, assert_num_queries):
    with assert_num_queries(1) as captured:
        tags = await TagFactory.acreate_batch(7)
    assert captured.statements[0].startswith("INSERT INTO tags")
    assert captured[0].executemany
    assert len({tag.id for tag in tags}) == 7
    assert await count(db_session, Tag) == 7


async def test_acreate_batch_is_one_insert_returning_each_row_its_key(
    db_session, assert_num_queries
):
    owner = await OwnerFactory.acreate()
    # Integer keys the database assigns: one multi-row INSERT ... RETURNING (SQLite >= 3.35,
    # as on PostgreSQL), each key matched to its own object.
    with assert_num_queries(1) as captured:
        items = await ItemFactory.acreate_batch(5, owner=owner)
    assert captured.statements[0].startswith("INSERT INTO items")
    assert "RETURNING" in captured.statements[0]
    assert len({item.id for item in items}) == 5
    db_session.expunge_all()
    stored = (await db_session.execute(select(Item.id, Item.name, Item.owner_id))).all()
    assert sorted(stored) == sorted((item.id, item.name, owner.id) for item in items)


async def test_acreate_batch_with_subfactories_gets_their_ids(db_session):
    items = await ItemFactory.acreate_batch(3)
    assert len({item.owner_id for item in items}) == 3
    assert None not in {item.owner_id for item in items}
    assert all(item.owner_id == item.owner.id for item in items)
    assert await count(db_session, Owner) == 3
    owners = [item.owner.name for item in items]
    db_session.expunge_all()
    stored = (await db_session.execute(select(Item.name, Owner.name).join(Item.owner))).all()
    assert sorted(stored) == sorted(zip([item.name for item in items], owners, strict=True))


def test_build_touches_no_database():
    item = ItemFactory.build(name="sketch")
    assert item.id is None
    assert item.name == "sketch"
"""


def test_factories_persist_through_the_test_transaction(items_project):
    items_project.makepyfile(test_item_factories=FACTORIES)

    result = items_project.runpytest()

    result.assert_outcomes(passed=6)


SYNC_CREATE = """
import pytest
from items_factories import ItemFactory, OwnerFactory


async def test_sync_create(db_session):
    OwnerFactory.create()


async def test_sync_create_batch(db_session):
    OwnerFactory.create_batch(2)


async def test_sync_create_with_subfactory(db_session):
    ItemFactory.create()
"""


def test_sync_create_fails_with_a_clear_error(items_project):
    items_project.makepyfile(test_sync_create=SYNC_CREATE)

    result = items_project.runpytest()

    result.assert_outcomes(failed=3)
    message = (
        "*RuntimeError: {factory}.create() cannot persist through an AsyncSession from async "
        "code: use `await {factory}.acreate(...)` or `await {factory}.acreate_batch(n, ...)`*"
    )
    result.stdout.fnmatch_lines(
        [
            "*_ test_sync_create _*",
            message.format(factory="OwnerFactory"),
            "*_ test_sync_create_batch _*",
            message.format(factory="OwnerFactory"),
            "*_ test_sync_create_with_subfactory _*",
            message.format(factory="ItemFactory"),
        ]
    )


NO_SESSION = """
from items_factories import ItemFactory, OwnerFactory


async def test_acreate_without_db_session():
    await OwnerFactory.acreate()


async def test_acreate_batch_without_db_session():
    await ItemFactory.acreate_batch(2)
"""


def test_factory_without_db_session_fails_with_a_clear_error(items_project):
    items_project.makepyfile(test_no_session=NO_SESSION)

    result = items_project.runpytest()

    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(
        [
            "*RuntimeError: OwnerFactory.acreate() needs the test's database session: request "
            "the db_session or client fixture in this test.",
            "*RuntimeError: ItemFactory.acreate() needs the test's database session*",
        ]
    )
