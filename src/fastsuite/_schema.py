"""Building the test database's schema once per process: from the models or from the migrations.

PYTEST_DONT_REWRITE: fastsuite-warm preloads this module (see fastsuite._warm.learning).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import MetaData, event, text
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import CompileError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.types import TypeDecorator, TypeEngine

from fastsuite._migrations import AlembicSetup, migrate_to_head

UNRUNNABLE_TYPES = (
    "fastsuite: {columns}: {backend} cannot run {these} column type{s} ({source}). Give each a "
    '{backend} variant (e.g. `JSONB().with_variant(JSON(), "{dialect}")`) and mark the tests '
    "that need the PostgreSQL behaviour @pytest.mark.postgresql_only, or run the suite on "
    "PostgreSQL (--fastsuite-db-url=postgresql+asyncpg://.../app_test)."
)


SAME_TABLE_TWICE = (
    "fastsuite: fastsuite_metadata lists several MetaData, and more than one has a table "
    "{table}, where a database holds one table of a name (per schema): list only the MetaData "
    "whose tables the app uses."
)


def metadata_of(target: Any) -> MetaData:
    """The MetaData of a MetaData or of a declarative base; for a list or tuple of them (what
    Alembic's `target_metadata` takes for several bases), one MetaData holding all their tables.

    A single MetaData is used as it is, so tables a test module defines on it later are built
    too; a list is gathered once, when the run starts (tables defined after that are not).
    """
    if isinstance(target, MetaData):
        return target
    if isinstance(target, (list, tuple)):
        return _gathered([metadata_of(item) for item in target])
    return target.metadata  # type: ignore[no-any-return]


def _gathered(metadatas: list[MetaData]) -> MetaData:
    # The very Table objects, not copies (Table.to_metadata): the app's statements and the
    # strict SQLite layer's messages name them; each keeps its own MetaData as `.metadata`.
    gathered = MetaData()
    for metadata in metadatas:
        for key, table in metadata.tables.items():
            if gathered.tables.get(key, table) is not table:
                raise pytest.UsageError(SAME_TABLE_TWICE.format(table=key))
            gathered._add_table(table.name, table.schema, table)
    return gathered


def is_metadata_source(target: Any) -> bool:
    if isinstance(target, (list, tuple)):
        return bool(target) and all(is_metadata_source(item) for item in target)
    return isinstance(target, MetaData) or isinstance(getattr(target, "metadata", None), MetaData)


@dataclass(frozen=True)
class SchemaSource:
    """What builds the schema: the models' metadata (create_all), or the Alembic migrations."""

    metadata: MetaData
    alembic: AlembicSetup | None = None

    async def build(self, engine: AsyncEngine) -> None:
        """Build the schema in the (empty) database of `engine`."""
        if self.alembic is None:
            await build_schema(engine, self.metadata)
        else:
            await migrate_to_head(engine, self.alembic)


async def build_schema(engine: AsyncEngine, metadata: MetaData) -> None:
    """Create every table of `metadata` in the (empty) test database, and before them the
    schemas they are in (`__table_args__ = {"schema": ...}`), which a new database lacks."""
    async with engine.begin() as connection:
        if engine.dialect.name != "sqlite":  # SQLite's are attached (attach_schemas)
            quote = engine.dialect.identifier_preparer.quote_schema
            for name in schemas_of(metadata):
                await connection.execute(text(f"CREATE SCHEMA IF NOT EXISTS {quote(name)}"))
        await connection.run_sync(metadata.create_all)


def schemas_of(metadata: MetaData) -> list[str]:
    """The schemas the tables of `metadata` name, besides the default one."""
    return sorted({table.schema for table in metadata.tables.values() if table.schema})


def attach_schemas(engine: AsyncEngine, metadata: MetaData) -> None:
    """Give SQLite the schemas `metadata` names, as SQLAlchemy's own test suite does: an
    in-memory database attached under each name answers to `schema.table`. Call before the
    engine's first connection (the attachment lives on the connection, the pool's only one)."""
    names = schemas_of(metadata)
    if engine.dialect.name != "sqlite" or not names:
        return
    quote = engine.dialect.identifier_preparer.quote_schema

    @event.listens_for(engine.sync_engine, "connect")
    def _attach(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        for name in names:
            cursor.execute(f"ATTACH DATABASE ':memory:' AS {quote(name)}")
        cursor.close()


def check_column_types(metadata: MetaData, dialect: Dialect, source: str) -> None:
    """Stop the run at start, naming every column whose type the database cannot run: one
    the dialect cannot render (ARRAY on SQLite), or another database's own type (PostgreSQL's
    JSONB renders as JSON on SQLite, and its operators then fail with a syntax error)."""
    columns = [
        f"{table.name}.{column.name} ({column.type!r})"
        for table in metadata.sorted_tables
        for column in table.columns
        if not _runs_on(column.type, dialect)
    ]
    if columns:
        raise pytest.UsageError(
            UNRUNNABLE_TYPES.format(
                columns=", ".join(columns),
                backend={"sqlite": "SQLite"}.get(dialect.name, dialect.name),
                dialect=dialect.name,
                these="this" if len(columns) == 1 else "these",
                s="" if len(columns) == 1 else "s",
                source=source,
            )
        )


def _runs_on(type_: TypeEngine[Any], dialect: Dialect) -> bool:
    variant = getattr(type_, "_variant_mapping", {}).get(dialect.name)
    if variant is not None:
        return _runs_on(variant, dialect)
    if isinstance(type_, TypeDecorator):
        return _runs_on(type_.load_dialect_impl(dialect), dialect)
    if dialect.name != "postgresql" and _postgresql_operators(type_):
        return False
    try:
        type_.dialect_impl(dialect).compile(dialect=dialect)
    except CompileError:
        return False
    return True


# PostgreSQL types that render elsewhere (JSONB as JSON on SQLite) but whose operators do not
# run there (`@>`: "unrecognized token").
_POSTGRESQL_ONLY_OPERATORS = {"JSONB", "HSTORE", "TSVECTOR", "TSQUERY"}


def _postgresql_operators(type_: TypeEngine[Any]) -> bool:
    if type(type_).__module__.split(".")[:3] != ["sqlalchemy", "dialects", "postgresql"]:
        return False
    visit_name = getattr(type_, "__visit_name__", "")
    return visit_name.upper() in _POSTGRESQL_ONLY_OPERATORS or "range" in visit_name.lower()
