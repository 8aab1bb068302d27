"""Users: admin CRUD and bulk actions, with the staff / superuser rules.

`actor` is the admin making the change; `None` means a trusted caller (the CLI).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any, Literal

from sqlalchemy import BindParameter, Select, bindparam, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from app.core.security import hash_password, off_the_loop
from app.models import Context, User
from app.schemas.user import UserCreate, UserUpdate
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
from app.services.errors import Conflict, Forbidden, NotFound, describe_items

USER_NOT_FOUND = "User not found"
ONLY_SUPERUSER_GRANTS = "Only a superuser may create staff or superusers or grant either status"
ONLY_SUPERUSER_MODIFIES = "Only a superuser may modify or delete a superuser"

CANNOT_DEMOTE_SELF = "You cannot remove your own staff or superuser status"
LAST_SUPERUSER = "The last active superuser cannot be demoted, deactivated or deleted"

BulkAction = Literal["activate", "deactivate", "delete"]


def _username_taken(username: str) -> Conflict:
    return Conflict(f"A user named {username!r} already exists")


def _is_superuser(actor: User | None) -> bool:
    return actor is None or actor.is_superuser


@cache
def _users_page(filters: frozenset[str]) -> Select[Any]:
    """The list's statement for these filters, their values bound when it runs: built once per
    combination (see `paged`)."""
    statement = select(User)
    if "pattern" in filters:
        pattern: BindParameter[str] = bindparam("pattern")
        statement = statement.where(
            or_(
                User.username.ilike(pattern, escape=LIKE_ESCAPE),
                User.email.ilike(pattern, escape=LIKE_ESCAPE),
            )
        )
    if "is_active" in filters:
        statement = statement.where(User.is_active == bindparam("is_active"))
    if "is_staff" in filters:
        statement = statement.where(User.is_staff == bindparam("is_staff"))
    return paged(statement, order_by=User.id)


async def list_users(
    *,
    session: AsyncSession,
    page: PageRequest,
    is_active: bool | None = None,
    is_staff: bool | None = None,
) -> Page[User]:
    """A page of users ordered by id; `page.search` matches part of the username or email,
    ignoring case."""
    values: dict[str, Any] = {}
    if page.search:
        values["pattern"] = contains_pattern(page.search, form="NFKC")
    if is_active is not None:
        values["is_active"] = is_active
    if is_staff is not None:
        values["is_staff"] = is_staff
    statement = _users_page(frozenset(values))
    return await fetch_page(session=session, statement=statement, values=values, page=page)


async def get_user(*, session: AsyncSession, user_id: int) -> User:
    user = await session.get(User, user_id) if storable_id(user_id) else None
    if user is None:
        raise NotFound(USER_NOT_FOUND)
    return user


_USER_BY_USERNAME = select(User).where(User.username == bindparam("username"))
"""The login's lookup, built once (see app.api.deps._USER_BY_ID)."""


async def get_user_by_username(*, session: AsyncSession, username: str) -> User | None:
    if "\x00" in username:  # cannot be stored, so cannot exist (and PostgreSQL refuses it)
        return None
    return await session.scalar(_USER_BY_USERNAME, {"username": username})


async def create_user(*, session: AsyncSession, actor: User | None, data: UserCreate) -> User:
    if (data.is_staff or data.is_superuser) and not _is_superuser(actor):
        raise Forbidden(ONLY_SUPERUSER_GRANTS)
    # No SELECT first: the unique constraint refuses a taken username at the INSERT.
    password_hash = await off_the_loop(hash_password, data.password)
    user = User(password=password_hash, **data.model_dump(exclude={"password"}))
    session.add(user)
    await flush_or_conflict(session, _username_taken(data.username))
    return user


async def update_user(
    *, session: AsyncSession, actor: User, user_id: int, data: UserUpdate
) -> User:
    user = await get_user(session=session, user_id=user_id)
    changes = data.model_dump(exclude_unset=True)
    if user.is_superuser and not actor.is_superuser:
        raise Forbidden(ONLY_SUPERUSER_MODIFIES)
    grants = (changes.get("is_staff") and not user.is_staff) or (
        changes.get("is_superuser") and not user.is_superuser
    )
    if grants and not actor.is_superuser:
        raise Forbidden(ONLY_SUPERUSER_GRANTS)
    if user.id == actor.id:
        if changes.get("is_active") is False:
            raise Conflict("You cannot deactivate yourself")
        if (user.is_staff and changes.get("is_staff") is False) or (
            user.is_superuser and changes.get("is_superuser") is False
        ):
            raise Conflict(CANNOT_DEMOTE_SELF)
    if _is_active_superuser(user) and (
        changes.get("is_superuser") is False or changes.get("is_active") is False
    ):
        await _keep_an_active_superuser(session=session, leaving={user.id})
    if "password" in changes:
        changes["password"] = await off_the_loop(hash_password, changes["password"])
    for field, value in changes.items():
        setattr(user, field, value)
    await flush_or_conflict(session, _username_taken(user.username))
    return user


async def delete_user(*, session: AsyncSession, actor: User, user_id: int) -> None:
    """Delete the user and their contexts (1 DELETE each)."""
    user = await get_user(session=session, user_id=user_id)
    if user.is_superuser and not actor.is_superuser:
        raise Forbidden(ONLY_SUPERUSER_MODIFIES)
    if user.id == actor.id:
        raise Conflict("You cannot delete yourself")
    if _is_active_superuser(user):
        await _keep_an_active_superuser(session=session, leaving={user.id})
    await _delete_users(session=session, ids=[user.id])
    session.expunge(user)


def _is_active_superuser(user: User) -> bool:
    return user.is_superuser and user.is_active


async def _keep_an_active_superuser(*, session: AsyncSession, leaving: set[int]) -> None:
    """Raise Conflict unless an active superuser remains once `leaving` are not ones.

    The active superusers' rows are locked (FOR UPDATE, in id order, so two such requests
    never deadlock): two admins demoting each other at once are serialised, and the second
    sees that it would remove the last one. SQLite has no row locks; there the app's
    transactions take the write lock at BEGIN (BEGIN IMMEDIATE), which serialises them too.
    """
    statement = (
        select(User.id)
        .where(User.is_superuser.is_(True), User.is_active.is_(True))
        .order_by(User.id)
        .with_for_update()
    )
    remaining = set(await session.scalars(statement)) - leaving
    if not remaining:
        raise Conflict(LAST_SUPERUSER)


async def _delete_users(*, session: AsyncSession, ids: Sequence[int]) -> None:
    # The foreign key cascades too; deleting explicitly does not depend on it being enforced
    # (SQLite only enforces it with PRAGMA foreign_keys=ON).
    await session.execute(
        delete(Context)
        .where(Context.owner_id.in_(ids))
        .execution_options(synchronize_session=False)
    )
    await session.execute(
        delete(User).where(User.id.in_(ids)).execution_options(synchronize_session=False)
    )


async def bulk_user_action(
    *, session: AsyncSession, actor: User, ids: Sequence[int], action: BulkAction
) -> int:
    """Apply `action` to every listed user or to none: 1 SELECT, then 1 UPDATE or 2 DELETEs.

    Repeated ids count once.
    """
    wanted = list({id_ for id_ in ids if storable_id(id_)})
    users = {
        user.id: user for user in await session.scalars(select(User).where(User.id.in_(wanted)))
    }
    missing = [index for index, id_ in enumerate(ids) if id_ not in users]
    if missing:
        raise NotFound.for_items("Users", ids, missing, "nothing was changed")
    if not actor.is_superuser:
        protected = [index for index, id_ in enumerate(ids) if users[id_].is_superuser]
        if protected:
            raise Forbidden(
                f"{ONLY_SUPERUSER_MODIFIES}: {describe_items(protected)}; nothing was changed",
                indexes=protected,
                ids=[ids[index] for index in protected],
            )
    if action != "activate" and actor.id in users:
        index = list(ids).index(actor.id)
        raise Conflict(
            f"You cannot {action} yourself ({describe_items([index])}); nothing was changed",
            indexes=[index],
            ids=[actor.id],
        )
    leaving = [index for index, id_ in enumerate(ids) if _is_active_superuser(users[id_])]
    if action != "activate" and leaving:
        try:
            await _keep_an_active_superuser(
                session=session, leaving={ids[index] for index in leaving}
            )
        except Conflict:
            raise Conflict(
                f"{LAST_SUPERUSER} ({describe_items(leaving)}); nothing was changed",
                indexes=leaving,
                ids=list(dict.fromkeys(ids[index] for index in leaving)),
            ) from None
    if action == "delete":
        await _delete_users(session=session, ids=list(users))
        for user in users.values():
            session.expunge(user)
    else:
        await session.execute(
            update(User)
            .where(User.id.in_(list(users)))
            .values(is_active=action == "activate")
            .execution_options(synchronize_session=False)
        )
        for user in users.values():
            set_committed_value(user, "is_active", action == "activate")
    return len(users)
