"""Strict SQLite in the schema: triggers for lengths and ranges, sequences that never go back.

PostgreSQL checks `VARCHAR(n)` and `INTEGER`'s 32 bits when a row is written; SQLite checks
neither. One trigger per table and event does it, with a WHEN clause that SQLite evaluates in
its own bytecode: no Python runs for a row that passes.

PostgreSQL's sequences never go back: an id handed out in a transaction that was rolled back is
not handed out again. SQLite picks max(id) + 1, so every test that inserts gets id 1 again.
Integer primary keys are compiled as AUTOINCREMENT (which keeps the highest id in
`sqlite_sequence`), and since a rollback takes `sqlite_sequence` back too, its values are read
before each rollback and written back after it.

PYTEST_DONT_REWRITE: fastsuite-warm preloads this module (see fastsuite._warm.learning).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any

from sqlalchemy import MetaData, event, text, types
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.schema import Column, Table

from fastsuite._strict_sqlite import strict_message

_RANGES = {16: (-(1 << 15), (1 << 15) - 1), 32: (-(1 << 31), (1 << 31) - 1)}
_SMALL = (types.SmallInteger,)
_TRIGGER = "fastsuite_strict_{table}_{event}"


def _base_type(column: Column[Any]) -> Any:
    type_: Any = column.type
    while isinstance(type_, types.TypeDecorator):
        type_ = type_.impl_instance
    return type_


def _conditions(table: Table, checks: frozenset[str], dialect: Dialect) -> list[tuple[str, str]]:
    """(SQL condition on NEW, message) for each column a check applies to."""
    quote = dialect.identifier_preparer.quote
    found = []
    for column in table.columns:
        type_ = _base_type(column)
        name = f"NEW.{quote(column.name)}"
        where = f"{table.name}.{column.name}"
        length = getattr(type_, "length", None)
        if "string_length" in checks and isinstance(type_, types.String) and length:
            problem = f"value too long for type character varying({length})"
            found.append(
                (f"length({name}) > {int(length)}", strict_message("string_length", problem, where))
            )
        if (
            "integer_range" in checks
            and isinstance(type_, types.Integer)
            and not isinstance(type_, types.BigInteger)
            and column is not table.autoincrement_column
        ):
            low, high = _RANGES[16 if isinstance(type_, _SMALL) else 32]
            problem = "smallint out of range" if high < 1 << 16 else "integer out of range"
            found.append(
                (
                    f"{name} NOT BETWEEN {low} AND {high}",
                    strict_message("integer_range", problem, where),
                )
            )
    return found


def trigger_statements(metadata: MetaData, checks: frozenset[str], dialect: Dialect) -> list[str]:
    """The DDL of the checking triggers, for the tables of `metadata`."""
    quote = dialect.identifier_preparer.quote
    statements = []
    for table in metadata.sorted_tables:
        conditions = _conditions(table, checks, dialect)
        if not conditions:
            continue
        when = " OR ".join(f"({condition})" for condition, _ in conditions)
        body = " ".join(
            f"SELECT RAISE(ABORT, '{message.replace(chr(39), chr(39) * 2)}') WHERE {condition};"
            for condition, message in conditions
        )
        columns = ", ".join(quote(column.name) for column in table.columns)
        for event_name, timing in (("insert", "INSERT"), ("update", f"UPDATE OF {columns}")):
            name = quote(_TRIGGER.format(table=table.name, event=event_name))
            statements.append(f"DROP TRIGGER IF EXISTS {name}")
            statements.append(
                f"CREATE TRIGGER {name} BEFORE {timing} ON {quote(table.name)} "
                f"FOR EACH ROW WHEN {when} BEGIN {body} END"
            )
    return statements


async def install_schema_checks(
    engine: AsyncEngine, metadata: MetaData, checks: frozenset[str]
) -> None:
    """Create the triggers, on the tables that exist, and the rows of sqlite_sequence (after
    the schema was built)."""
    if not checks & {"string_length", "integer_range", "sequence_ids"}:
        return
    async with engine.begin() as connection:
        existing = set(
            (
                await connection.execute(
                    text("SELECT name FROM sqlite_master WHERE type = 'table'")
                )
            ).scalars()
        )
        present = MetaData()
        for table in metadata.sorted_tables:
            if table.name in existing and table.schema is None:
                table.to_metadata(present)
        for statement in trigger_statements(present, checks, engine.dialect):
            await connection.exec_driver_sql(statement)
        sequences = await connection.scalar(
            text("SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_sequence'")
        )
        if "sequence_ids" in checks and sequences:
            await connection.exec_driver_sql(_SEED_SEQUENCES)


def compile_primary_keys_as_sequences(dialect: Dialect) -> None:
    """Compile each table's integer autoincrement primary key as AUTOINCREMENT (DDL)."""
    base: Any = dialect.ddl_compiler

    class SequenceDDLCompiler(base):  # type: ignore[misc]
        def _is_sequence(self, column: Any) -> bool:
            table = column.table
            autoincrement: Any = getattr(table, "_autoincrement_column", None)
            if (
                autoincrement is None
                or autoincrement is not column
                or len(table.primary_key.columns) != 1
                or column.foreign_keys
                or table.dialect_options["sqlite"]["autoincrement"]
            ):
                return False
            # Only a key declared INTEGER (the rowid's alias) may be AUTOINCREMENT.
            name = self.preparer.format_column(column)
            declared: str = base.get_column_specification(self, column)
            return declared.startswith(f"{name} INTEGER")

        def get_column_specification(self, column: Any, **kw: Any) -> str:
            spec: str = super().get_column_specification(column, **kw)
            if column.primary_key and self._is_sequence(column):
                spec += " PRIMARY KEY AUTOINCREMENT"
            return spec

        def visit_primary_key_constraint(self, constraint: Any, **kw: Any) -> Any:
            columns = list(constraint)
            if len(columns) == 1 and self._is_sequence(columns[0]):
                return None  # declared on the column
            return super().visit_primary_key_constraint(constraint, **kw)

    dialect.ddl_compiler = SequenceDDLCompiler


class SequenceKeeper:
    """The highest id of each AUTOINCREMENT table, kept across rollbacks."""

    def __init__(self) -> None:
        self.highest: dict[str, int] = {}
        # Grown since the last rollback of a whole transaction, which takes them back.
        self.unsaved: dict[str, int] = {}
        self._changes_seen: int | None = None

    def remember(self, dbapi_connection: Any) -> None:
        """Read sqlite_sequence, unless nothing was written since the last read."""
        changes = getattr(dbapi_connection, "total_changes", None)
        if changes is not None and changes == self._changes_seen:
            return
        self._changes_seen = changes
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("SELECT name, seq FROM sqlite_sequence")
            rows = cursor.fetchall()
        except Exception:  # no AUTOINCREMENT table (yet): no sqlite_sequence
            return
        finally:
            cursor.close()
        grown = {name: seq for name, seq in rows if seq > self.highest.get(name, 0)}
        self.highest.update(grown)
        self.unsaved.update(grown)

    def write_back(self, dbapi_connection: Any, tables: dict[str, int]) -> None:
        """Raise sqlite_sequence to `tables`' values: one UPDATE (each table has its row, made
        when the schema was built), and an INSERT only for a table created since."""
        if not tables:
            return
        cases = " ".join("WHEN ? THEN ?" for _ in tables)
        marks = ", ".join("?" for _ in tables)
        values = [item for pair in tables.items() for item in pair]
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(
                f"UPDATE sqlite_sequence SET seq = max(seq, CASE name {cases} ELSE seq END) "  # noqa: S608
                f"WHERE name IN ({marks})",
                (*values, *tables),
            )
            if cursor.rowcount < len(tables):
                for name, seq in tables.items():
                    cursor.execute(_INSERT_MISSING, (name, seq, name))
        finally:
            cursor.close()
        self._changes_seen = getattr(dbapi_connection, "total_changes", None)


_INSERT_MISSING = (
    "INSERT INTO sqlite_sequence (name, seq) SELECT ?, ? "
    "WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = ?)"
)
# A row per AUTOINCREMENT table, made with the schema (so at rest): write_back then needs no
# INSERT after a rollback took a table's first row away.
_SEED_SEQUENCES = (
    "INSERT INTO sqlite_sequence (name, seq) SELECT name, 0 FROM sqlite_master "
    "WHERE type = 'table' AND sql LIKE '%AUTOINCREMENT%' "
    "AND name NOT IN (SELECT name FROM sqlite_sequence)"
)


def keep_sequences(engine: AsyncEngine) -> None:
    """AUTOINCREMENT in the DDL, and sqlite_sequence kept across rollbacks (to SAVEPOINTs too)."""
    sync_engine = engine.sync_engine
    dialect = sync_engine.dialect
    compile_primary_keys_as_sequences(dialect)
    keeper = SequenceKeeper()
    do_rollback = dialect.do_rollback
    do_rollback_to = dialect.do_rollback_to_savepoint

    def rollback(dbapi_connection: Any) -> None:
        keeper.remember(dbapi_connection)
        do_rollback(dbapi_connection)
        # Outside any transaction now: written back for good.
        keeper.write_back(dbapi_connection, keeper.unsaved)
        keeper.unsaved = {}

    def rollback_to_savepoint(connection: Connection, name: str) -> None:
        keeper.remember(connection.connection)
        do_rollback_to(connection, name)
        keeper.write_back(connection.connection, keeper.unsaved)

    dialect.do_rollback = rollback  # type: ignore[method-assign]
    dialect.do_rollback_to_savepoint = rollback_to_savepoint  # type: ignore[method-assign]
    _keepers[id(sync_engine)] = keeper

    @event.listens_for(sync_engine, "engine_disposed")
    def _forget(_engine: Any) -> None:
        _keepers.pop(id(sync_engine), None)


_keepers: dict[int, SequenceKeeper] = {}


def restore_keeping_sequences(
    engine: AsyncEngine, driver_connection: Any, restore: Callable[[], None]
) -> None:
    """Run `restore` (the pristine copy put back), then put back the highest ids."""
    keeper = _keepers.get(id(engine.sync_engine))
    # aiosqlite's connection wraps a sqlite3 one, idle between statements.
    connection = getattr(driver_connection, "_connection", driver_connection)
    if keeper is None or not isinstance(connection, sqlite3.Connection):
        restore()
        return
    keeper.remember(connection)
    restore()
    keeper.write_back(connection, keeper.highest)
