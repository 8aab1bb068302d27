"""Building the test database's schema once per process: from the models or from the migrations."""

from __future__ import annotations

from typing import Any

from sqlalchemy import MetaData
from sqlalchemy.ext.asyncio import AsyncEngine

__all__ = ["build_schema", "metadata_of"]


def metadata_of(target: Any) -> MetaData:
    """The MetaData of a MetaData or of a declarative base."""
    if isinstance(target, MetaData):
        return target
    return target.metadata  # type: ignore[no-any-return]


def is_metadata_source(target: Any) -> bool:
    return isinstance(target, MetaData) or isinstance(getattr(target, "metadata", None), MetaData)


async def build_schema(engine: AsyncEngine, metadata: MetaData) -> None:
    """Create every table of `metadata` in the (empty) test database."""
    async with engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
