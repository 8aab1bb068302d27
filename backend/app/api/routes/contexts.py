"""/api/contexts: each user's own contexts, one at a time or in all-or-nothing batches."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, status

from app.api.deps import CurrentUser, OptionalBool, PageDep, PathId, SessionDep
from app.schemas.bulk import (
    BulkDeleted,
    ContextsBulkCreate,
    ContextsBulkDelete,
    ContextsBulkPublic,
    ContextsBulkUpdate,
)
from app.schemas.context import ContextCreate, ContextPublic, ContextsPublic, ContextUpdate
from app.services import context_bulk
from app.services import contexts as service

Responses = dict[int | str, dict[str, Any]]

router = APIRouter(
    prefix="/contexts",
    tags=["contexts"],
    responses={401: {"description": "Not authenticated"}},
)

_NOT_FOUND: Responses = {404: {"description": "No such context among yours"}}
_CONFLICT: Responses = {409: {"description": "You already have a context with that name"}}


@router.get("")
async def list_contexts(
    session: SessionDep, user: CurrentUser, is_active: OptionalBool = None, *, page: PageDep
) -> ContextsPublic:
    """Your contexts ordered by id; `search` matches part of the name, ignoring case."""
    found = await service.list_contexts(
        session=session, owner_id=user.id, page=page.request(), is_active=is_active
    )
    return ContextsPublic.model_validate(found)  # from the page's attributes, items included


@router.post("", status_code=status.HTTP_201_CREATED, responses=_CONFLICT)
async def create_context(
    body: ContextCreate, session: SessionDep, user: CurrentUser
) -> ContextPublic:
    context = await service.create_context(session=session, owner=user, data=body)
    return ContextPublic.model_validate(context)


# The bulk routes come before /{context_id} so that "bulk" is never taken for an id.


@router.post(
    "/bulk",
    status_code=status.HTTP_201_CREATED,
    responses={409: {"description": "A name repeats in the batch or already exists"}},
)
async def bulk_create_contexts(
    body: ContextsBulkCreate, session: SessionDep, user: CurrentUser
) -> ContextsBulkPublic:
    """Create 1 to 1000 contexts, all or none; the result is in request order."""
    created = await context_bulk.bulk_create_contexts(session=session, owner=user, items=body.items)
    return ContextsBulkPublic(items=[ContextPublic.model_validate(row) for row in created])


@router.patch(
    "/bulk",
    responses={
        404: {"description": "An id is missing or not yours"},
        409: {"description": "The updates would give two contexts the same name"},
    },
)
async def bulk_update_contexts(
    body: ContextsBulkUpdate, session: SessionDep, user: CurrentUser
) -> ContextsBulkPublic:
    """Partially update 1 to 1000 contexts, all or none; the result is in request order."""
    updated = await context_bulk.bulk_update_contexts(session=session, owner=user, items=body.items)
    return ContextsBulkPublic(items=[ContextPublic.model_validate(row) for row in updated])


@router.post("/bulk-delete", responses={404: {"description": "An id is missing or not yours"}})
async def bulk_delete_contexts(
    body: ContextsBulkDelete, session: SessionDep, user: CurrentUser
) -> BulkDeleted:
    """Delete 1 to 1000 contexts, all or none."""
    deleted = await context_bulk.bulk_delete_contexts(session=session, owner=user, ids=body.ids)
    return BulkDeleted(deleted=deleted)


@router.get("/{context_id}", responses=_NOT_FOUND)
async def get_context(context_id: PathId, session: SessionDep, user: CurrentUser) -> ContextPublic:
    context = await service.get_context(session=session, owner=user, context_id=context_id)
    return ContextPublic.model_validate(context)


@router.patch("/{context_id}", responses={**_NOT_FOUND, **_CONFLICT})
async def update_context(
    context_id: PathId, body: ContextUpdate, session: SessionDep, user: CurrentUser
) -> ContextPublic:
    context = await service.update_context(
        session=session, owner=user, context_id=context_id, data=body
    )
    return ContextPublic.model_validate(context)


@router.delete("/{context_id}", status_code=status.HTTP_204_NO_CONTENT, responses=_NOT_FOUND)
async def delete_context(context_id: PathId, session: SessionDep, user: CurrentUser) -> None:
    await service.delete_context(session=session, owner=user, context_id=context_id)
