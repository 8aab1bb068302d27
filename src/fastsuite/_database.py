"""The test database between tests: the leak guard, and the restore after real commits.

PYTEST_DONT_REWRITE: fastsuite-warm preloads this module (see fastsuite._warm.learning).
"""

from __future__ import annotations

import sqlite3
import weakref
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import MetaData, Table, func, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.pool import StaticPool

from fastsuite._strict_sqlite_schema import restore_keeping_sequences

LEAKED_ROWS = (
    "fastsuite: rows were committed outside this test's transaction and would leak into the "
    "next tests: {tables}. Write through the db_session or client fixtures (rolled back after "
    "each test), or mark the test @pytest.mark.fastsuite_db(transaction=True) so the database "
    "is restored after it. fastsuite has restored the database."
)


@dataclass
class TestDatabase:
    """This process's test database: its tables, their row counts at rest, a pristine copy."""

    __test__ = False  # a helper, not a test class

    engine: AsyncEngine
    metadata: MetaData
    baseline: dict[str, int]
    _sqlite_copy: sqlite3.Connection | None = None
    # Elsewhere than SQLite, the rows at rest (few: what the app's lifespan made), table by table
    # in dependency order, for restore() to put back after it empties the tables.
    _rows_at_rest: list[tuple[Table, list[dict[str, Any]]]] = field(default_factory=list)

    @classmethod
    async def prepare(cls, engine: AsyncEngine, metadata: MetaData) -> TestDatabase:
        """Record the database as the schema build left it (call before any test)."""
        database = cls(engine, metadata, {})
        if engine.dialect.name == "sqlite":
            copy = sqlite3.connect(":memory:", check_same_thread=False)
            database._sqlite_copy = copy
            # Closed with the database if no teardown closes it first (a run stopped during
            # set-up): Python 3.13 warns of a connection left to the collector, and suites
            # that turn warnings into errors fail on it.
            weakref.finalize(database, copy.close)
        await database.record_at_rest()
        return database

    async def record_at_rest(self) -> None:
        """Take the database as it is now as its state between tests: the leak guard's row
        counts and, on SQLite, the copy restored after real commits. Called by prepare(), and
        again after the app's lifespan, whose committed rows belong to every test.
        """
        async with self.engine.connect() as connection:
            self.baseline = await self._row_counts(connection)
            if self._sqlite_copy is not None:
                await _sqlite_backup(connection, into=self._sqlite_copy)
            self._rows_at_rest = [
                (table, [dict(row) for row in (await connection.execute(select(table))).mappings()])
                for table in self._tables_emptied_on_restore()
                if self.baseline[table.fullname]
            ]

    async def _row_counts(self, connection: AsyncConnection) -> dict[str, int]:
        tables = self._tables()
        if not tables:
            return {}
        counts = [select(func.count()).select_from(table).scalar_subquery() for table in tables]
        row = (await connection.execute(select(*counts))).one()
        return {table.fullname: count for table, count in zip(tables, row, strict=True)}

    def _tables(self) -> list[Table]:
        return list(self.metadata.sorted_tables)

    def _tables_emptied_on_restore(self) -> list[Table]:
        """Those restore() empties and fills again: on SQLite only the tables of attached
        schemas (see _schema.attach_schemas), which the copy of the main database lacks."""
        if self._sqlite_copy is None:
            return self._tables()
        return [table for table in self._tables() if table.schema is not None]

    @property
    def one_connection(self) -> bool:
        """In-memory SQLite: one connection, so only the test's own can have committed."""
        return self._sqlite_copy is not None and isinstance(self.engine.pool, StaticPool)

    async def leaked_rows(self, ended_intact: bool | None = None) -> dict[str, tuple[int, int]]:
        """Tables whose row count differs from the baseline: name → (before, now).

        On one connection a test whose transaction ended intact (still open when rolled back)
        cannot have committed anything, and the count, a statement per test, is skipped.
        """
        if ended_intact and self.one_connection:
            return {}
        async with self.engine.connect() as connection:
            counts = await self._row_counts(connection)
            await connection.rollback()
        return {
            name: (self.baseline[name], count)
            for name, count in counts.items()
            if count != self.baseline[name]
        }

    async def restore(self) -> None:
        """Put the database back as it was at rest (see record_at_rest), after real commits."""
        async with self.engine.connect() as connection:
            if self._sqlite_copy is not None:
                raw = await connection.get_raw_connection()
                copy = self._sqlite_copy
                restore_keeping_sequences(
                    self.engine,
                    raw.driver_connection,
                    lambda: _sqlite_restore(raw.driver_connection, copy),
                )
            tables = self._tables_emptied_on_restore()
            if not tables:
                return
            for table in reversed(tables):
                await connection.execute(table.delete())
            for table, rows in self._rows_at_rest:
                await connection.execute(table.insert(), rows)
            await connection.commit()

    def close(self) -> None:
        if self._sqlite_copy is not None:
            self._sqlite_copy.close()


def describe_leak(leaked: dict[str, tuple[int, int]]) -> str:
    return ", ".join(
        f"table {name} has {now} rows (had {before})"
        for name, (before, now) in sorted(leaked.items())
    )


async def _sqlite_backup(connection: AsyncConnection, *, into: sqlite3.Connection) -> None:
    raw = await connection.get_raw_connection()
    driver: Any = raw.driver_connection
    if isinstance(driver, sqlite3.Connection):
        driver.backup(into)
    else:  # aiosqlite runs the backup on its worker thread
        await driver.backup(into)


def _sqlite_restore(driver: Any, pristine: sqlite3.Connection) -> None:
    # The sqlite3 backup API copies page by page: restoring the empty schema takes
    # microseconds, where dropping and re-creating the tables would take milliseconds.
    target = driver if isinstance(driver, sqlite3.Connection) else driver._connection
    pristine.backup(target)
