"""No admin can lock themself out, and an active superuser always remains (409)."""

from __future__ import annotations

import asyncio

import pytest
from app.models import User
from app.schemas.user import UserUpdate
from app.services import users
from app.services.errors import Conflict
from app.services.users import CANNOT_DEMOTE_SELF, LAST_SUPERUSER
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from tests.conftest import bearer
from tests.factories import UserFactory

DEMOTE_SELF = {"detail": CANNOT_DEMOTE_SELF}


@pytest.mark.parametrize(
    "change",
    [{"is_superuser": False}, {"is_staff": False}, {"is_staff": False, "is_superuser": False}],
    ids=["superuser", "staff", "both"],
)
async def test_an_admin_removing_their_own_status_is_409_and_changes_nothing(
    admin_client, admin_user, db_session, change
):
    response = await admin_client.patch(f"/api/admin/users/{admin_user.id}", json=change)
    me = await admin_client.get("/api/auth/me")

    assert response.status_code == 409
    assert response.json() == DEMOTE_SELF
    assert (me.json()["is_staff"], me.json()["is_superuser"]) == (True, True)


async def test_a_staff_user_removing_their_own_staff_status_is_409(client_factory, db_session):
    staff = await UserFactory.acreate(staff=True)
    staff_client = client_factory(headers=bearer(staff))

    response = await staff_client.patch(f"/api/admin/users/{staff.id}", json={"is_staff": False})

    assert response.status_code == 409
    assert response.json() == DEMOTE_SELF
    await db_session.refresh(staff)
    assert staff.is_staff is True


async def test_an_admin_restating_their_own_status_is_fine(admin_client, admin_user):
    response = await admin_client.patch(
        f"/api/admin/users/{admin_user.id}",
        json={"is_staff": True, "is_superuser": True, "first_name": "Still"},
    )

    assert response.status_code == 200
    assert response.json()["first_name"] == "Still"


async def test_an_admin_may_demote_another_superuser(admin_client):
    other = await UserFactory.acreate(admin=True)

    response = await admin_client.patch(
        f"/api/admin/users/{other.id}", json={"is_superuser": False}
    )

    assert response.status_code == 200
    assert response.json()["is_superuser"] is False


# --- the last active superuser -------------------------------------------------------------
# Through the API an admin can only touch a superuser while being an active superuser
# themself, and cannot remove themself, so one always remains; the service keeps the rule
# for every other caller, and for two admins demoting each other at the same moment.


@pytest.fixture
async def last_superuser(db_session) -> User:
    return await UserFactory.acreate(admin=True, username="last")


@pytest.fixture
async def inactive_admin(db_session) -> User:
    """A caller that is a superuser but not an active one (its own removal is not at stake)."""
    return await UserFactory.acreate(admin=True, inactive=True, username="retired")


@pytest.mark.parametrize(
    "change", [{"is_superuser": False}, {"is_active": False}], ids=["demote", "deactivate"]
)
async def test_the_last_active_superuser_cannot_be_demoted_or_deactivated(
    db_session, last_superuser, inactive_admin, change
):
    with pytest.raises(Conflict) as refused:
        await users.update_user(
            session=db_session,
            actor=inactive_admin,
            user_id=last_superuser.id,
            data=UserUpdate(**change),
        )

    assert refused.value.message == LAST_SUPERUSER
    await db_session.refresh(last_superuser)
    assert (last_superuser.is_superuser, last_superuser.is_active) == (True, True)


async def test_the_last_active_superuser_cannot_be_deleted(
    db_session, last_superuser, inactive_admin
):
    with pytest.raises(Conflict) as refused:
        await users.delete_user(session=db_session, actor=inactive_admin, user_id=last_superuser.id)

    assert refused.value.message == LAST_SUPERUSER
    assert await db_session.get(User, last_superuser.id) is not None


@pytest.mark.parametrize("action", ["deactivate", "delete"])
async def test_a_bulk_action_removing_the_last_active_superuser_names_the_item(
    db_session, last_superuser, inactive_admin, action
):
    plain = await UserFactory.acreate()

    with pytest.raises(Conflict) as refused:
        await users.bulk_user_action(
            session=db_session,
            actor=inactive_admin,
            ids=[plain.id, last_superuser.id],
            action=action,
        )

    assert refused.value.message == f"{LAST_SUPERUSER} (item 1); nothing was changed"
    assert (refused.value.indexes, refused.value.ids) == ([1], [last_superuser.id])


async def test_the_last_superuser_conflict_is_a_409_with_its_detail(admin_client, app, monkeypatch):
    # The mapping of the service's Conflict to HTTP, for the rule above: the caller appears
    # to be the only superuser's peer whose own status is not at stake.
    other = await UserFactory.acreate(admin=True)

    async def no_one_else(**_kwargs):
        raise Conflict(LAST_SUPERUSER)

    monkeypatch.setattr(users, "_keep_an_active_superuser", no_one_else)
    response = await admin_client.patch(
        f"/api/admin/users/{other.id}", json={"is_superuser": False}
    )

    assert response.status_code == 409
    assert response.json() == {"detail": LAST_SUPERUSER}


async def test_demoting_a_superuser_while_others_remain_is_fine(db_session, inactive_admin):
    first = await UserFactory.acreate(admin=True)
    await UserFactory.acreate(admin=True)

    demoted = await users.update_user(
        session=db_session,
        actor=inactive_admin,
        user_id=first.id,
        data=UserUpdate(is_superuser=False),
    )

    assert demoted.is_superuser is False


async def _waiting_on_a_lock(engine) -> None:
    """Return once some connection waits for a row lock (PostgreSQL)."""
    query = text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'")
    async with engine.connect() as watcher:
        for _ in range(500):
            if await watcher.scalar(query):
                return
            await asyncio.sleep(0.01)
    raise AssertionError("the second demotion never waited for the first one's lock")


@pytest.mark.postgresql_only(reason="SQLite has no concurrent writers to serialise")
@pytest.mark.fastsuite_db(transaction=True)
async def test_two_superusers_demoting_each_other_at_once_leave_one(db_engine, db_session):
    first = await UserFactory.acreate(admin=True, username="first")
    second = await UserFactory.acreate(admin=True, username="second")
    await db_session.commit()

    async with AsyncSession(db_engine) as one, AsyncSession(db_engine) as two:
        await users.update_user(
            session=one,
            actor=await one.get(User, first.id),
            user_id=second.id,
            data=UserUpdate(is_superuser=False),
        )
        other_way = asyncio.create_task(
            users.update_user(
                session=two,
                actor=await two.get(User, second.id),
                user_id=first.id,
                data=UserUpdate(is_superuser=False),
            )
        )
        await _waiting_on_a_lock(db_engine)
        await one.commit()
        with pytest.raises(Conflict) as refused:
            await other_way
        await two.rollback()

    assert refused.value.message == LAST_SUPERUSER
    superusers = await db_session.scalars(
        select(User.username)
        .where(User.is_superuser.is_(True))
        .execution_options(populate_existing=True)
    )
    assert superusers.all() == ["first"]
