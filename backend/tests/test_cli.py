"""The `backend` command, run for real: a subprocess against a temporary SQLite file.

Each run costs about a second (interpreter start, Alembic), so the module makes four: migrate
once, create-admin once, then the two failures, each on its own copy of the database.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

REPOSITORY_ROOT = Path(__file__).resolve().parents[2]
BACKEND = Path(sys.executable).with_name("backend")  # the installed console script
ADMIN_PASSWORD = "a long admin password"

# Four subprocesses, real Argon2: the slow tier, which CI runs (-m slow).
pytestmark = pytest.mark.slow


def _run(database: Path, *args: str, password: str | None = ADMIN_PASSWORD):
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite+aiosqlite:///{database}",
        "ENVIRONMENT": "development",
    }
    env.pop("BACKEND_ADMIN_PASSWORD", None)
    if password is not None:
        env["BACKEND_ADMIN_PASSWORD"] = password
    return subprocess.run(  # noqa: S603 (our own command, fixed arguments)
        [str(BACKEND), *args],
        cwd=REPOSITORY_ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _copy(database: Path, into: Path) -> Path:
    copy = into / database.name
    shutil.copy(database, copy)
    return copy


def _query(database: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(database) as connection:
        return connection.execute(sql).fetchall()


@pytest.fixture(scope="module")
def migrated(tmp_path_factory):
    """A database file after `backend migrate`, and that run's result."""
    database = tmp_path_factory.mktemp("migrated") / "x.db"
    return database, _run(database, "migrate")


@pytest.fixture(scope="module")
def with_admin(tmp_path_factory, migrated):
    """A copy of the migrated database after `backend create-admin --username root`."""
    database = _copy(migrated[0], tmp_path_factory.mktemp("admin"))
    result = _run(database, "create-admin", "--username", "root", "--email", "root@example.com")
    return database, result


def test_migrate_creates_the_tables_and_reports_the_revision(migrated):
    database, result = migrated

    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"Database sqlite+aiosqlite:///{database} is at revision ")
    assert result.stdout.rstrip().endswith("(head)")
    tables = {name for (name,) in _query(database, "SELECT name FROM sqlite_master")}
    assert {"auth_user", "context", "alembic_version"} <= tables
    columns = [row[1] for row in _query(database, "PRAGMA table_info(auth_user)")]
    assert columns == [
        "id",
        "password",
        "last_login",
        "is_superuser",
        "username",
        "first_name",
        "last_name",
        "email",
        "is_staff",
        "is_active",
        "date_joined",
    ]


def test_create_admin_creates_an_active_staff_superuser(with_admin):
    database, result = with_admin

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "Created staff superuser 'root' (id 1)"
    ((username, email, password, staff, superuser, active),) = _query(
        database,
        "SELECT username, email, password, is_staff, is_superuser, is_active FROM auth_user",
    )
    assert (username, email, staff, superuser, active) == ("root", "root@example.com", 1, 1, 1)
    assert password.startswith("$argon2")
    assert ADMIN_PASSWORD not in result.stdout + result.stderr


def test_create_admin_with_a_taken_username_fails_with_one_line(with_admin, tmp_path):
    database = _copy(with_admin[0], tmp_path)

    result = _run(database, "create-admin", "--username", "root")

    assert result.returncode != 0
    assert result.stderr == "backend create-admin: error: A user named 'root' already exists\n"
    assert "Traceback" not in result.stdout
    assert _query(database, "SELECT count(*) FROM auth_user") == [(1,)]


def test_create_admin_without_a_password_or_terminal_fails_with_one_line(migrated, tmp_path):
    database = _copy(migrated[0], tmp_path)

    result = _run(database, "create-admin", "--username", "nopass", password=None)

    assert result.returncode != 0
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("backend create-admin: error: no password")
    assert "BACKEND_ADMIN_PASSWORD" in result.stderr
    assert _query(database, "SELECT count(*) FROM auth_user") == [(0,)]
