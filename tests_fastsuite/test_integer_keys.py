"""Integer primary keys autoincrement on SQLite whatever their integer type, models unchanged."""

from __future__ import annotations

import pytest
from postgresql_server import POSTGRESQL_URL, requires_postgresql

INSERTS = """
from sqlalchemy import select

from bigint_app import Account, Color, Event, Tagging


async def test_the_app_inserts_rows_without_ids(client):
    first = (await client.post("/accounts", params={"name": "ann"})).json()
    second = (await client.post("/accounts", params={"name": "bob"})).json()

    assert first["account"] != second["account"]
    assert first["color"] != second["color"]
    assert first["event"] != second["event"]


async def test_the_test_inserts_rows_without_ids(db_session):
    account, color = Account(name="ann"), Color(name="red")
    db_session.add_all([account, color])
    await db_session.flush()
    event = Event(account_id=account.id, what="made by the test")
    db_session.add_all([event, Tagging(account_id=account.id, color_id=color.id)])
    await db_session.flush()

    assert isinstance(account.id, int) and isinstance(color.id, int) and isinstance(event.id, int)
    assert (await db_session.scalars(select(Tagging.color_id))).all() == [color.id]
"""

APP_ENGINE_LEFT_ALONE = """
from sqlalchemy.schema import CreateTable

import bigint_app
from bigint_app import Account


def test_the_apps_own_engine_still_declares_bigint():
    ddl = str(CreateTable(Account.__table__).compile(dialect=bigint_app.engine.dialect))
    assert "id BIGINT NOT NULL" in ddl


async def test_the_harness_engine_declares_integer(db_engine):
    ddl = str(CreateTable(Account.__table__).compile(dialect=db_engine.dialect))
    assert "id INTEGER NOT NULL" in ddl
"""

DATABASES = {
    "sqlite": [],
    "sqlite-aiosqlite": ["--fastsuite-sqlite-driver=aiosqlite"],
    "postgresql": pytest.param(
        [f"--fastsuite-db-url={POSTGRESQL_URL}"], marks=[requires_postgresql, pytest.mark.slow]
    ),
}


@pytest.mark.parametrize("database", DATABASES.values(), ids=DATABASES.keys())
@pytest.mark.parametrize("schema", ["metadata", "migrations"])
def test_bigint_smallint_and_identity_keys_are_assigned_by_the_database(pytester, database, schema):
    pytester.copy_example("bigint_app")
    pytester.makepyfile(test_inserts=INSERTS)

    result = pytester.runpytest(f"--fastsuite-schema={schema}", *database)

    result.assert_outcomes(passed=2)


def test_only_the_harness_engine_compiles_integer_keys(pytester):
    pytester.copy_example("bigint_app")
    pytester.makepyfile(test_engines=APP_ENGINE_LEFT_ALONE)

    result = pytester.runpytest()

    result.assert_outcomes(passed=2)


def test_drift_checks_see_no_difference_in_the_integer_keys(pytester):
    pytester.copy_example("bigint_app")
    pytester.makepyfile(test_inserts=INSERTS)

    result = pytester.runpytest("--fastsuite-drift", "--fastsuite-schema=migrations", ".")

    result.assert_outcomes(passed=6)
    result.stdout.no_fnmatch_line("*BIGINT*")
