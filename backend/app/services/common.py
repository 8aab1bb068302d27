"""Helpers shared by services: LIKE patterns, paging, id bounds."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.models.base import MAX_ID
from app.services.errors import Conflict

T = TypeVar("T")

LIKE_ESCAPE = "\\"


def contains_pattern(text: str) -> str:
    """A LIKE pattern matching `text` (NFC-normalised) literally anywhere.

    `%`, `_` and the escape character itself lose their special meaning.
    """
    text = unicodedata.normalize("NFC", text)
    escaped = (text.replace(LIKE_ESCAPE, LIKE_ESCAPE * 2).replace("%", LIKE_ESCAPE + "%")).replace(
        "_", LIKE_ESCAPE + "_"
    )
    return f"%{escaped}%"


def storable_id(value: int) -> bool:
    """Whether `value` can be a primary key at all (others are simply not found)."""
    return 0 < value <= MAX_ID


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: Sequence[T]
    total: int
    limit: int
    offset: int


async def fetch_page(
    *, session: AsyncSession, statement: Select[Any], order_by: Any, limit: int, offset: int
) -> Page[Any]:
    """Run `statement` (a filtered SELECT of one entity) as a page: one COUNT and one SELECT."""
    total = await session.scalar(select(func.count()).select_from(statement.subquery()))
    rows = await session.scalars(statement.order_by(order_by).limit(limit).offset(offset))
    return Page(items=rows.all(), total=total or 0, limit=limit, offset=offset)


async def commit_or_conflict(session: AsyncSession, conflict: Conflict) -> None:
    """Commit; a unique constraint a concurrent request won between our check and our write
    becomes `conflict` (a 409), never a 500."""
    try:
        await session.commit()
    except IntegrityError:
        await session.rollback()
        raise conflict from None
