"""Contexts: CRUD for one owner, and listing (one owner's or everyone's)."""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import Select, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Context, User
from app.models.base import utcnow
from app.schemas.context import ContextCreate, ContextUpdate
from app.services.common import (
    LIKE_ESCAPE,
    Page,
    PageRequest,
    contains_pattern,
    fetch_page,
    flush_or_conflict,
    paged,
    storable_id,
)
from app.services.errors import Conflict, NotFound

CONTEXT_NOT_FOUND = "Context not found"


def _name_taken(name: str) -> Conflict:
    return Conflict(f"A context named {name!r} already exists")


@cache
def _contexts_page(filters: frozenset[str]) -> Select[Any]:
    """The list's statement for these filters, their values bound when it runs: built once per
    combination (see `paged`)."""
    statement = select(Context)
    if "owner_id" in filters:
        statement = statement.where(Context.owner_id == bindparam("owner_id"))
    if "pattern" in filters:
        statement = statement.where(Context.name.ilike(bindparam("pattern"), escape=LIKE_ESCAPE))
    if "is_active" in filters:
        statement = statement.where(Context.is_active == bindparam("is_active"))
    return paged(statement, order_by=Context.id)


async def list_contexts(
    *,
    session: AsyncSession,
    owner_id: int | None,
    page: PageRequest,
    is_active: bool | None = None,
) -> Page[Context]:
    """A page of contexts ordered by id: one owner's, or everyone's when `owner_id` is None;
    `page.search` matches part of the name, ignoring case."""
    if owner_id is not None and not storable_id(owner_id):
        return Page(items=[], total=0, limit=page.limit, offset=page.offset)
    values: dict[str, Any] = {}
    if owner_id is not None:
        values["owner_id"] = owner_id
    if page.search:
        values["pattern"] = contains_pattern(page.search)
    if is_active is not None:
        values["is_active"] = is_active
    statement = _contexts_page(frozenset(values))
    return await fetch_page(session=session, statement=statement, values=values, page=page)


_CONTEXT_OF_OWNER = select(Context).where(
    Context.id == bindparam("context_id"), Context.owner_id == bindparam("owner_id")
)
"""Built once: every single-context route runs it."""


async def get_context(*, session: AsyncSession, owner: User, context_id: int) -> Context:
    """The owner's context; someone else's is reported as missing."""
    context = None
    if storable_id(context_id):
        context = await session.scalar(
            _CONTEXT_OF_OWNER, {"context_id": context_id, "owner_id": owner.id}
        )
    if context is None:
        raise NotFound(CONTEXT_NOT_FOUND)
    return context


async def create_context(*, session: AsyncSession, owner: User, data: ContextCreate) -> Context:
    # No SELECT first: the unique constraint (owner_id, name) refuses a taken name at the
    # INSERT, and flush_or_conflict makes that the same 409.
    now = utcnow()
    context = Context(owner_id=owner.id, created_at=now, updated_at=now, **data.model_dump())
    session.add(context)
    await flush_or_conflict(session, _name_taken(data.name))
    return context


async def update_context(
    *, session: AsyncSession, owner: User, context_id: int, data: ContextUpdate
) -> Context:
    context = await get_context(session=session, owner=owner, context_id=context_id)
    changes = data.model_dump(exclude_unset=True)
    for field, value in changes.items():
        setattr(context, field, value)
    if session.is_modified(context):
        context.updated_at = utcnow()
        await flush_or_conflict(session, _name_taken(context.name))
    return context


async def delete_context(*, session: AsyncSession, owner: User, context_id: int) -> None:
    context = await get_context(session=session, owner=owner, context_id=context_id)
    await session.delete(context)
    await session.flush()
