"""Ids are never reused on SQLite: AUTOINCREMENT in the models and in the migrations.

The drift checks compare columns and constraints, not SQLite's table options, so these tests
check that both schemas carry AUTOINCREMENT, and what it does to a database that was already
in use before the migration. (The API's behaviour on both databases: tests/api.)
"""

from __future__ import annotations

import sqlite3

import pytest
from alembic import command
from app.migrations import alembic_config, upgrade
from app.models import Base
from sqlalchemy import create_engine

# Alembic runs, a second or so in all: the slow tier, which CI runs (-m slow).
pytestmark = pytest.mark.slow

TABLES = ("auth_user", "context")


def _table_sql(database) -> dict[str, str]:
    with sqlite3.connect(database) as connection:
        rows = connection.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name IN (?, ?)", TABLES
        )
        return dict(rows.fetchall())


def _add_user(connection: sqlite3.Connection, username: str) -> int:
    cursor = connection.execute(
        "INSERT INTO auth_user (password, is_superuser, username, first_name, last_name, email,"
        " is_staff, is_active, date_joined) VALUES ('!', 0, ?, '', '', '', 0, 1, '2026-01-01')",
        (username,),
    )
    assert cursor.lastrowid is not None
    return cursor.lastrowid


@pytest.fixture
def database(tmp_path):
    return tmp_path / "app.db"


def _url(database) -> str:
    return f"sqlite+aiosqlite:///{database}"


def test_the_migrations_and_the_models_both_make_autoincrement_tables(database, tmp_path):
    upgrade(_url(database))
    from_models = tmp_path / "models.db"
    engine = create_engine(f"sqlite:///{from_models}")
    Base.metadata.create_all(engine)
    engine.dispose()

    for schema in (_table_sql(database), _table_sql(from_models)):
        assert sorted(schema) == sorted(TABLES)
        for table, sql in schema.items():
            assert "id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT" in sql, table


def test_after_the_upgrade_a_deleted_newest_id_is_not_given_again_after_a_restart(database):
    upgrade(_url(database), "0001")
    with sqlite3.connect(database) as connection:
        kept = [_add_user(connection, name) for name in ("a", "b")]
    upgrade(_url(database))

    # Each `with` block is a server run: a new connection sees only what the file holds.
    with sqlite3.connect(database) as connection:
        stored = connection.execute("SELECT id, username FROM auth_user ORDER BY id").fetchall()
        newest = _add_user(connection, "c")
        connection.execute("DELETE FROM auth_user WHERE id = ?", (newest,))
    with sqlite3.connect(database) as connection:
        after_restart = _add_user(connection, "d")

    assert stored == [(kept[0], "a"), (kept[1], "b")]  # the rebuild kept the rows and ids
    assert newest == kept[1] + 1
    assert after_restart == newest + 1


def test_the_downgrade_keeps_the_rows_and_drops_autoincrement(database):
    upgrade(_url(database))
    with sqlite3.connect(database) as connection:
        _add_user(connection, "kept")

    command.downgrade(alembic_config(_url(database)), "0001")

    schema = _table_sql(database)
    assert all("AUTOINCREMENT" not in sql for sql in schema.values())
    with sqlite3.connect(database) as connection:
        assert connection.execute("SELECT username FROM auth_user").fetchall() == [("kept",)]
