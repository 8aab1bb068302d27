"""The leak guard: rows committed outside a test's transaction fail that test, naming the table,
and the database is restored so the next test starts clean.
"""

from __future__ import annotations

import pytest
from postgresql_server import database_of_its_own, requires_postgresql, url_with

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


ENGINE_COMMITS = """
from sqlalchemy import func, insert, select
from items_app import Item, Owner


async def count(session, model):
    return await session.scalar(select(func.count()).select_from(model))


async def test_1_commits_through_db_engine(db_engine):
    async with db_engine.begin() as connection:
        await connection.execute(insert(Owner).values(name="leaked"))


async def test_2_commits_through_a_connection_taken_from_db_engine(db_engine):
    async with db_engine.connect() as connection:
        await connection.execute(insert(Item).values(name="leaked-1"))
        await connection.execute(insert(Item).values(name="leaked-2"))
        await connection.commit()


async def test_3_the_next_test_starts_clean(db_session):
    assert await count(db_session, Owner) == 0
    assert await count(db_session, Item) == 0


async def test_4_db_engine_beside_the_tests_transaction(db_session, db_engine):
    async with db_engine.begin() as connection:
        await connection.execute(insert(Owner).values(name="leaked"))


async def test_5_the_next_test_starts_clean_too(db_session):
    assert await count(db_session, Owner) == 0


async def test_6_reads_through_db_engine(db_engine):
    async with db_engine.connect() as connection:
        assert await connection.scalar(select(func.count()).select_from(Owner)) == 0
"""
LEAKED = (
    "fastsuite: rows were committed outside this test's transaction and would leak into the "
    "next tests: {tables}. Write through the db_session or client fixtures (rolled back after "
    "each test), or mark the test @pytest.mark.fastsuite_db(transaction=True) so the database "
    "is restored after it. fastsuite has restored the database."
)
SECOND_TRANSACTION = (
    "fastsuite: a transaction was begun on db_engine while this test's transaction is open, "
    "and on SQLite every session of a test shares one connection: work through db_session "
    "(`await db_session.execute(...)`, `await db_session.connection()`) instead of "
    "db_engine.begin() or db_engine.connect(), or mark the test "
    "@pytest.mark.fastsuite_db(transaction=True) for real commits."
)


def assert_engine_commits_fail_their_own_test(result: pytest.RunResult) -> None:
    result.stdout.fnmatch_lines(
        [
            "*ERROR at teardown of test_1_commits_through_db_engine*",
            LEAKED.format(tables="table owners has 1 rows (had 0)"),
            "*ERROR at teardown of test_2_commits_through_a_connection_taken_from_db_engine*",
            LEAKED.format(tables="table items has 2 rows (had 0)"),
        ]
    )
    assert result.ret == pytest.ExitCode.TESTS_FAILED


@pytest.mark.parametrize("driver", ["loop", "aiosqlite"])
def test_commits_through_db_engine_fail_the_test_that_made_them(items_project, driver):
    items_project.makepyfile(test_engine=ENGINE_COMMITS)

    result = items_project.runpytest("-p", "no:randomly", f"--fastsuite-sqlite-driver={driver}")

    # 1 and 2: passed, then an error at teardown; 4: failed (SQLite has one connection).
    result.assert_outcomes(passed=5, errors=2, failed=1)
    assert_engine_commits_fail_their_own_test(result)
    result.stdout.fnmatch_lines(
        ["*test_4_db_engine_beside_the_tests_transaction*", SECOND_TRANSACTION]
    )


@pytest.mark.slow
@requires_postgresql
def test_commits_through_db_engine_fail_the_test_that_made_them_on_postgresql(items_project):
    items_project.makepyfile(test_engine=ENGINE_COMMITS)

    with database_of_its_own() as name:
        result = items_project.runpytest(
            "-p", "no:randomly", f"--fastsuite-db-url={url_with(name)}"
        )

    # 4 commits on a second connection of the pool: the leak guard names it at its teardown.
    result.assert_outcomes(passed=6, errors=3)
    assert_engine_commits_fail_their_own_test(result)
    result.stdout.fnmatch_lines(
        [
            "*ERROR at teardown of test_4_db_engine_beside_the_tests_transaction*",
            LEAKED.format(tables="table owners has 1 rows (had 0)"),
        ]
    )
