"""No greenlet for the harness's in-memory engine; every other engine keeps SQLAlchemy's own."""

from __future__ import annotations

import pytest

GREENLETS = """
import pytest
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import Session
from sqlalchemy.util.concurrency import in_greenlet
from items_app import Base, Owner


@pytest.fixture
def greenlet_per_statement(db_engine):
    seen = []

    def record(_connection, _cursor, statement, *_rest):
        if statement.startswith(("SELECT", "INSERT")):  # transaction control aside
            seen.append(in_greenlet())

    event.listen(db_engine.sync_engine, "before_cursor_execute", record)
    yield seen
    event.remove(db_engine.sync_engine, "before_cursor_execute", record)


async def test_the_harness_engine_runs_statements_without_a_greenlet(
    db_engine, db_session, greenlet_per_statement
):
    db_session.add(Owner(name="a"))
    await db_session.flush()
    assert (await db_session.scalars(text("SELECT name FROM owners"))).all() == ["a"]
    connection = await db_session.connection()
    assert await connection.scalar(text("SELECT 1")) == 1
    # run_sync runs the user's function, which may await or ask in_greenlet(): a greenlet.
    await db_session.run_sync(lambda session: session.execute(text("SELECT 2")))
    assert greenlet_per_statement == [False, False, False, True]  # INSERT, 3 SELECTs


async def test_factories_persist_without_a_greenlet(db_session, greenlet_per_statement):
    from items_factories import OwnerFactory

    await OwnerFactory.acreate()
    await OwnerFactory.acreate_batch(2)
    assert greenlet_per_statement == [False, False]  # one INSERT each


class Routing(Session):
    def get_bind(self, mapper=None, **kwargs):
        return super().get_bind(mapper, **kwargs)


async def test_sessions_that_may_route_elsewhere_keep_their_greenlet(
    db_engine, db_session, greenlet_per_statement
):
    connection = await db_session.connection()
    joined = {"join_transaction_mode": "create_savepoint"}
    async with AsyncSession(connection, sync_session_class=Routing, **joined) as routing:
        await routing.execute(text("SELECT 1"))
    async with AsyncSession(binds={Owner: connection}, **joined) as per_mapper:
        await per_mapper.scalars(text("SELECT 1"), bind_arguments={"mapper": Owner})
    # A bind given for one call decides that call.
    await db_session.execute(text("SELECT 2"), bind_arguments={"bind": connection.sync_connection})
    assert greenlet_per_statement == [True, True, False]


async def test_an_aiosqlite_engine_of_the_app_still_awaits_its_driver(db_session, tmp_path):
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'own.db'}")
    seen = []
    event.listen(
        engine.sync_engine, "before_cursor_execute", lambda *_a: seen.append(in_greenlet())
    )
    try:
        async with engine.begin() as connection:
            await connection.run_sync(Base.metadata.create_all)
        async with async_sessionmaker(engine)() as session:
            session.add(Owner(name="own"))
            await session.commit()
            assert (await session.scalars(text("SELECT name FROM owners"))).all() == ["own"]
        async with engine.connect() as connection:
            assert await connection.scalar(text("SELECT count(*) FROM owners")) == 1
    finally:
        await engine.dispose()
    assert seen
    assert all(seen)
"""


@pytest.mark.parametrize("driver", ["loop", "aiosqlite"])
def test_only_the_harness_driver_skips_the_greenlet(items_project, driver):
    items_project.makepyfile(test_greenlets=GREENLETS)

    # The app-like engine of the last test is the test's own: allowed past the blocker.
    result = items_project.runpytest(
        f"--fastsuite-sqlite-driver={driver}", "--fastsuite-allow-db-urls=sqlite:///*/own.db"
    )

    if driver == "loop":
        result.assert_outcomes(passed=4)
    else:
        # aiosqlite awaits on every statement: the first three tests see greenlets throughout.
        result.assert_outcomes(passed=1, failed=3)
        result.stdout.fnmatch_lines(["*assert [[]True, True, True, True[]] == *"])


def test_a_coroutine_run_in_place_that_suspends_is_carried_on_by_the_loop():
    import asyncio

    from fastsuite._direct_calls import run_in_place

    async def in_place():
        return asyncio.get_running_loop()

    async def suspends():
        await asyncio.sleep(0)
        future = asyncio.get_running_loop().create_future()
        asyncio.get_running_loop().call_soon(future.set_result, "done")
        return await future, asyncio.current_task() is not None

    async def fails_after_suspending():
        await asyncio.sleep(0)
        raise LookupError("raised after the suspension")

    loop = asyncio.new_event_loop()
    try:
        assert run_in_place(loop, in_place()) is loop
        assert run_in_place(loop, suspends()) == ("done", True)
        with pytest.raises(LookupError, match="after the suspension"):
            run_in_place(loop, fails_after_suspending())
        assert asyncio.events._get_running_loop() is None
    finally:
        loop.close()
