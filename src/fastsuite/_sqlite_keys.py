"""Integer primary keys that autoincrement on the harness's SQLite, whatever their integer type.

SQLite assigns a key on INSERT only to a column declared exactly `INTEGER PRIMARY KEY` (an alias
of the rowid). An app written for PostgreSQL often declares `BigInteger` (or `SmallInteger`, or
an `Identity()`) keys, which SQLite creates as `BIGINT`: every INSERT without an id then fails
with "NOT NULL constraint failed". The harness's test engines compile such a key as `INTEGER`,
in the schema built from the models and in the one the migrations build on the harness's
connection. The app's models and its own engines are left as they are (a global
`@compiles(BigInteger, "sqlite")` would change them too).

Such a key numbered by a named sequence (`server_default=seq.next_value()`, as Celery's result
tables declare theirs) loses that default on SQLite, which has no sequences: the rowid numbers it.

PYTEST_DONT_REWRITE: fastsuite-warm preloads this module (see fastsuite._warm.learning).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Column, Integer
from sqlalchemy.dialects.sqlite.base import SQLiteDDLCompiler
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.sql.functions import next_value


def is_rowid_key(column: Any) -> bool:
    """Whether `column` is its table's only primary key column, an integer the database assigns."""
    table = getattr(column, "table", None)
    if not isinstance(column, Column) or table is None:
        return False
    return (
        len(table.primary_key.columns) == 1
        and table._autoincrement_column is column
        and issubclass(column.type._type_affinity or type(None), Integer)
    )


def _numbered_by_a_sequence(column: Any) -> bool:
    """An integer primary key whose server default is a sequence's next value."""
    default = getattr(column.server_default, "arg", None)
    return (
        isinstance(default, next_value)
        and list(column.table.primary_key.columns) == [column]
        and issubclass(column.type._type_affinity or type(None), Integer)
    )


class IntegerKeyDDLCompiler(SQLiteDDLCompiler):
    """SQLite's DDL, with an autoincrementing integer primary key declared `INTEGER`."""

    def get_column_default_string(self, column: Any) -> str | None:
        if _numbered_by_a_sequence(column):
            return None  # SQLite cannot render nextval(); the rowid numbers the key instead
        default: str | None = super().get_column_default_string(column)
        return default

    def get_column_specification(self, column: Any, **kwargs: Any) -> str:
        specification: str = super().get_column_specification(  # type: ignore[no-untyped-call]
            column, **kwargs
        )
        if not is_rowid_key(column):
            return specification
        # The specification starts with the column's name and type; only the type changes.
        name = self.preparer.format_column(column)
        declared = self.dialect.type_compiler_instance.process(column.type, type_expression=column)
        return f"{name} INTEGER{specification[len(name) + 1 + len(declared) :]}"


def compile_integer_keys_as_rowid(engine: AsyncEngine) -> None:
    """Give this engine's dialect (and no other engine's) the DDL compiler above."""
    engine.dialect.ddl_compiler = IntegerKeyDDLCompiler


def same_integer_key(inspected_type: Any, metadata_column: Any) -> bool:
    """For the drift checks: an `INTEGER` key in the database is what the harness made of a
    model's BigInteger (or other integer) key, not a difference."""
    return is_rowid_key(metadata_column) and isinstance(inspected_type, Integer)
