"""--fastsuite-schema=migrations: the test database is built by `alembic upgrade head`."""

from __future__ import annotations

import pytest
from postgresql_server import POSTGRESQL_URL, requires_postgresql

BUILT_BY_MIGRATIONS = """
from sqlalchemy import text


async def test_the_schema_was_built_by_the_migrations(db_session):
    version = await db_session.scalar(text("SELECT version_num FROM alembic_version"))
    assert version == "0002"
"""

WRITES = """
from sqlalchemy import func, select
from notes_app import Author, Note


async def test_a_write_of_the_app(client, db_session):
    response = await client.post("/notes", json={"author": "ann", "text": "first"})
    assert response.status_code == 201
    assert await db_session.scalar(select(func.count()).select_from(Note)) == 1


async def test_a_write_of_the_test(client, db_session):
    db_session.add(Author(name="bob"))
    await db_session.commit()
    assert await db_session.scalar(select(func.count()).select_from(Author)) == 1
    assert (await client.get("/notes")).json() == []
"""

EMPTY = """
from sqlalchemy import func, select
from notes_app import Author, Note


async def test_the_database_starts_empty(db_session):
    assert await db_session.scalar(select(func.count()).select_from(Author)) == 0
    assert await db_session.scalar(select(func.count()).select_from(Note)) == 0
"""

NOTES_TABLE = """
async def test_notes_can_be_written(client):
    response = await client.post("/notes", json={"author": "ann", "text": "first"})
    assert response.status_code == 201
"""

DATABASES = {
    "sqlite": [],
    "postgresql": pytest.param(
        [f"--fastsuite-db-url={POSTGRESQL_URL}"], marks=[requires_postgresql, pytest.mark.slow]
    ),
}


@pytest.mark.parametrize("database", DATABASES.values(), ids=DATABASES.keys())
@pytest.mark.parametrize("order", ["writes-first", "empty-first"])
def test_migrations_build_the_schema_and_every_test_is_rolled_back(pytester, database, order):
    pytester.copy_example("notes_app")
    pytester.makepyfile(test_built=BUILT_BY_MIGRATIONS, test_writes=WRITES, test_empty=EMPTY)
    files = ["test_built.py", "test_writes.py", "test_empty.py"]
    if order == "empty-first":
        files.reverse()

    result = pytester.runpytest("--fastsuite-schema=migrations", *database, *files)

    result.assert_outcomes(passed=4)
    result.stdout.fnmatch_lines(["  schema: migrations (option)"])


@pytest.mark.slow
def test_migrations_schema_works_with_xdist(pytester):
    pytester.copy_example("notes_app")
    pytester.makepyfile(test_built=BUILT_BY_MIGRATIONS, test_writes=WRITES, test_empty=EMPTY)

    result = pytester.runpytest_subprocess(
        "--fastsuite-schema=migrations", "-p", "xdist", "-n", "2"
    )

    result.assert_outcomes(passed=4)


def test_a_table_the_migrations_forgot_fails_in_migrations_mode_only(pytester):
    pytester.copy_example("notes_app")
    (pytester.path / "migrations" / "versions" / "0002_notes.py").unlink()
    pytester.makepyfile(test_notes=NOTES_TABLE)

    from_models = pytester.runpytest()
    from_migrations = pytester.runpytest("--fastsuite-schema=migrations")

    # create_all builds the table the migrations lack: green, and wrong in production.
    from_models.assert_outcomes(passed=1)
    from_migrations.assert_outcomes(errors=1)
    from_migrations.stdout.fnmatch_lines(["*no such table: notes*"])


ENV_WITH_ITS_OWN_ENGINE = """
from alembic import context
from sqlalchemy import create_engine

with create_engine("sqlite://").connect() as connection:
    context.configure(connection=connection)
    with context.begin_transaction():
        context.run_migrations()
"""


def test_an_env_py_that_ignores_the_harness_connection_is_named(pytester):
    pytester.copy_example("notes_app")
    (pytester.path / "migrations" / "env.py").write_text(ENV_WITH_ITS_OWN_ENGINE)
    pytester.makepyfile(test_notes=NOTES_TABLE)

    result = pytester.runpytest("--fastsuite-schema=migrations")

    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [
            "*fastsuite: the migrations of fastsuite_alembic_config = alembic.ini (ini) ran, but "
            "not on the test database: env.py must use the connection*"
            "config.attributes?'connection'?*"
        ]
    )


ENV_WAITING_ON = """
import asyncio
from concurrent.futures import ThreadPoolExecutor

from alembic import context
from notes_app import Base
from sqlalchemy.ext.asyncio import create_async_engine

config = context.config


def run(connection):
    context.configure(connection=connection, target_metadata=Base.metadata)
    with context.begin_transaction():
        context.run_migrations()


async def run_async():
    engine = create_async_engine("sqlite+aiosqlite://")  # a database of its own
    async with engine.connect() as connection:
        await connection.run_sync(run)
    await engine.dispose()


loop = asyncio.get_running_loop()
if {waits_on_the_running_loop}:
    # As templates write it "for pytest-asyncio": schedule on the running loop and wait.
    asyncio.run_coroutine_threadsafe(run_async(), loop).result(timeout=60)
else:
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, run_async()).result(timeout=60)
"""


@pytest.mark.parametrize("database", DATABASES.values(), ids=DATABASES.keys())
def test_an_env_py_that_waits_on_the_loop_it_runs_in_is_named_at_once(pytester, database):
    pytester.copy_example("notes_app")
    env = ENV_WAITING_ON.format(waits_on_the_running_loop=True)
    (pytester.path / "migrations" / "env.py").write_text(env)
    pytester.makepyfile(test_notes=NOTES_TABLE)

    result = pytester.runpytest("--fastsuite-schema=migrations", *database)

    # Without the watch, the run would sit out env.py's 60 s timeout, then a bare TimeoutError.
    # In-memory SQLite builds the schema in the first test's setup; PostgreSQL at start-up.
    expected = pytest.ExitCode.USAGE_ERROR if database else pytest.ExitCode.TESTS_FAILED
    assert result.ret == expected
    output = pytest.LineMatcher(result.outlines + result.errlines)
    output.fnmatch_lines(
        [
            "*fastsuite: the migrations of fastsuite_alembic_config = alembic.ini (ini) never "
            "ran: env.py scheduled them on the event loop it runs in "
            "(asyncio.run_coroutine_threadsafe(..., loop)) and waited for them*"
        ]
    )
    output.no_fnmatch_line("*TimeoutError*")


def test_an_env_py_that_waits_on_another_thread_is_left_to_finish(pytester):
    pytester.copy_example("notes_app")
    env = ENV_WAITING_ON.format(waits_on_the_running_loop=False)
    (pytester.path / "migrations" / "env.py").write_text(env)
    pytester.makepyfile(test_notes=NOTES_TABLE)

    result = pytester.runpytest("--fastsuite-schema=migrations")

    # Its own loop, its own engine: it finishes, on another in-memory database, and is named
    # for that (not for waiting, which was harmless here).
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*ran, but not on the test database*"])
    result.stdout.no_fnmatch_line("*never ran*")
