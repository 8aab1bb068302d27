"""Strict SQLite on the connection and in the engine's events: the checks' entry point.

PYTEST_DONT_REWRITE: fastsuite-warm preloads this module (see fastsuite._warm.learning).
"""

from __future__ import annotations

import sqlite3
import weakref
from typing import Any

from sqlalchemy import event, exc
from sqlalchemy.engine import Connection, Dialect, ExceptionContext
from sqlalchemy.engine.default import DefaultDialect
from sqlalchemy.ext.asyncio import AsyncEngine

from fastsuite._strict_sqlite import (
    ABORTED,
    PREFIX,
    UDF_RAISED,
    StrictSQLiteError,
    raise_from_sql,
    refuse,
    strict_message,
    take_pending,
)
from fastsuite._strict_sqlite_compiler import strict_compiler
from fastsuite._strict_sqlite_schema import keep_sequences
from fastsuite._strict_sqlite_types import strict_types

_ABORTED_KEY = "fastsuite_strict_aborted"


def _divisor(value: Any) -> Any:
    if value == 0 and value is not None and not isinstance(value, str | bytes):
        raise_from_sql(strict_message("division_by_zero", "division by zero"), programming=False)
    return value


def _lower(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def _upper(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    upper = value.upper()
    if len(upper) == len(value):
        return upper
    # PostgreSQL maps letter to letter: "ß" stays "ß" where Python writes "SS".
    return "".join(c.upper() if len(c.upper()) == 1 else c for c in value)


# The dialects of the engines whose SELECTs without ORDER BY return their rows in reverse.
_reversing_unordered: weakref.WeakSet[Any] = weakref.WeakSet()


def reverses_unordered_selects(engine: AsyncEngine) -> bool:
    """Whether the strict check `unordered` is on for this engine."""
    return engine.sync_engine.dialect in _reversing_unordered


def make_strict(engine: AsyncEngine, checks: frozenset[str], columns: dict[Any, str]) -> None:
    """Make a SQLite engine strict, before it first connects. `columns` names the column of
    each column type object (for the messages of the bind checks)."""
    if not checks:
        return
    sync_engine = engine.sync_engine
    dialect = sync_engine.dialect
    _on_connect(sync_engine, checks)
    if "unordered" in checks:
        _reversing_unordered.add(dialect)
    strict_types(dialect, checks, columns)
    strict_compiler(dialect, checks)
    if "sequence_ids" in checks:
        keep_sequences(engine)
    aborts = "aborted_transaction" in checks

    @event.listens_for(sync_engine, "handle_error")
    def _translate(context: ExceptionContext) -> BaseException | None:
        original = context.original_exception
        refusal: StrictSQLiteError | None = None
        if isinstance(original, StrictSQLiteError):
            refusal = original
        elif isinstance(original, sqlite3.Error):
            text = str(original)
            if text.startswith(PREFIX):  # a trigger's RAISE
                refusal = StrictSQLiteError(text)
            elif text == UDF_RAISED:
                refusal = take_pending()
        connection = context.connection
        if (
            aborts
            and connection is not None
            and context.execution_context is not None
            and isinstance(original, sqlite3.Error)
            and (refusal is None or refusal.aborts)
            and connection.in_transaction()
        ):
            connection.info[_ABORTED_KEY] = True
        if refusal is None:
            return None
        error = exc.ProgrammingError if refusal.programming else exc.DBAPIError
        return error(context.statement, context.parameters, refusal)

    if aborts:
        _abort_after_failure(sync_engine, dialect)


def _on_connect(sync_engine: Any, checks: frozenset[str]) -> None:
    @event.listens_for(sync_engine, "connect")
    def _set_up(dbapi_connection: Any, _record: Any) -> None:
        if "unordered" in checks:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA reverse_unordered_selects = ON")
            cursor.close()
        if "unicode_case" in checks:
            # Built-in functions replaced by name: SQLAlchemy compiles ILIKE as lower() LIKE
            # lower(), so it folds every letter too.
            dbapi_connection.create_function("lower", 1, _lower, deterministic=True)
            dbapi_connection.create_function("upper", 1, _upper, deterministic=True)
        dbapi_connection.create_function("fastsuite_divisor", 1, _divisor, deterministic=True)
        dbapi_connection.create_function("fastsuite_refuse", 1, refuse, deterministic=True)


def _abort_after_failure(sync_engine: Any, dialect: Dialect) -> None:
    """After a failed statement, refuse every statement but a rollback, as PostgreSQL does."""

    @event.listens_for(sync_engine, "before_cursor_execute")
    def _refuse_when_aborted(
        connection: Connection,
        cursor: Any,
        statement: str,
        parameters: Any,
        context: Any,
        _executemany: bool,
    ) -> None:
        if connection.info.get(_ABORTED_KEY) is None:
            return
        if statement.lstrip()[:8].upper() == "ROLLBACK":  # ROLLBACK [TO SAVEPOINT x]
            del connection.info[_ABORTED_KEY]
            return
        error = StrictSQLiteError(strict_message("aborted_transaction", ABORTED))
        # Raised as the driver's errors are (a DBAPIError the app can catch): SQLAlchemy 2.1
        # does that to what this listener raises, 2.0 calls it outside that handling.
        connection._handle_dbapi_exception(error, statement, parameters, cursor, context)

    @event.listens_for(sync_engine, "begin")
    @event.listens_for(sync_engine, "rollback")
    def _forget(connection: Connection) -> None:
        connection.info.pop(_ABORTED_KEY, None)

    # The harness's driver sends ROLLBACK TO straight to sqlite3, past the cursor events above.
    @event.listens_for(sync_engine, "rollback_savepoint")
    def _forget_at_savepoint(connection: Connection, _name: str, _context: Any) -> None:
        connection.info.pop(_ABORTED_KEY, None)

    do_commit = dialect.do_commit
    do_rollback = dialect.do_rollback

    def commit_unless_aborted(dbapi_connection: Any) -> None:
        # PostgreSQL answers COMMIT in an aborted transaction with a ROLLBACK, and no error.
        if _info(dbapi_connection).pop(_ABORTED_KEY, None):
            do_rollback(dbapi_connection)
        else:
            do_commit(dbapi_connection)

    def rollback_and_forget(dbapi_connection: Any) -> None:
        # Also the pool's reset, which rolls back without the Connection's events.
        _info(dbapi_connection).pop(_ABORTED_KEY, None)
        do_rollback(dbapi_connection)

    dialect.do_commit = commit_unless_aborted  # type: ignore[method-assign]
    dialect.do_rollback = rollback_and_forget  # type: ignore[method-assign]

    # SAVEPOINT and RELEASE too fail in an aborted transaction. The harness's driver sends them
    # straight to sqlite3; while aborted they go through SQLAlchemy's own execution path, so
    # that the refusal above raises as a database error.
    do_savepoint = dialect.do_savepoint
    do_release = dialect.do_release_savepoint
    through_sqlalchemy: Any = DefaultDialect

    def savepoint_unless_aborted(connection: Connection, name: str) -> None:
        if connection.info.get(_ABORTED_KEY):
            through_sqlalchemy.do_savepoint(dialect, connection, name)
        else:
            do_savepoint(connection, name)

    def release_unless_aborted(connection: Connection, name: str) -> None:
        if connection.info.get(_ABORTED_KEY):
            through_sqlalchemy.do_release_savepoint(dialect, connection, name)
        else:
            do_release(connection, name)

    dialect.do_savepoint = savepoint_unless_aborted  # type: ignore[method-assign]
    dialect.do_release_savepoint = release_unless_aborted  # type: ignore[method-assign]


def _info(dbapi_connection: Any) -> dict[Any, Any]:
    """The pooled connection's info dict (the pool's reset passes a stand-in without one)."""
    try:
        info: dict[Any, Any] = dbapi_connection.info
    except NotImplementedError:
        record = getattr(dbapi_connection, "_connection_record", None)
        info = record.info if record is not None else {}
    return info
