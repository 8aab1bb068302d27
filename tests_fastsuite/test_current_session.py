"""fastsuite.current_session(): the test's session for factory libraries other than factory_boy
(polyfactory here); and loading the plugin imports neither factory_boy nor Faker."""

from __future__ import annotations

import subprocess
import sys

import pytest

POLYFACTORY = """
from polyfactory.factories.sqlalchemy_factory import SQLAlchemyFactory
from sqlalchemy import func, select

import fastsuite
from items_app import Item, Owner


class OwnerFactory(SQLAlchemyFactory[Owner]):
    __async_session__ = fastsuite.current_session
    __set_primary_key__ = False


class ItemFactory(SQLAlchemyFactory[Item]):
    __async_session__ = fastsuite.current_session
    __set_primary_key__ = False
    __set_foreign_keys__ = False
    __set_relationships__ = False


async def test_polyfactory_persists_in_the_test_transaction(client, db_session):
    owner = await OwnerFactory.create_async()
    items = await ItemFactory.create_batch_async(2, owner_id=owner.id)

    assert fastsuite.current_session() is db_session
    assert sorted((await client.get("/items")).json()) == sorted(item.name for item in items)
    assert await db_session.scalar(select(func.count()).select_from(Item)) == 2


async def test_the_next_test_starts_empty(db_session):
    assert await db_session.scalar(select(func.count()).select_from(Owner)) == 0
    assert await db_session.scalar(select(func.count()).select_from(Item)) == 0
"""


def test_polyfactory_persists_through_current_session(items_project):
    items_project.makepyfile(test_polyfactory=POLYFACTORY)

    result = items_project.runpytest("-p", "no:randomly")

    result.assert_outcomes(passed=2)


SEED = """
import pytest
import pytest_asyncio

import fastsuite
from items_app import Owner


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def seeded(module_db_session):
    assert fastsuite.current_session() is module_db_session
    module_db_session.add(Owner(name="seed"))
    await module_db_session.flush()


async def test_the_test_session_is_the_current_one_inside_the_seed(seeded, db_session):
    assert fastsuite.current_session() is db_session
"""


def test_current_session_is_the_seed_session_in_seed_fixtures(items_project):
    items_project.makepyfile(test_current_in_seed=SEED)

    result = items_project.runpytest()

    result.assert_outcomes(passed=1)


NO_DATABASE = """
import fastsuite


async def test_without_the_database():
    fastsuite.current_session()
"""


def test_current_session_without_the_database_names_the_fixtures_to_request(items_project):
    items_project.makepyfile(test_no_database=NO_DATABASE)

    result = items_project.runpytest()

    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "E * RuntimeError: fastsuite.current_session() is called outside a test that has the "
            "database: request the db_session or client fixture in this test (or the "
            "module_db_session or class_db_session fixture in a seed fixture)."
        ]
    )


@pytest.mark.parametrize("module", ["factory", "faker"])
def test_loading_the_plugin_imports_neither_factory_boy_nor_faker(module):
    # Faker's own pytest plugin still loads when plugins are auto-loaded: `-p no:faker`
    # keeps it out (README, "Time to first result").
    probe = f"import fastsuite.plugin, sys; print({module!r} in sys.modules)"

    output = subprocess.run(  # noqa: S603 (this interpreter, a fixed probe)
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout

    assert output.strip() == "False"
