"""Alembic migrations. `alembic_config()` finds them from any working directory."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory

MIGRATIONS_DIR = Path(__file__).resolve().parent


def alembic_config(url: str | None = None) -> Config:
    """An Alembic config for these migrations, against `url` or else `DATABASE_URL`.

    It does not read `alembic.ini`, so running migrations from code leaves logging alone.
    """
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url is not None:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str | None = None, revision: str = "head") -> None:
    """Apply migrations up to `revision` (from synchronous code: it runs its own event loop)."""
    command.upgrade(alembic_config(url), revision)


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


__all__ = ["MIGRATIONS_DIR", "alembic_config", "head_revision", "upgrade"]
