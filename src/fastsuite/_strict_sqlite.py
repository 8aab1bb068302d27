"""Strict SQLite: the test database refuses what PostgreSQL (with asyncpg) refuses.

Each check has a name and can be turned off (setting `fastsuite_sqlite_lenient`). None of them
parses SQL at run time: they live where SQLite and SQLAlchemy already do the work, so a
statement that passes them costs next to nothing more.

- in the schema (`_strict_sqlite_schema`): triggers for string lengths and integer ranges,
  AUTOINCREMENT for integer primary keys, sequences that survive rollbacks;
- in the dialect's type map (`_strict_sqlite_types`): bind processors that refuse the values
  asyncpg refuses, and `DateTime(timezone=True)` given back aware;
- in the dialect's compiler (`_strict_sqlite_compiler`), once per statement shape (SQLAlchemy
  caches the result): comparisons of mismatched types, ungrouped columns, divisions by zero;
- on the connection and in the engine's events (`_strict_sqlite_engine`): the pragma that
  reverses unordered results, Python's `lower`/`upper`, aborted transactions.

This module holds what they share: the checks' names, the setting, the messages and the error.

PYTEST_DONT_REWRITE: fastsuite-warm preloads this module (see fastsuite._warm.learning).
"""

from __future__ import annotations

import sqlite3
from typing import Any

import pytest

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
UDF_RAISED = "user-defined function raised exception"


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


def raise_from_sql(message: str, *, programming: bool) -> None:
    _pending[:] = [StrictSQLiteError(message, programming=programming)]
    raise ValueError(message)


def refuse(message: str) -> None:
    """What the compiler puts in place of a statement PostgreSQL would not plan."""
    raise_from_sql(message, programming=True)


def take_pending() -> StrictSQLiteError | None:
    return _pending.pop() if _pending else None


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
