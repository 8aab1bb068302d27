"""The harness's SQLite dialect writes expression server defaults in parentheses, on every
supported SQLAlchemy version (2.0.24 writes `DEFAULT now()`, which SQLite refuses)."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import (
    Column,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    insert,
    select,
    text,
)
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.schema import CreateTable

from fastsuite._sqlite_defaults import parenthesize_expression_defaults

DEFAULTS = [
    (text("now()"), "DEFAULT (now())"),
    (text("datetime('now')"), "DEFAULT (datetime('now'))"),
    (text("1 + 1"), "DEFAULT (1 + 1)"),
    (text("(datetime('now'))"), "DEFAULT (datetime('now'))"),
    (text("'draft'"), "DEFAULT 'draft'"),
    (text("0"), "DEFAULT 0"),
]


@pytest.mark.parametrize(("default", "rendered"), DEFAULTS)
def test_an_expression_default_is_written_in_parentheses_and_a_literal_bare(default, rendered):
    engine = create_async_engine("sqlite+aiosqlite://")
    parenthesize_expression_defaults(engine)
    table = Table(
        "t",
        MetaData(),
        Column("id", Integer, primary_key=True),
        Column("v", String, server_default=default),
    )

    ddl = str(CreateTable(table).compile(dialect=engine.dialect))

    assert f"v VARCHAR {rendered}" in ddl


async def test_a_default_in_sqlites_own_sql_builds_and_runs():
    engine = create_async_engine("sqlite+aiosqlite://")
    parenthesize_expression_defaults(engine)
    metadata = MetaData()
    table = Table(
        "notes",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("at", DateTime, server_default=text("datetime('now')")),
    )
    try:
        async with engine.begin() as connection:
            await connection.run_sync(metadata.create_all)
            await connection.execute(insert(table))
            at = (await connection.execute(select(table.c.at))).scalar_one()
    finally:
        await engine.dispose()

    assert isinstance(at, datetime)


def test_another_engines_dialect_is_left_alone():
    harness, other = (
        create_async_engine("sqlite+aiosqlite://"),
        create_async_engine("sqlite+aiosqlite://"),
    )

    parenthesize_expression_defaults(harness)

    assert harness.dialect.ddl_compiler is not type(harness.dialect).ddl_compiler
    assert other.dialect.ddl_compiler is type(other.dialect).ddl_compiler
