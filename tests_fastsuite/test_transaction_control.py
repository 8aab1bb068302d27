"""Transaction control on the harness's SQLite driver: sent straight to sqlite3, same behaviour.

BEGIN, SAVEPOINT, RELEASE and ROLLBACK TO skip SQLAlchemy's compilation there; its transaction
events, its errors and its echo must not notice.
"""

from __future__ import annotations

import pytest

CONTROL = """
import inspect
import logging

import pytest
from sqlalchemy import event, exc, text
from fastsuite._provision import create_test_engine


@pytest.fixture
async def engine():
    engine = create_test_engine("sqlite://", sqlite_driver="{driver}")
    async with engine.begin() as connection:
        await connection.exec_driver_sql("CREATE TABLE owners (name TEXT)")
    yield engine
    await engine.dispose()


async def test_transaction_events_fire_as_before(engine):
    heard = []

    def hear(name):
        return lambda *args: heard.append(name)

    for name in ("begin", "savepoint", "release_savepoint", "rollback_savepoint"):
        event.listen(engine.sync_engine, name, hear(name))
    async with engine.connect() as connection:
        async with connection.begin():
            async with connection.begin_nested():
                await connection.execute(text("INSERT INTO owners VALUES ('kept')"))
            undone = await connection.begin_nested()
            await connection.execute(text("INSERT INTO owners VALUES ('undone')"))
            await undone.rollback()
        names = (await connection.scalars(text("SELECT name FROM owners"))).all()
    assert heard == [
        "begin", "savepoint", "release_savepoint", "savepoint", "rollback_savepoint", "begin"
    ]
    assert names == ["kept"]


async def test_a_savepoint_that_is_gone_raises_sqlalchemys_error(engine):
    async with engine.connect() as connection, connection.begin():
        nested = await connection.begin_nested()
        await connection.exec_driver_sql("RELEASE SAVEPOINT sa_savepoint_1")  # behind its back
        with pytest.raises(exc.OperationalError, match="no such savepoint: sa_savepoint_1"):
            await nested.rollback()


async def test_a_begin_inside_a_transaction_is_refused_in_words(engine):
    # The connection is already in a transaction (a test's, on the process's one connection):
    # fastsuite refuses before SQLite would, saying what to do instead.
    async with engine.connect() as connection:
        raw = await connection.get_raw_connection()
        began = raw.driver_connection.execute("BEGIN")  # unknown to SQLAlchemy
        if inspect.isawaitable(began):
            await began
        with pytest.raises(pytest.fail.Exception, match="a transaction was begun on db_engine"):
            await connection.begin()


async def test_savepoint_names_are_quoted_only_where_they_need_it(engine):
    async with engine.connect() as connection, connection.begin():
        sync = connection.sync_connection
        preparer = sync.dialect.identifier_preparer
        kept = len(preparer._strings)
        for _ in range(20):
            async with connection.begin_nested():
                await connection.execute(text("INSERT INTO owners VALUES ('nested')"))
        if "{driver}" == "loop":  # SQLAlchemy's own statements keep every name they quote
            assert len(preparer._strings) == kept
        await connection.run_sync(lambda sync: sync.dialect.do_savepoint(sync, "select"))
        await connection.run_sync(
            lambda sync: sync.dialect.do_release_savepoint(sync, "select")
        )
        assert await connection.scalar(text("SELECT count(*) FROM owners")) == 20


async def test_an_echoing_engine_logs_its_transaction_control(engine, caplog):
    engine.echo = True
    with caplog.at_level(logging.INFO, logger="sqlalchemy.engine"):
        async with engine.connect() as connection, connection.begin():
            async with connection.begin_nested():
                await connection.execute(text("SELECT 1"))
            nested = await connection.begin_nested()
            await nested.rollback()
    logged = [record.getMessage() for record in caplog.records]
    for statement in (
        "BEGIN (implicit)",
        "SAVEPOINT sa_savepoint_1",
        "RELEASE SAVEPOINT sa_savepoint_1",
        "ROLLBACK TO SAVEPOINT sa_savepoint_2",
    ):
        assert statement in logged
"""


@pytest.mark.parametrize("driver", ["loop", "aiosqlite"])
def test_transaction_control_behaves_as_through_sqlalchemy(items_project, driver):
    items_project.makepyfile(test_control=CONTROL.replace("{driver}", driver))

    result = items_project.runpytest(f"--fastsuite-sqlite-driver={driver}")

    result.assert_outcomes(passed=5)
