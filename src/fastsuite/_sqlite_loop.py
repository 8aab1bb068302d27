"""In-memory SQLite for async SQLAlchemy without aiosqlite's worker thread.

aiosqlite runs every sqlite3 call (cursor, execute, fetch, SAVEPOINT, RELEASE) on a worker thread
and hops back to the event loop for each: about 130 hops per typical API test, which costs more
than the statements themselves. An in-memory database never waits on I/O, so this dialect runs
the standard library's sqlite3 calls directly on the event loop thread and tells SQLAlchemy's
asyncio layer it is an async driver. The sync engine inside the AsyncEngine then runs them inside
the greenlet that `AsyncSession`/`AsyncConnection` spawn, with no thread and no await; and since
nothing here ever waits, those no longer spawn one at all for this dialect's engines
(`_direct_calls`).

Only for databases that never block: a file database on a slow disk would stall the loop.

PYTEST_DONT_REWRITE: fastsuite-warm preloads this module (see fastsuite._warm.learning).
"""

from __future__ import annotations

import sqlite3
from typing import Any

from sqlalchemy.dialects import registry
from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite
from sqlalchemy.sql.compiler import InsertmanyvaluesSentinelOpts
from sqlalchemy.util.concurrency import in_greenlet

from fastsuite import _direct_calls

try:  # SQLAlchemy 2.1 renamed await_only to await_
    from sqlalchemy.util.concurrency import await_
except ImportError:  # SQLAlchemy 2.0
    from sqlalchemy.util.concurrency import await_only as await_

DRIVER_NAME = "fastsuite_loop"
_OWN_SAVEPOINT = "sa_savepoint_"
_OWN_LENGTH = len(_OWN_SAVEPOINT)


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


def _untyped(value: Any) -> Any:
    return value  # SQLAlchemy 2.1 leaves some dialect methods unannotated; 2.0 does not


async def _nothing() -> None:
    return None


class SQLiteLoopDialect(SQLiteDialect_pysqlite):
    """pysqlite, declared async so that `create_async_engine` accepts it."""

    driver = DRIVER_NAME
    is_async = True
    # Whether calls may skip the greenlet (_direct_calls): not before the first connection,
    # which SQLAlchemy serialises with an asyncio lock for async engines (a lock needs one).
    fastsuite_never_waits = False
    supports_statement_cache = True
    # A flush of many rows whose integer key SQLite assigns is one INSERT ... VALUES (...), (...)
    # RETURNING id, as on PostgreSQL, instead of one INSERT per row. SQLAlchemy must match the
    # returned keys to the objects: it sorts them, which holds because SQLite inserts the rows
    # of a VALUES list in order and gives each a larger rowid than the last (AUTOINCREMENT or
    # not; without it only until the largest rowid, 2**63 - 1, is taken).
    insertmanyvalues_implicit_sentinel = InsertmanyvaluesSentinelOpts.ANY_AUTOINCREMENT

    def connect(self, *cargs: Any, **cparams: Any) -> Any:
        cparams["factory"] = _Connection
        return super().connect(*cargs, **cparams)

    def initialize(self, connection: Any) -> None:
        super().initialize(connection)
        self.fastsuite_never_waits = True

    # Transaction control goes straight to sqlite3. SQLAlchemy would compile a SAVEPOINT,
    # RELEASE or ROLLBACK TO construct anew each time (they have no cache key) and run it
    # through the whole execution path: about 100 µs against 1 µs. Its transaction events
    # (begin, savepoint, release_savepoint, rollback_savepoint) still fire, before these
    # methods are called; the cursor events (before_cursor_execute and the like) do not see
    # these statements, as the query log does not count them. A failed statement (no such
    # savepoint, say) is sent again the usual way, which raises SQLAlchemy's own error and
    # runs the handle_error hooks; so is everything when the engine echoes its SQL.
    def do_begin(self, dbapi_connection: Any) -> None:
        # The sqlite3 driver's own transaction handling is off (isolation_level None, set by
        # the harness at connect): SQLAlchemy's BEGIN is the only one.
        dbapi_connection.execute("BEGIN")

    def do_savepoint(self, connection: Any, name: str) -> None:
        if not self._control(connection, "SAVEPOINT", name):
            _untyped(super()).do_savepoint(connection, name)

    def do_release_savepoint(self, connection: Any, name: str) -> None:
        if not self._control(connection, "RELEASE SAVEPOINT", name):
            _untyped(super()).do_release_savepoint(connection, name)

    def do_rollback_to_savepoint(self, connection: Any, name: str) -> None:
        if not self._control(connection, "ROLLBACK TO SAVEPOINT", name):
            _untyped(super()).do_rollback_to_savepoint(connection, name)

    def _control(self, connection: Any, verb: str, name: str) -> bool:
        """Send `verb name` to sqlite3; False when it must go through SQLAlchemy instead."""
        if connection._echo:
            return False
        # SQLAlchemy's own names (sa_savepoint_<n>) need no quoting. The preparer would check
        # each, and keep it: n grows on the connection the tests share, so every name is new.
        if not (name.startswith(_OWN_SAVEPOINT) and name[_OWN_LENGTH:].isdigit()):
            name = self.identifier_preparer.quote(name)
        try:
            connection.connection.dbapi_connection.execute(f"{verb} {name}")
        except sqlite3.Error:
            return False
        return True

    # Statements of this dialect normally run with no greenlet at all (_direct_calls). Where
    # one is still spawned (`run_sync`, a session class that routes statements itself),
    # AsyncConnection.execute() would insist that the driver awaited at least once (it guards
    # against sync drivers that would block the loop): an await of a finished coroutine.
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
    _direct_calls.install()
