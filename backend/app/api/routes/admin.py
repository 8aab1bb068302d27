"""/api/admin: user management and every user's contexts, for staff only."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, status

from app.api.deps import AdminUser, OptionalBool, OptionalId, PageDep, PathId, SessionDep
from app.schemas.bulk import BulkActionResult, UsersBulkAction
from app.schemas.context import ContextsPublic
from app.schemas.user import UserCreate, UserPublic, UsersPublic, UserUpdate
from app.services import contexts as contexts_service
from app.services import users as service

Responses = dict[int | str, dict[str, Any]]

router = APIRouter(
    prefix="/admin",
    tags=["admin"],
    responses={
        401: {"description": "Not authenticated"},
        403: {"description": "Not staff, or the change needs a superuser"},
    },
)

_NOT_FOUND: Responses = {404: {"description": "No such user"}}


@router.get("/users")
async def list_users(
    session: SessionDep,
    admin: AdminUser,
    is_active: OptionalBool = None,
    is_staff: OptionalBool = None,
    *,
    page: PageDep,
) -> UsersPublic:
    """Users ordered by id; `search` matches part of the username or email, ignoring case."""
    found = await service.list_users(
        session=session, page=page.request(), is_active=is_active, is_staff=is_staff
    )
    return UsersPublic.model_validate(found)  # from the page's attributes, items included


@router.post(
    "/users",
    status_code=status.HTTP_201_CREATED,
    responses={409: {"description": "The username is taken"}},
)
async def create_user(body: UserCreate, session: SessionDep, admin: AdminUser) -> UserPublic:
    user = await service.create_user(session=session, actor=admin, data=body)
    return UserPublic.model_validate(user)


@router.post(
    "/users/bulk-action",
    responses={
        404: {"description": "An id is unknown"},
        409: {
            "description": "You cannot deactivate or delete yourself, nor the last active superuser"
        },
    },
)
async def bulk_user_action(
    body: UsersBulkAction, session: SessionDep, admin: AdminUser
) -> BulkActionResult:
    """Activate, deactivate or delete 1 to 1000 users, all or none."""
    affected = await service.bulk_user_action(
        session=session, actor=admin, ids=body.ids, action=body.action
    )
    return BulkActionResult(affected=affected)


@router.get("/users/{user_id}", responses=_NOT_FOUND)
async def get_user(user_id: PathId, session: SessionDep, admin: AdminUser) -> UserPublic:
    user = await service.get_user(session=session, user_id=user_id)
    return UserPublic.model_validate(user)


@router.patch(
    "/users/{user_id}",
    responses={
        **_NOT_FOUND,
        409: {
            "description": "The username is taken, or the change would remove your own staff, "
            "superuser or active status, or the last active superuser"
        },
    },
)
async def update_user(
    user_id: PathId, body: UserUpdate, session: SessionDep, admin: AdminUser
) -> UserPublic:
    user = await service.update_user(session=session, actor=admin, user_id=user_id, data=body)
    return UserPublic.model_validate(user)


@router.delete(
    "/users/{user_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={
        **_NOT_FOUND,
        409: {"description": "You cannot delete yourself, nor the last active superuser"},
    },
)
async def delete_user(user_id: PathId, session: SessionDep, admin: AdminUser) -> None:
    """Delete the user and all their contexts."""
    await service.delete_user(session=session, actor=admin, user_id=user_id)


@router.get("/contexts")
async def list_all_contexts(
    session: SessionDep,
    admin: AdminUser,
    owner_id: OptionalId = None,
    is_active: OptionalBool = None,
    *,
    page: PageDep,
) -> ContextsPublic:
    """Every user's contexts ordered by id, optionally only one owner's."""
    found = await contexts_service.list_contexts(
        session=session, owner_id=owner_id, page=page.request(), is_active=is_active
    )
    return ContextsPublic.model_validate(found)  # from the page's attributes, items included
