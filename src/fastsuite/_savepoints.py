"""Nested sessions on one connection: a read-only session's rollback keeps later commits.

On one connection the sessions' SAVEPOINTs nest. A request's session that has only read still
holds its SAVEPOINT open when, say, a background task opens a session, writes and commits
(RELEASE): the task's rows now live inside the request's SAVEPOINT, and the request session's
close (ROLLBACK TO SAVEPOINT) would discard them, where on a real database, with a connection
each, they stay committed. So a SAVEPOINT in which its own session wrote nothing is released
instead of rolled back: nothing of its own is lost, and the nested work survives. A SAVEPOINT
whose session did write, or that the harness opened for a test, is rolled back for real.

PYTEST_DONT_REWRITE: fastsuite-warm preloads this module (see fastsuite._warm.learning).
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection, ExceptionContext
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

# Statements that cannot change data; anything else inside a SAVEPOINT counts as a write.
_READ_ONLY = re.compile(
    r"^\s*(SELECT|PRAGMA|EXPLAIN|SHOW|SAVEPOINT|RELEASE|ROLLBACK|BEGIN|COMMIT)\b", re.IGNORECASE
)
_STACK = "fastsuite_savepoints"


@lru_cache(maxsize=4096)  # the same statement texts come back, from SQLAlchemy's cache
def _is_read_only(statement: str) -> bool:
    return bool(_READ_ONLY.match(statement))


def keep_committed_work_of_nested_sessions(engine: AsyncEngine) -> None:
    """Release, rather than roll back, the SAVEPOINTs in which nothing was written."""
    sync_engine = engine.sync_engine
    dialect = sync_engine.dialect
    # The dialect's own methods are wrapped, not the engine events: the "savepoint" event fires
    # before SQLAlchemy has named the SAVEPOINT.
    do_savepoint = dialect.do_savepoint
    do_release = dialect.do_release_savepoint
    do_rollback_to = dialect.do_rollback_to_savepoint

    def savepoint(connection: Connection, name: str) -> None:
        do_savepoint(connection, name)
        _stack_of(connection).append([name, False])

    def release(connection: Connection, name: str) -> None:
        _pop_to(_stack_of(connection), name)
        do_release(connection, name)

    def rollback_unless_read_only(connection: Connection, name: str) -> None:
        stack = _stack_of(connection)
        wrote = any(entry[1] for entry in stack if entry[0] == name)
        _pop_to(stack, name)
        if wrote:
            do_rollback_to(connection, name)
        else:
            do_release(connection, name)

    dialect.do_savepoint = savepoint  # type: ignore[method-assign]
    dialect.do_release_savepoint = release  # type: ignore[method-assign]
    dialect.do_rollback_to_savepoint = rollback_unless_read_only  # type: ignore[method-assign]

    @event.listens_for(sync_engine, "before_cursor_execute")
    def _mark_write(connection: Connection, _cursor: Any, statement: str, *_rest: Any) -> None:
        stack = connection.info.get(_STACK)
        if stack and not _is_read_only(statement):
            stack[-1][1] = True

    @event.listens_for(sync_engine, "handle_error")
    def _mark_failed(context: ExceptionContext) -> None:
        # After a failed statement PostgreSQL accepts nothing but a rollback (to a SAVEPOINT):
        # releasing it instead would fail with "current transaction is aborted".
        stack = context.connection.info.get(_STACK) if context.connection is not None else None
        if stack:
            stack[-1][1] = True


def _stack_of(connection: Connection) -> list[list[Any]]:
    stack: list[list[Any]] = connection.info.setdefault(_STACK, [])
    return stack


def _pop_to(stack: list[list[Any]], name: str) -> None:
    """Drop `name` and the SAVEPOINTs opened inside it (ending one ends those too)."""
    for index in range(len(stack) - 1, -1, -1):
        if stack[index][0] == name:
            del stack[index:]
            return


def reset(connection: AsyncConnection) -> None:
    """Forget the SAVEPOINTs of a connection whose transaction has just begun."""
    connection.sync_connection.info[_STACK] = []  # type: ignore[union-attr]


def always_roll_back_innermost(connection: AsyncConnection) -> None:
    """Mark the SAVEPOINT just opened (a test's own) to be rolled back for real."""
    stack = connection.sync_connection.info.get(_STACK)  # type: ignore[union-attr]
    if stack:
        stack[-1][1] = True
