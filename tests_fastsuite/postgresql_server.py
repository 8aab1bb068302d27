"""The PostgreSQL server the harness's own PostgreSQL tests use, and what they ask of it.

FASTSUITE_TEST_POSTGRESQL_URL names it (default: the CI machines' server); the tests that need
it are skipped, saying so, when nothing answers there.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import socket
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager
from typing import Any

# Imported here, once, by the outer run: pytester's in-process runs drop the modules they
# import, and importing Alembic or SQLAlchemy's PostgreSQL dialect again re-registers their
# SQL functions, which warns (an error, with filterwarnings = error).
import alembic.autogenerate
import alembic.command
import asyncpg
import pytest
import sqlalchemy.dialects.postgresql
from sqlalchemy.engine import make_url

__all__ = [
    "POSTGRESQL_URL",
    "advisory_lock_held",
    "database_of_its_own",
    "databases",
    "databases_made_beside",
    "on_sqlite_and_postgresql",
    "requires_postgresql",
    "sql",
    "url_with",
]
_PRELOADED = (alembic.autogenerate, alembic.command, sqlalchemy.dialects.postgresql)

POSTGRESQL_URL = os.environ.get(
    "FASTSUITE_TEST_POSTGRESQL_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
_URL = make_url(POSTGRESQL_URL)


def _answers() -> bool:
    try:
        with socket.create_connection((_URL.host or "localhost", _URL.port or 5432), timeout=1):
            return True
    except OSError:
        return False


requires_postgresql = pytest.mark.skipif(
    not _answers(), reason=f"no PostgreSQL server answers at {_URL.host}:{_URL.port}"
)

# A test run on the in-memory SQLite and, in the slow tier, on this server: its `database`
# parameter is the inner run's extra arguments.
on_sqlite_and_postgresql = pytest.mark.parametrize(
    "database",
    [
        pytest.param([], id="sqlite"),
        pytest.param(
            [f"--fastsuite-db-url={POSTGRESQL_URL}"],
            marks=[requires_postgresql, pytest.mark.slow],
            id="postgresql",
        ),
    ],
)


def url_with(database: str) -> str:
    return _URL.set(database=database).render_as_string(hide_password=False)


def _run(coroutine: Coroutine[Any, Any, Any]) -> Any:
    # A loop of its own, never installed as the current one (pytest-asyncio keeps its own).
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(coroutine)
    finally:
        loop.close()


async def _connect(database: str | None = None) -> asyncpg.Connection:
    return await asyncpg.connect(
        host=_URL.host,
        port=_URL.port,
        user=_URL.username,
        password=_URL.password,
        database=database or _URL.database,
    )


def sql(statement: str, *args: Any) -> list[Any]:
    """Run one statement on the server's URL database; its rows."""

    async def run() -> list[Any]:
        connection = await _connect()
        try:
            return list(await connection.fetch(statement, *args))
        finally:
            await connection.close()

    return _run(run())


def databases() -> set[str]:
    return {row["datname"] for row in sql("SELECT datname FROM pg_database")}


@contextmanager
def advisory_lock_held(lock_class: int, key: int, *, database: str) -> Iterator[None]:
    """Hold pg_advisory_lock(lock_class, key) in a session on `database`, as a live run does
    (advisory locks belong to the database their session is connected to)."""
    loop = asyncio.new_event_loop()
    connection = loop.run_until_complete(_connect(database))
    try:
        loop.run_until_complete(
            connection.execute("SELECT pg_advisory_lock($1, $2)", lock_class, key)
        )
        yield
    finally:
        loop.run_until_complete(connection.close())
        loop.close()


def databases_made_beside(database: str) -> set[str]:
    """The databases fastsuite runs made beside `database` (named `<database>_fs<run>_...`)."""
    return {name for name in databases() if name.startswith(f"{database}_fs")}


@contextmanager
def database_of_its_own(suffix: str = "_test") -> Iterator[str]:
    """A new database for one test's runs to connect to, so that other runs on the same server
    (another suite, a colleague's) neither see its databases nor change what it counts."""
    name = f"fsself_{secrets.token_hex(4)}{suffix}"
    sql(f"CREATE DATABASE {name}")
    try:
        yield name
    finally:
        for made in databases_made_beside(name):
            sql(f"DROP DATABASE IF EXISTS {made} WITH (FORCE)")
        sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
