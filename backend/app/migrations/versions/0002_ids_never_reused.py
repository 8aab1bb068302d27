"""Ids are never reused: AUTOINCREMENT on SQLite's auth_user and context.

SQLite gives a new row the largest id plus one, so after the newest row is deleted its id comes
back; AUTOINCREMENT records the highest id ever used (in `sqlite_sequence`) and never goes
below it. SQLite cannot add it to an existing table: batch mode rebuilds each table, copying
its rows (their ids seed `sqlite_sequence`). PostgreSQL's sequences never reuse a value, so
there this revision does nothing.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("auth_user", "context")


def _rebuild(*, autoincrement: bool) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for table in TABLES:
        with op.batch_alter_table(
            table, recreate="always", table_kwargs={"sqlite_autoincrement": autoincrement}
        ):
            pass


def upgrade() -> None:
    _rebuild(autoincrement=True)


def downgrade() -> None:
    _rebuild(autoincrement=False)
