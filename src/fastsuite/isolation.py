"""Per-test isolation by rollback: one outer transaction, every session of the test joined to it."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    AsyncTransaction,
    async_sessionmaker,
)

__all__ = [
    "OuterTransaction",
    "keep_committed_work_of_nested_sessions",
    "outer_transaction",
    "redirect_sessionmaker",
]

# Sessions joined to the test's transaction: a session's commit() releases a SAVEPOINT instead of
# committing, its rollback() rolls back to it; the outer transaction is rolled back after the test.
JOIN_MODE = "create_savepoint"


@dataclass
class OuterTransaction:
    """The connection and outer transaction of one test, and the sessions that share them."""

    connection: AsyncConnection
    transaction: AsyncTransaction
    # Serialises the app's request sessions: sessions on one connection must nest (each
    # SAVEPOINT released before the enclosing one), which concurrent requests would break.
    request_lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def sessionmaker(self, **options: Any) -> async_sessionmaker[AsyncSession]:
        """A session factory whose sessions join this test's transaction."""
        options.setdefault("expire_on_commit", False)
        return async_sessionmaker(bind=self.connection, join_transaction_mode=JOIN_MODE, **options)


@asynccontextmanager
async def outer_transaction(engine: AsyncEngine) -> AsyncIterator[OuterTransaction]:
    """Open the outer transaction of a test and roll it back afterwards, whatever happened."""
    connection = await engine.connect()
    connection.sync_connection.info[_STACK] = []  # type: ignore[union-attr]
    try:
        transaction = await connection.begin()
        try:
            yield OuterTransaction(connection, transaction)
        finally:
            if transaction.is_active:
                await transaction.rollback()
    finally:
        await connection.close()


def redirect_sessionmaker(
    maker: async_sessionmaker[Any], bind: AsyncConnection | AsyncEngine
) -> Callable[[], None]:
    """Make the app's own session factory open sessions on `bind`; return the undo.

    Code paths that open sessions themselves (background tasks, lifespan work) then see the
    test's data and are rolled back with it, like the requests are.
    """
    saved = dict(maker.kw)
    options: dict[str, Any] = {"bind": bind}
    if isinstance(bind, AsyncConnection):
        options["join_transaction_mode"] = JOIN_MODE
    maker.configure(**options)

    def restore() -> None:
        maker.kw.clear()
        maker.kw.update(saved)

    return restore


# Statements that cannot change data; anything else inside a SAVEPOINT counts as a write.
_READ_ONLY = re.compile(
    r"^\s*(SELECT|PRAGMA|EXPLAIN|SHOW|SAVEPOINT|RELEASE|ROLLBACK|BEGIN|COMMIT)\b", re.IGNORECASE
)
_STACK = "fastsuite_savepoints"


def keep_committed_work_of_nested_sessions(engine: AsyncEngine) -> None:
    """Stop a read-only session's rollback from undoing what a later session committed.

    On one connection the sessions' SAVEPOINTs nest. A request's session that has only read
    still holds its SAVEPOINT open when, say, a background task opens a session, writes and
    commits (RELEASE): the task's rows now live inside the request's SAVEPOINT, and the
    request session's close (ROLLBACK TO SAVEPOINT) would discard them, where on a real
    database, with a connection each, they stay committed. So a SAVEPOINT in which its own
    session wrote nothing is released instead of rolled back: nothing of its own is lost, and
    the nested work survives. A SAVEPOINT whose session did write is rolled back for real.
    """
    sync_engine = engine.sync_engine
    dialect = sync_engine.dialect

    def stack_of(connection: Connection) -> list[list[Any]]:
        stack: list[list[Any]] = connection.info.setdefault(_STACK, [])
        return stack

    @event.listens_for(sync_engine, "savepoint")
    def _opened(connection: Connection, name: str) -> None:
        stack_of(connection).append([name, False])

    @event.listens_for(sync_engine, "before_cursor_execute")
    def _mark_write(connection: Connection, _cursor: Any, statement: str, *_rest: Any) -> None:
        stack = connection.info.get(_STACK)
        if stack and not _READ_ONLY.match(statement):
            stack[-1][1] = True

    @event.listens_for(sync_engine, "release_savepoint")
    def _released(connection: Connection, name: str, _context: Any) -> None:
        _pop_to(stack_of(connection), name)

    rollback_to_savepoint = dialect.do_rollback_to_savepoint

    def rollback_unless_read_only(connection: Connection, name: str) -> None:
        stack = stack_of(connection)
        wrote = any(entry[1] for entry in stack if entry[0] == name)
        _pop_to(stack, name)
        if wrote:
            rollback_to_savepoint(connection, name)
        else:
            dialect.do_release_savepoint(connection, name)

    dialect.do_rollback_to_savepoint = rollback_unless_read_only  # type: ignore[method-assign]


def _pop_to(stack: list[list[Any]], name: str) -> None:
    """Drop `name` and the SAVEPOINTs opened inside it (ending one ends those too)."""
    for index in range(len(stack) - 1, -1, -1):
        if stack[index][0] == name:
            del stack[index:]
            return
