"""Provisioning the test database: one engine per test process, dispatched on the backend's name.

A generic default plus per-backend overrides, as SQLAlchemy's own testing provision module does,
so adding a backend does not touch the fixtures that call these functions.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import StaticPool

from fastsuite import sqlite_loop

__all__ = ["Provisioned", "create_test_engine", "describe_url"]


@dataclass(frozen=True)
class Provisioned:
    """The engine the tests run on, and how to tear down what provisioning created."""

    engine: AsyncEngine
    drop: Callable[[], Any] | None = None


_creators: dict[str, Callable[[URL, str], AsyncEngine]] = {}


def _provides(backend: str) -> Callable[[Callable[[URL, str], AsyncEngine]], Any]:
    def register(creator: Callable[[URL, str], AsyncEngine]) -> Any:
        _creators[backend] = creator
        return creator

    return register


def create_test_engine(url: str | URL, *, sqlite_driver: str = "loop") -> AsyncEngine:
    """Build the engine for the test database at `url` (in-memory SQLite for `sqlite://`)."""
    parsed = make_url(url)
    creator = _creators.get(parsed.get_backend_name(), _generic_engine)
    return creator(parsed, sqlite_driver)


def describe_url(url: str | URL) -> str:
    """The URL as the report header shows it: password hidden, in-memory SQLite named so."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database in (None, "", ":memory:"):
        return "sqlite in-memory"
    return parsed.render_as_string(hide_password=True)


def _generic_engine(url: URL, sqlite_driver: str) -> AsyncEngine:
    return create_async_engine(url)


@_provides("sqlite")
def _sqlite_engine(url: URL, sqlite_driver: str) -> AsyncEngine:
    in_memory = url.database in (None, "", ":memory:")
    if in_memory and url.drivername in ("sqlite", "sqlite+pysqlite", f"sqlite+{sqlite_driver}"):
        driver = sqlite_loop.DRIVER_NAME if sqlite_driver == "loop" else sqlite_driver
        url = url.set(drivername=f"sqlite+{driver}")
    if url.drivername.endswith(sqlite_loop.DRIVER_NAME):
        sqlite_loop.register()
    # One connection for the whole process, held by a StaticPool. Isolation by rollback needs
    # the test and the app to share one transaction, hence one connection, so a pool of several
    # connections to one memory database (shared-cache mode) would buy nothing and cost
    # table-level locks that fail at once ("database table is locked"). A plain `sqlite://` URL
    # would give every connection its own empty database ("no such table").
    engine = create_async_engine(
        url,
        poolclass=StaticPool,
        connect_args={"check_same_thread": False},
    )
    _make_sqlite_transactional(engine)
    return engine


def _make_sqlite_transactional(engine: AsyncEngine) -> None:
    """Let SQLAlchemy, not the sqlite3 driver, emit BEGIN; and make SQLite stricter.

    The sqlite3 driver begins transactions lazily and commits on its own before some statements,
    so a SAVEPOINT can end up outside the outer transaction and survive its rollback. The cure is
    SQLAlchemy's documented one ("Transactions with SQLite and the sqlite3 driver"): turn the
    driver's transaction handling off and emit BEGIN when SQLAlchemy begins.
    """

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        # SQLite ignores foreign keys unless asked, and its LIKE ignores case where
        # PostgreSQL's does not: both would let tests pass that fail in production.
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA case_sensitive_like = ON")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN")
