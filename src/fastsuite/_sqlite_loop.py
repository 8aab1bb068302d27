"""In-memory SQLite for async SQLAlchemy without aiosqlite's worker thread.

aiosqlite runs every sqlite3 call (cursor, execute, fetch, SAVEPOINT, RELEASE) on a worker thread
and hops back to the event loop for each: about 130 hops per typical API test, which costs more
than the statements themselves. An in-memory database never waits on I/O, so this dialect runs
the standard library's sqlite3 calls directly on the event loop thread and tells SQLAlchemy's
asyncio layer it is an async driver. The sync engine inside the AsyncEngine then runs them inside
the greenlet that `AsyncSession`/`AsyncConnection` already spawn, with no thread and no await.

Only for databases that never block: a file database on a slow disk would stall the loop.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from sqlalchemy.dialects import registry
from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite
from sqlalchemy.util.concurrency import in_greenlet

try:  # SQLAlchemy 2.1 renamed await_only to await_
    from sqlalchemy.util.concurrency import await_
except ImportError:  # SQLAlchemy 2.0
    from sqlalchemy.util.concurrency import await_only as await_

DRIVER_NAME = "fastsuite_loop"


class _Cursor(sqlite3.Cursor):
    """A sqlite3 cursor that SQLAlchemy's async result layer accepts.

    `AsyncConnection.execute` buffers an async driver's rows through `_async_soft_close()`;
    sqlite3 rows are already in memory, so there is nothing to do.
    """

    async def _async_soft_close(self) -> None:
        return None


class _Connection(sqlite3.Connection):
    def cursor(self, factory: Any = _Cursor) -> Any:
        return super().cursor(factory)


async def _nothing() -> None:
    return None


class SQLiteLoopDialect(SQLiteDialect_pysqlite):
    """pysqlite, declared async so that `create_async_engine` accepts it."""

    driver = DRIVER_NAME
    is_async = True
    supports_statement_cache = True

    def connect(self, *cargs: Any, **cparams: Any) -> Any:
        cparams["factory"] = _Connection
        return super().connect(*cargs, **cparams)

    # AsyncConnection.execute() insists that the driver awaited at least once (it guards against
    # sync drivers that would block the loop). One await of a finished coroutine per statement
    # satisfies it for the cost of two greenlet switches; it is skipped outside a greenlet (the
    # harness builds the schema through the sync engine).
    def do_execute(self, cursor: Any, statement: Any, parameters: Any, context: Any = None) -> None:
        if in_greenlet():
            await_(_nothing())
        cursor.execute(statement, parameters)

    def do_executemany(
        self, cursor: Any, statement: Any, parameters: Any, context: Any = None
    ) -> None:
        if in_greenlet():
            await_(_nothing())
        cursor.executemany(statement, parameters)

    def do_execute_no_params(self, cursor: Any, statement: Any, context: Any = None) -> None:
        if in_greenlet():
            await_(_nothing())
        cursor.execute(statement)


def register() -> None:
    """Make `sqlite+fastsuite_loop://` URLs resolve to this dialect (idempotent)."""
    registry.register(f"sqlite.{DRIVER_NAME}", __name__, "SQLiteLoopDialect")
