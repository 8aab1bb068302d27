"""Helpers shared by services: LIKE patterns, paging, id bounds."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, Literal, TypeVar

from sqlalchemy import Select, bindparam, func, select
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


def paged(statement: Select[Any], *, order_by: Any) -> Select[Any]:
    """`statement` (a filtered SELECT of one entity) as one page: ordered by `order_by`,
    `:limit` rows after `:offset`, each carrying the total as `count(*) OVER ()`, which is
    computed before LIMIT and OFFSET (SQLite >= 3.25 and PostgreSQL).

    Build it once per combination of filters (their values as bound parameters too) and run it
    with `fetch_page`: building a statement, and the cache key SQLAlchemy makes of it on each
    run, costs more than running it on SQLite.
    """
    return (
        statement.add_columns(func.count().over().label("total"))
        .order_by(order_by)
        .limit(bindparam("limit"))
        .offset(bindparam("offset"))
    )


async def fetch_page(
    *, session: AsyncSession, statement: Select[Any], values: dict[str, Any], page: PageRequest
) -> Page[Any]:
    """Run `statement` (made by `paged`) with the filters' `values`, as one page.

    A page with no rows carries no total: past the last page, one COUNT finds it; on the first
    page it is 0.
    """
    parameters = {**values, "limit": page.limit, "offset": page.offset}
    rows = (await session.execute(statement, parameters)).all()
    if rows:
        total = rows[0].total
    elif page.offset == 0:
        total = 0
    else:
        every_row = statement.limit(None).offset(None).subquery()
        total = await session.scalar(select(func.count()).select_from(every_row), values) or 0
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
