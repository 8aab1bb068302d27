"""Strict SQLite: the test database refuses what PostgreSQL (with asyncpg) refuses.

Each check has a name and can be turned off (setting `fastsuite_sqlite_lenient`). None of them
parses SQL at run time: they live where SQLite and SQLAlchemy already do the work, so a
statement that passes them costs next to nothing more.

- in the schema: triggers for string lengths and integer ranges, AUTOINCREMENT for integer
  primary keys (`_strict_sqlite_schema`);
- in the dialect's type map: bind processors that refuse the values asyncpg refuses, and give
  `DateTime(timezone=True)` back aware;
- in the dialect's compiler, once per statement shape (SQLAlchemy caches the result): a
  comparison of mismatched types is compiled into a call that fails, a division into one that
  checks its divisor;
- on the connection: `PRAGMA reverse_unordered_selects`, Python's `lower`/`upper`;
- in the engine's events: a failed statement aborts the transaction until it is rolled back;
  sequences that survive rollbacks.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import event, exc, func, schema, types
from sqlalchemy.dialects.sqlite import DATE, DATETIME
from sqlalchemy.engine import Connection, Dialect, ExceptionContext
from sqlalchemy.engine.default import DefaultDialect
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.sql import compiler, elements, operators

from fastsuite._config import Settings

CHECKS: dict[str, str] = {
    "string_length": "a value longer than String(n) is refused (value too long)",
    "bound_types": "a value of the wrong Python type for its column is refused, and so is a "
    "comparison of mismatched types (operator does not exist)",
    "integer_range": "Integer holds 32 bits, SmallInteger 16, BigInteger 64 (out of range)",
    "unordered": "a SELECT without ORDER BY returns rows in reverse (not insertion) order",
    "aborted_transaction": "after a failed statement the transaction accepts only a rollback",
    "unicode_case": "lower(), upper() and ILIKE fold every letter, not A to Z only",
    "division_by_zero": "division (and modulo) by zero raises instead of giving NULL",
    "timezone": "DateTime(timezone=True) values come back aware, in UTC",
    "sequence_ids": "integer primary keys never hand out an id twice in a process, "
    "rolled back or not",
    "group_by": "a grouped SELECT of a column neither grouped, aggregated nor determined by a "
    "grouped primary key is refused",
}
PREFIX = "fastsuite strict SQLite"
_HOW_TO_TURN_OFF = (
    " PostgreSQL refuses this too: fix the code, or turn the check off with "
    "fastsuite_sqlite_lenient = {check} (ini), FASTSUITE_SQLITE_LENIENT={check} or "
    "--fastsuite-sqlite-lenient={check}."
)
UNKNOWN_CHECKS = (
    "fastsuite: {where} names {unknown}, which is not a strict SQLite check; expected a "
    "comma-separated list of: {valid} (or all)."
)
ABORTED = "current transaction is aborted, commands ignored until end of transaction block"
_ABORTED_KEY = "fastsuite_strict_aborted"
_UDF_RAISED = "user-defined function raised exception"


def strict_message(check: str, problem: str, where: str | None = None) -> str:
    """The one-line error of a check: which check, what PostgreSQL says, where, how to turn off."""
    located = f" (column {where})" if where else ""
    return f"{PREFIX} [{check}]: {problem}{located}.{_HOW_TO_TURN_OFF.format(check=check)}"


def enabled_checks(settings: Settings) -> frozenset[str]:
    """The checks left on by `fastsuite_sqlite_lenient` (a UsageError names an unknown one)."""
    raw = settings["sqlite_lenient"] or ""
    names = {name.strip() for name in raw.replace(" ", ",").split(",") if name.strip()}
    if "all" in names:
        return frozenset()
    unknown = sorted(names - set(CHECKS))
    if unknown:
        raise pytest.UsageError(
            UNKNOWN_CHECKS.format(
                where=settings.describe("sqlite_lenient"),
                unknown=", ".join(repr(name) for name in unknown),
                valid=", ".join(CHECKS),
            )
        )
    return frozenset(CHECKS) - names


class StrictSQLiteError(sqlite3.DatabaseError):
    """A check's refusal, raised where SQLite or the driver would have let the value through.

    `aborts`: whether PostgreSQL would have aborted the transaction (a server-side error) or
    asyncpg refused the value before sending it (a client-side one). `programming`: whether
    SQLAlchemy's asyncpg dialect reports it as a ProgrammingError rather than a DBAPIError.
    """

    def __init__(self, message: str, *, aborts: bool = True, programming: bool = False) -> None:
        super().__init__(message)
        self.aborts = aborts
        self.programming = programming


# A Python function called by SQLite cannot choose the error's message (sqlite3 reports "user-
# defined function raised exception"): it leaves its refusal here for handle_error to raise.
# Not thread-local: with aiosqlite the function runs on the driver's thread, handle_error on
# the event loop's.
_pending: list[StrictSQLiteError] = []


def _raise_from_sql(message: str, *, programming: bool) -> None:
    _pending[:] = [StrictSQLiteError(message, programming=programming)]
    raise ValueError(message)


def _refuse(message: str) -> None:
    """What the compiler puts in place of a statement PostgreSQL would not plan."""
    _raise_from_sql(message, programming=True)


def _take_pending() -> StrictSQLiteError | None:
    return _pending.pop() if _pending else None


def _divisor(value: Any) -> Any:
    if value == 0 and value is not None and not isinstance(value, str | bytes):
        _raise_from_sql(strict_message("division_by_zero", "division by zero"), programming=False)
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


def make_strict(engine: AsyncEngine, checks: frozenset[str], columns: dict[Any, str]) -> None:
    """Make a SQLite engine strict, before it first connects. `columns` names the column of
    each column type object (for the messages of the bind checks)."""
    if not checks:
        return
    sync_engine = engine.sync_engine
    dialect = sync_engine.dialect
    _on_connect(sync_engine, checks)
    _strict_types(dialect, checks, columns)
    _strict_compiler(dialect, checks)
    if "sequence_ids" in checks:
        from fastsuite._strict_sqlite_schema import keep_sequences

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
            elif text == _UDF_RAISED:
                refusal = _take_pending()
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
        dbapi_connection.create_function("fastsuite_refuse", 1, _refuse, deterministic=True)


def _abort_after_failure(sync_engine: Any, dialect: Dialect) -> None:
    """After a failed statement, refuse every statement but a rollback, as PostgreSQL does."""

    @event.listens_for(sync_engine, "before_cursor_execute")
    def _refuse_when_aborted(
        connection: Connection, _cursor: Any, statement: str, *_rest: Any
    ) -> None:
        if connection.info.get(_ABORTED_KEY) is None:
            return
        if statement.lstrip()[:8].upper() == "ROLLBACK":  # ROLLBACK [TO SAVEPOINT x]
            del connection.info[_ABORTED_KEY]
            return
        raise StrictSQLiteError(strict_message("aborted_transaction", ABORTED))

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
        if dbapi_connection.info.pop(_ABORTED_KEY, None):
            do_rollback(dbapi_connection)
        else:
            do_commit(dbapi_connection)

    dialect.do_commit = commit_unless_aborted  # type: ignore[method-assign]

    do_release = dialect.do_release_savepoint
    release_through_sqlalchemy: Any = DefaultDialect.do_release_savepoint

    def release_unless_aborted(connection: Connection, name: str) -> None:
        if connection.info.get(_ABORTED_KEY):
            # Through SQLAlchemy's own execution path, past the harness driver's shortcut for
            # transaction control, so that the refusal above raises as a database error.
            release_through_sqlalchemy(dialect, connection, name)
        else:
            do_release(connection, name)

    dialect.do_release_savepoint = release_unless_aborted  # type: ignore[method-assign]


# Bind checks -----------------------------------------------------------------------------

_INTEGER_BITS: dict[type[Any], int] = {
    types.Integer: 32,
    types.INTEGER: 32,
    types.INT: 32,
    types.SmallInteger: 16,
    types.SMALLINT: 16,
    types.BigInteger: 64,
    types.BIGINT: 64,
}
_TEXT = {
    types.String,
    types.VARCHAR,
    types.Text,
    types.TEXT,
    types.Unicode,
    types.UnicodeText,
    types.CHAR,
    types.NVARCHAR,
    types.NCHAR,
}
_CLIENT_SIDE = "invalid input for query argument: {value!r} ({why})"
_strict_classes: dict[type[Any], type[Any]] = {}


def _strict_types(dialect: Dialect, checks: frozenset[str], columns: dict[Any, str]) -> None:
    """Wrap the bind (and result) processors of the types the checks care about."""
    type_checks = checks & {"bound_types", "integer_range", "timezone"}
    if not type_checks:
        return
    type_descriptor = dialect.type_descriptor

    def strict_type_descriptor(typeobj: Any) -> Any:
        impl = type_descriptor(typeobj)
        kind = type(impl)
        if kind not in _INTEGER_BITS and kind not in _TEXT and kind not in (DATETIME, DATE):
            return impl
        strict: Any = impl.adapt(_strict_class(kind))
        strict.fastsuite_checks = type_checks
        strict.fastsuite_column = columns.get(typeobj)
        return strict

    dialect.type_descriptor = strict_type_descriptor  # type: ignore[method-assign]


def _strict_class(kind: type[Any]) -> type[Any]:
    if kind not in _strict_classes:
        _strict_classes[kind] = type(
            f"Strict{kind.__name__}",
            (kind,),
            {
                "fastsuite_checks": frozenset(),
                "fastsuite_column": None,
                "bind_processor": _bind_processor,
                "result_processor": _result_processor,
            },
        )
    return _strict_classes[kind]


def _refusal(check: str, value: Any, why: str, column: str | None) -> StrictSQLiteError:
    problem = _CLIENT_SIDE.format(value=value, why=why)
    return StrictSQLiteError(strict_message(check, problem, column), aborts=False)


def _bind_processor(self: Any, dialect: Dialect) -> Callable[[Any], Any] | None:
    inner = super(type(self), self).bind_processor(dialect)
    checks = self.fastsuite_checks
    column = self.fastsuite_column
    kind = type(self).__mro__[1]
    if kind in _INTEGER_BITS:
        return _integer_checker(_INTEGER_BITS[kind], checks, column, inner)
    if kind in _TEXT:
        return _text_checker(column, inner) if "bound_types" in checks else inner
    return _datetime_checker(self, checks, column, inner)


def _integer_checker(
    bits: int, checks: frozenset[str], column: str | None, inner: Any
) -> Callable[[Any], Any]:
    high = (1 << (bits - 1)) - 1 if "integer_range" in checks else 1 << 64
    low = -high - 1
    refuse_text = "bound_types" in checks

    def process(value: Any) -> Any:
        if value.__class__ is int or isinstance(value, int):
            if not low <= value <= high:
                raise _refusal("integer_range", value, f"value out of int{bits} range", column)
        elif refuse_text and isinstance(value, str | bytes):
            why = f"{type(value).__name__!r} object cannot be interpreted as an integer"
            raise _refusal("bound_types", value, why, column)
        return value if inner is None else inner(value)

    return process


def _text_checker(column: str | None, inner: Any) -> Callable[[Any], Any]:
    def process(value: Any) -> Any:
        if value is not None and not isinstance(value, str):
            why = f"expected str, got {type(value).__name__}"
            raise _refusal("bound_types", value, why, column)
        return value if inner is None else inner(value)

    return process


def _datetime_checker(
    self: Any, checks: frozenset[str], column: str | None, inner: Any
) -> Callable[[Any], Any]:
    aware = bool(getattr(self, "timezone", False)) and isinstance(self, DATETIME)
    to_utc = aware and "timezone" in checks
    naive_column = isinstance(self, DATETIME) and not aware
    refuse = "bound_types" in checks

    def process(value: Any) -> Any:
        if isinstance(value, dt.datetime) and value.tzinfo is not None:
            if to_utc:
                value = value.astimezone(dt.UTC).replace(tzinfo=None)
            elif refuse and naive_column:
                why = "can't subtract offset-naive and offset-aware datetimes"
                raise _refusal("bound_types", value, why, column)
        elif refuse and value is not None and not isinstance(value, dt.date):
            got = type(value).__name__
            why = f"expected a datetime.date or datetime.datetime instance, got {got!r}"
            raise _refusal("bound_types", value, why, column)
        return value if inner is None else inner(value)

    return process


def _result_processor(self: Any, dialect: Dialect, coltype: Any) -> Any:
    inner = super(type(self), self).result_processor(dialect, coltype)
    if not (
        isinstance(self, DATETIME)
        and getattr(self, "timezone", False)
        and "timezone" in getattr(self, "fastsuite_checks", ())
    ):
        return inner
    utc = dt.UTC

    def process(value: Any) -> Any:
        value = inner(value) if inner is not None else value
        if isinstance(value, dt.datetime) and value.tzinfo is None:
            return value.replace(tzinfo=utc)
        return value

    return process


# Compiler checks -------------------------------------------------------------------------

_PG_NAMES: tuple[tuple[type[Any], str], ...] = (
    (types.Text, "text"),
    (types.String, "character varying"),
    (types.Boolean, "boolean"),
    (types.SmallInteger, "smallint"),
    (types.BigInteger, "bigint"),
    (types.Integer, "integer"),
    (types.Float, "double precision"),
    (types.Numeric, "numeric"),
    (types.Date, "date"),
)
_PG_OPERATORS = {
    operators.in_op: "=",
    operators.not_in_op: "<>",
    operators.like_op: "~~",
    operators.not_like_op: "!~~",
    operators.ilike_op: "~~*",
    operators.not_ilike_op: "!~~*",
}
_NOT_COMPARISONS = {operators.is_, operators.is_not, operators.is_distinct_from}


def _group(type_: Any) -> str | None:
    """The family of a type, as PostgreSQL's operators see it (None: unknown, no check)."""
    affinity = getattr(type_, "_type_affinity", None)
    if affinity is None or not isinstance(affinity, type):
        return None
    if issubclass(affinity, types.String):
        return "text"
    if issubclass(affinity, types.Boolean):
        return "boolean"
    if issubclass(affinity, types.Integer | types.Numeric):
        return "number"
    if issubclass(affinity, types.DateTime | types.Date):
        return "datetime"
    return None


def _pg_operator(operator: Any) -> str:
    if operator in _PG_OPERATORS:
        return _PG_OPERATORS[operator]
    return str(compiler.OPERATORS.get(operator, "=")).strip()


def _pg_name(type_: Any) -> str:
    """The type's name as PostgreSQL's messages spell it."""
    while isinstance(type_, types.TypeDecorator):
        type_ = type_.impl_instance
    for kind, name in _PG_NAMES:
        if isinstance(type_, kind):
            return name
    if isinstance(type_, types.DateTime):
        zone = "with" if type_.timezone else "without"
        return f"timestamp {zone} time zone"
    return str(type_).lower()


def _strict_compiler(dialect: Dialect, checks: frozenset[str]) -> None:
    base: Any = dialect.statement_compiler
    compare = "bound_types" in checks
    divide = "division_by_zero" in checks
    group = "group_by" in checks
    if not (compare or divide or group):
        return

    def guarded(binary: Any) -> Any:
        right = func.fastsuite_divisor(binary.right, type_=binary.right.type)
        return elements.BinaryExpression(binary.left, right, binary.operator, type_=binary.type)

    class StrictCompiler(base):  # type: ignore[misc]
        def visit_binary(self, binary: Any, override_operator: Any = None, **kw: Any) -> Any:
            operator = override_operator or binary.operator
            if compare and operator not in _NOT_COMPARISONS and operators.is_comparison(operator):
                left, right = _group(binary.left.type), _group(binary.right.type)
                if left and right and left != right:
                    problem = (
                        f"operator does not exist: {_pg_name(binary.left.type)} "
                        f"{_pg_operator(operator)} "
                        f"{_pg_name(binary.right.type)}"
                    )
                    message = strict_message("bound_types", problem).replace("'", "''")
                    return f"fastsuite_refuse('{message}')"
            return super().visit_binary(binary, override_operator=override_operator, **kw)

        def visit_select(self, select_stmt: Any, **kw: Any) -> Any:
            toplevel = not self.stack
            sql = super().visit_select(select_stmt, **kw)
            if not (group and toplevel and select_stmt._group_by_clauses):
                return sql
            statement = getattr(self.compile_state, "statement", select_stmt)
            ungrouped = _ungrouped_column(statement)
            if ungrouped is None:
                return sql
            problem = (
                f'column "{ungrouped}" must appear in the GROUP BY clause or be used in an '
                "aggregate function"
            )
            message = strict_message("group_by", problem).replace("'", "''")
            # The refusal is a constant: SQLite evaluates it once, before the first row.
            # SQLAlchemy's own compiled SQL and a quoted literal: nothing of the user's.
            return f"SELECT * FROM ({sql}) WHERE fastsuite_refuse('{message}')"  # noqa: S608

        if divide:

            def visit_truediv_binary(self, binary: Any, operator: Any, **kw: Any) -> Any:
                return super().visit_truediv_binary(guarded(binary), operator, **kw)

            def visit_floordiv_binary(self, binary: Any, operator: Any, **kw: Any) -> Any:
                return super().visit_floordiv_binary(guarded(binary), operator, **kw)

            def visit_mod_binary(self, binary: Any, operator: Any, **kw: Any) -> Any:
                return super().visit_mod_binary(guarded(binary), operator, **kw)

    dialect.statement_compiler = StrictCompiler


def _table_column(element: Any) -> Any:
    """The table column an expression is, or None (an aggregate, an expression, a subquery's)."""
    while isinstance(element, elements.Label):
        element = element.element
    if isinstance(element, schema.Column) and isinstance(element.table, schema.Table):
        return element
    return None


def _ungrouped_column(statement: Any) -> str | None:
    """A selected column PostgreSQL would refuse in this grouped SELECT ("table.column"), if any.

    Allowed: a grouped column, anything inside an aggregate or another expression (not looked
    into: no false alarm), a column of a table whose primary key is grouped.
    """
    grouped = set()
    for clause in statement._group_by_clauses:
        column = _table_column(clause)
        if column is None and not isinstance(clause, elements.ColumnElement):
            return None  # a textual GROUP BY: nothing to compare with
        if column is not None:
            grouped.add((column.table, column.name))
    for selected in statement.selected_columns:
        column = _table_column(selected)
        if column is None or (column.table, column.name) in grouped:
            continue
        key = column.table.primary_key.columns
        if len(key) and all((column.table, pk.name) in grouped for pk in key):
            continue
        return f"{column.table.name}.{column.name}"
    return None


def columns_by_type(metadata: Any) -> dict[Any, str]:
    """Each column's type object (and a TypeDecorator's impl) → "table.column".

    A type object several columns share (`Mapped[int]` columns share one) names none of them.
    """
    named: dict[Any, str | None] = {}
    for table in metadata.sorted_tables:
        for column in table.columns:
            where = f"{table.name}.{column.name}"
            type_ = column.type
            while type_ is not None:
                named[type_] = where if named.get(type_, where) == where else None
                type_ = getattr(type_, "impl_instance", None)
    return {type_: where for type_, where in named.items() if where is not None}
