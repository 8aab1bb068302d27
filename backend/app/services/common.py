"""Helpers shared by services: LIKE patterns, paging, id bounds."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, Literal, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.models.base import MAX_ID
from app.services.errors import Conflict

T = TypeVar("T")

LIKE_ESCAPE = "\\"


def contains_pattern(text: str, *, form: Literal["NFC", "NFKC"] = "NFC") -> str:
    """A LIKE pattern matching `text` literally anywhere, normalised as the column's values are
    (NFC for context names, NFKC for usernames).

    `%`, `_` and the escape character itself lose their special meaning.
    """
    text = unicodedata.normalize(form, text)
    escaped = (text.replace(LIKE_ESCAPE, LIKE_ESCAPE * 2).replace("%", LIKE_ESCAPE + "%")).replace(
        "_", LIKE_ESCAPE + "_"
    )
    return f"%{escaped}%"


def storable_id(value: int) -> bool:
    """Whether `value` can be a primary key at all (others are simply not found)."""
    return 0 < value <= MAX_ID


@dataclass(frozen=True, slots=True)
class PageRequest:
    """Which page of a list to fetch: `limit` rows after `offset`, optionally searched."""

    limit: int
    offset: int
    search: str | None = None


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: Sequence[T]
    total: int
    limit: int
    offset: int


async def fetch_page(
    *, session: AsyncSession, statement: Select[Any], order_by: Any, page: PageRequest
) -> Page[Any]:
    """Run `statement` (a filtered SELECT of one entity) as a page, in one statement.

    The total rides along on every row as `count(*) OVER ()`, which is computed before LIMIT
    and OFFSET (SQLite >= 3.25 and PostgreSQL). A page with no rows carries no total: past the
    last page, one COUNT finds it; on the first page it is 0.
    """
    rows = (
        await session.execute(
            statement.add_columns(func.count().over().label("total"))
            .order_by(order_by)
            .limit(page.limit)
            .offset(page.offset)
        )
    ).all()
    if rows:
        total = rows[0].total
    elif page.offset == 0:
        total = 0
    else:
        total = await session.scalar(select(func.count()).select_from(statement.subquery())) or 0
    return Page(items=[row[0] for row in rows], total=total, limit=page.limit, offset=page.offset)


async def flush_or_conflict(session: AsyncSession, conflict: Conflict) -> None:
    """Flush; a unique constraint the write breaks becomes `conflict` (a 409), never a 500.

    Services never commit: the caller owns the transaction (the API's session dependency
    commits once per request). After a conflict the transaction must be rolled back, as after
    any failed flush; the session dependency does it.
    """
    try:
        await session.flush()
    except IntegrityError:
        raise conflict from None
