"""Seed data shared by a module or a class: created once, each test rolled back to it."""

from __future__ import annotations

import pytest

HELPERS = """
from sqlalchemy import select
from items_app import AuditEntry, Item, Owner


async def owner_names(session):
    return list((await session.scalars(select(Owner.name).order_by(Owner.id))).all())
"""

SEEDED_MODULE = (
    HELPERS
    + """
import pytest
from items_factories import OwnerFactory


@pytest.fixture(scope="module", autouse=True)
async def seed(module_db_session):
    owner = await OwnerFactory.acreate(name="module-owner")
    module_db_session.add(Item(name="module-item", owner_id=owner.id))
    await module_db_session.commit()
    return owner


async def test_sees_the_seed_and_writes(db_session):
    assert await owner_names(db_session) == ["module-owner"]
    await OwnerFactory.acreate(name="first")
    await db_session.commit()
    assert await owner_names(db_session) == ["module-owner", "first"]


async def test_is_rolled_back_to_the_seed(db_session):
    assert await owner_names(db_session) == ["module-owner"]
    db_session.add(Owner(name="second"))
    await db_session.commit()


async def test_app_sees_the_seed(client, seed):
    assert (await client.get("/owners/count")).json() == 1
    response = await client.post("/items", json={"name": "posted", "owner_id": seed.id})
    assert response.status_code == 201
    assert (await client.get("/items")).json() == ["module-item", "posted"]
    assert (await client.get("/audit")).json() == ["created posted"]


async def test_app_writes_are_rolled_back_to_the_seed(client):
    assert (await client.get("/items")).json() == ["module-item"]
    assert (await client.get("/audit")).json() == []


@pytest.fixture(scope="class")
async def class_seed(class_db_session):
    await OwnerFactory.acreate(name="class-owner")


@pytest.mark.usefixtures("class_seed")
class TestClassSeed:
    async def test_sees_module_and_class_seed(self, db_session):
        assert await owner_names(db_session) == ["module-owner", "class-owner"]
        await OwnerFactory.acreate(name="in-class")

    async def test_is_rolled_back_to_the_class_seed(self, client, db_session):
        assert await owner_names(db_session) == ["module-owner", "class-owner"]
        assert (await client.get("/owners/count")).json() == 2


async def test_after_the_class_sees_the_module_seed_only(db_session):
    assert await owner_names(db_session) == ["module-owner"]
"""
)

OTHER_SEEDED_MODULE = (
    HELPERS
    + """
import pytest


@pytest.fixture(scope="module", autouse=True)
async def seed(module_db_session):
    module_db_session.add(Owner(name="other-owner"))
    await module_db_session.flush()


async def test_sees_its_own_seed_only(db_session):
    assert await owner_names(db_session) == ["other-owner"]
"""
)

PLAIN_MODULE = (
    HELPERS
    + """
async def test_no_seed_here(client, db_session):
    assert await owner_names(db_session) == []
    assert (await client.get("/items")).json() == []
"""
)


@pytest.mark.parametrize("order", ["seeded-first", "plain-first"])
def test_seed_data_is_shared_by_module_and_class_and_gone_after(items_project, order):
    items_project.makepyfile(
        test_seeded_module=SEEDED_MODULE,
        test_other_seeded_module=OTHER_SEEDED_MODULE,
        test_plain_module=PLAIN_MODULE,
    )
    files = ["test_seeded_module.py", "test_other_seeded_module.py", "test_plain_module.py"]
    if order == "plain-first":
        files.reverse()

    result = items_project.runpytest("-v", *files)

    result.assert_outcomes(passed=9)
    result.stdout.fnmatch_lines([f"{files[0]}::* PASSED*"])
