"""Building the test database's schema once per process: from the models or from the migrations."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import MetaData
from sqlalchemy.ext.asyncio import AsyncEngine

from fastsuite._migrations import AlembicSetup, migrate_to_head


def metadata_of(target: Any) -> MetaData:
    """The MetaData of a MetaData or of a declarative base."""
    if isinstance(target, MetaData):
        return target
    return target.metadata  # type: ignore[no-any-return]


def is_metadata_source(target: Any) -> bool:
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
    """Create every table of `metadata` in the (empty) test database."""
    async with engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
