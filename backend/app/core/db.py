"""The engine, the sessionmaker and the FastAPI session dependency, all built on first use.

Routes get their session through `get_session` (tests override it); code that opens a session
on its own calls `get_sessionmaker()()` when it needs one and never keeps the sessionmaker or
the engine elsewhere (tests reconfigure the sessionmaker in place).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from app.core.config import get_settings

SQLITE_BUSY_TIMEOUT_SECONDS = 30


def sqlite_file_path(url: URL) -> Path | None:
    """The database file of a SQLite URL, or None for other databases and in-memory SQLite."""
    if url.get_backend_name() != "sqlite":
        return None
    database = url.database or ""
    if database in ("", ":memory:") or database.startswith("file:"):
        return None
    return Path(database)


def _install_sqlite_hooks(
    engine: AsyncEngine, *, foreign_keys: bool, file_path: Path | None
) -> None:
    sync_engine = engine.sync_engine

    @event.listens_for(sync_engine, "do_connect")
    def _create_directory(*_: Any) -> None:
        # The default database lives under backend/var/, created on first connection only.
        if file_path is not None:
            file_path.parent.mkdir(parents=True, exist_ok=True)

    @event.listens_for(sync_engine, "connect")
    def _configure_connection(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when a transaction starts (see _begin).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA foreign_keys={'ON' if foreign_keys else 'OFF'}")
        if file_path is not None:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_SECONDS * 1000}")
        cursor.close()

    if file_path is not None:
        # A deferred transaction that reads and then writes cannot wait for a concurrent writer
        # (SQLite fails it at once with "database is locked"); taking the write lock at BEGIN
        # makes concurrent requests queue on the busy timeout instead.
        @event.listens_for(sync_engine, "begin")
        def _begin(connection: Any) -> None:
            connection.exec_driver_sql("BEGIN IMMEDIATE")

    else:

        @event.listens_for(sync_engine, "begin")
        def _begin_deferred(connection: Any) -> None:
            connection.exec_driver_sql("BEGIN")


def create_engine_for_url(
    url: str | URL, *, foreign_keys: bool = True, **kwargs: Any
) -> AsyncEngine:
    """An async engine for `url`, statement parameters hidden from errors and logs; on SQLite,
    foreign keys are enforced on every connection.

    The migrations pass `foreign_keys=False` (SQLite's batch mode rebuilds tables, and a
    cascade fired by dropping a table would delete rows).
    """
    url = make_url(url)
    file_path = sqlite_file_path(url)
    # Statement parameters stay out of error messages and of SQLAlchemy's INFO log: they carry
    # password hashes (auth_user.password) and users' data.
    kwargs.setdefault("hide_parameters", True)
    if file_path is not None:
        kwargs.setdefault("connect_args", {"timeout": SQLITE_BUSY_TIMEOUT_SECONDS})
    engine = create_async_engine(url, **kwargs)
    if url.get_backend_name() == "sqlite":
        _install_sqlite_hooks(engine, foreign_keys=foreign_keys, file_path=file_path)
    return engine


@cache
def get_engine() -> AsyncEngine:
    """The application's engine for `DATABASE_URL`, created on first call."""
    url = make_url(get_settings().DATABASE_URL)
    # A server can drop idle connections; a SQLite file cannot, so it skips the ping.
    return create_engine_for_url(url, pool_pre_ping=url.get_backend_name() != "sqlite")


@cache
def get_sessionmaker() -> async_sessionmaker[AsyncSession]:
    """The application's sessionmaker (`expire_on_commit=False`), created on first call."""
    return async_sessionmaker(get_engine(), expire_on_commit=False)


async def get_session() -> AsyncIterator[AsyncSession]:
    """FastAPI dependency: one session and one transaction per request.

    Services only flush; this commits once when the endpoint returns and rolls back when it
    raises (an HTTP error included), so a request writes all of its changes or none. Used with
    `scope="function"` (see `app.api.deps.SessionDep`): the commit happens before the response
    is sent, so a commit that fails is still the request's error, not a lost write after a 2xx.
    """
    # Not `async with`: AsyncSession.__aexit__ closes in a task of its own under
    # asyncio.shield, one more task and event-loop pass per request, while FastAPI (0.165 here)
    # already runs a yield dependency's exit shielded from cancellation. Where it does not (an
    # older FastAPI, a CLI), keep `async with`.
    session = get_sessionmaker()()
    try:
        yield session
    except BaseException:
        await session.rollback()
        raise
    else:
        await session.commit()
    finally:
        await session.close()


def engine_created() -> bool:
    return get_engine.cache_info().currsize > 0
