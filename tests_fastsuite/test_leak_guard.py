"""The leak guard: rows committed outside a test's transaction fail that test, naming the table,
and the database is restored so the next test starts clean.
"""

from __future__ import annotations

import pytest

LEAKS = """
from sqlalchemy import func, select, text
from items_app import AuditEntry, Item, Owner


async def count(session, model):
    return await session.scalar(select(func.count()).select_from(model))


async def test_commits_the_outer_transaction(db_session):
    owner = Owner(name="leaked")
    db_session.add(owner)
    await db_session.flush()
    db_session.add_all([Item(name="leaked-1", owner_id=owner.id), Item(name="leaked-2")])
    await db_session.flush()
    # The session's connection is the test's: committing it commits the test's transaction.
    await (await db_session.connection()).commit()


async def test_commits_behind_sqlalchemys_back(db_session):
    # A raw COMMIT: SQLAlchemy still believes its transaction open; the driver knows better.
    connection = await db_session.connection()
    await connection.exec_driver_sql("INSERT INTO owners (name) VALUES ('raw')")
    await connection.exec_driver_sql("COMMIT")


async def test_next_test_starts_clean(db_session, client):
    assert await count(db_session, Owner) == 0
    assert await count(db_session, Item) == 0
    assert (await client.get("/items")).json() == []


async def test_rolled_back_writes_are_no_leak(db_session, client):
    await client.post("/items", json={"name": "rolled-back"})
    db_session.add(Owner(name="rolled-back"))
    await db_session.commit()
"""


@pytest.mark.parametrize("driver", ["loop", "aiosqlite"])
def test_leak_guard_fails_the_test_naming_the_table_and_restores(items_project, driver):
    items_project.makepyfile(test_leaks=LEAKS)

    result = items_project.runpytest(f"--fastsuite-sqlite-driver={driver}")

    result.assert_outcomes(passed=4, errors=2)
    result.stdout.fnmatch_lines(
        [
            "*ERROR at teardown of test_commits_behind_sqlalchemys_back*",
            "fastsuite: rows were committed outside this test's transaction and would leak into "
            "the next tests: table owners has 1 rows (had 0).*",
        ]
    )
    result.stdout.fnmatch_lines(
        [
            "*ERROR at teardown of test_commits_the_outer_transaction*",
            "fastsuite: rows were committed outside this test's transaction and would leak into "
            "the next tests: table items has 2 rows (had 0), table owners has 1 rows (had 0). "
            "Write through the db_session or client fixtures*fastsuite has restored the database.",
        ]
    )
    result.stdout.fnmatch_lines(["ERROR test_leaks.py::test_commits_the_outer_transaction - *"])


LIFESPAN_SEED = """
import pytest
from sqlalchemy import select
from items_app import Owner


async def owner_names(session):
    return list((await session.scalars(select(Owner.name).order_by(Owner.id))).all())


async def test_first_client_test_is_not_blamed_for_the_lifespan(client, db_session):
    assert await owner_names(db_session) == ["from-lifespan"]


async def test_writes_are_rolled_back_to_the_lifespan_data(client, db_session):
    await client.post("/items", json={"name": "x"})
    db_session.add(Owner(name="from-test"))
    await db_session.commit()
    assert await owner_names(db_session) == ["from-lifespan", "from-test"]


@pytest.mark.fastsuite_db(transaction=True)
async def test_real_commits(client, db_session):
    assert await owner_names(db_session) == ["from-lifespan"]
    db_session.add(Owner(name="committed"))
    await db_session.commit()


async def test_restore_keeps_the_lifespan_data(client, db_session):
    assert await owner_names(db_session) == ["from-lifespan"]
"""


@pytest.mark.parametrize("driver", ["loop", "aiosqlite"])
def test_rows_the_lifespan_commits_are_part_of_the_database_at_rest(items_project, driver):
    items_project.makepyfile(test_lifespan_seed=LIFESPAN_SEED)

    result = items_project.runpytest(
        "-o", "fastsuite_app=items_app:create_seeding_app", f"--fastsuite-sqlite-driver={driver}"
    )

    result.assert_outcomes(passed=4)
