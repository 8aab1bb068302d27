"""Services never commit: they flush, and the caller owns the transaction.

The API's session dependency commits once per request; a script may run several services in
one transaction and roll all of them back. Each test runs a service inside the test's open
transaction and checks that the session committed nothing and is still in that transaction.
"""

from __future__ import annotations

import pytest
from app.models import Context, User
from app.schemas.bulk import ContextBulkUpdateItem
from app.schemas.context import ContextCreate, ContextUpdate
from app.schemas.user import UserCreate, UserUpdate
from app.services import auth, context_bulk, contexts, users
from app.services.errors import Conflict
from sqlalchemy import event, func, select

from tests.factories import DEFAULT_PASSWORD, ContextFactory, UserFactory


@pytest.fixture
def commits(db_session):
    """The commits the session makes while the test runs (none, if services only flush)."""
    made: list[object] = []

    def record(session) -> None:
        made.append(session)

    event.listen(db_session.sync_session, "after_commit", record)
    yield made
    event.remove(db_session.sync_session, "after_commit", record)


async def _count(session, model) -> int:
    return await session.scalar(select(func.count()).select_from(model))


async def _rolled_back_leaves(session, model, expected: int) -> None:
    # The service's writes were only flushed: rolling the outer transaction's SAVEPOINT back
    # removes them.
    assert await _count(session, model) == expected


async def test_create_context_flushes_and_leaves_the_transaction_open(db_session, commits):
    owner = await UserFactory.acreate()
    savepoint = await db_session.begin_nested()

    context = await contexts.create_context(
        session=db_session, owner=owner, data=ContextCreate(name="flushed")
    )

    assert context.id is not None  # flushed: the database gave it an id
    assert commits == []
    assert db_session.in_transaction()
    await savepoint.rollback()
    await _rolled_back_leaves(db_session, Context, 0)


async def test_update_and_delete_context_commit_nothing(db_session, commits):
    context = await ContextFactory.acreate(name="before")
    owner = await db_session.get(User, context.owner_id)

    await contexts.update_context(
        session=db_session, owner=owner, context_id=context.id, data=ContextUpdate(name="after")
    )
    await contexts.delete_context(session=db_session, owner=owner, context_id=context.id)

    assert commits == []
    assert db_session.in_transaction()


async def test_bulk_context_services_commit_nothing(db_session, commits):
    owner = await UserFactory.acreate()
    savepoint = await db_session.begin_nested()

    created = await context_bulk.bulk_create_contexts(
        session=db_session, owner=owner, items=[ContextCreate(name="a"), ContextCreate(name="b")]
    )
    await context_bulk.bulk_update_contexts(
        session=db_session,
        owner=owner,
        items=[ContextBulkUpdateItem(id=created[0].id, name="c")],
    )
    await context_bulk.bulk_delete_contexts(session=db_session, owner=owner, ids=[created[1].id])

    assert commits == []
    assert db_session.in_transaction()
    await savepoint.rollback()
    await _rolled_back_leaves(db_session, Context, 0)


async def test_user_services_commit_nothing(db_session, commits):
    admin = await UserFactory.acreate(admin=True)
    users_before = await _count(db_session, User)
    savepoint = await db_session.begin_nested()

    created = await users.create_user(
        session=db_session, actor=admin, data=UserCreate(username="new", password="p" * 8)
    )
    await users.update_user(
        session=db_session, actor=admin, user_id=created.id, data=UserUpdate(first_name="N")
    )
    other = await users.create_user(
        session=db_session, actor=admin, data=UserCreate(username="other", password="p" * 8)
    )
    await users.bulk_user_action(
        session=db_session, actor=admin, ids=[other.id], action="deactivate"
    )
    await users.delete_user(session=db_session, actor=admin, user_id=created.id)

    assert commits == []
    assert db_session.in_transaction()
    await savepoint.rollback()
    await _rolled_back_leaves(db_session, User, users_before)


async def test_a_successful_login_sets_last_login_without_committing(db_session, commits):
    await UserFactory.acreate(username="logs-in")

    user = await auth.authenticate(
        session=db_session, username="logs-in", password=DEFAULT_PASSWORD
    )

    assert user is not None
    assert user.last_login is not None
    assert commits == []
    assert db_session.in_transaction()


async def test_a_bulk_create_refused_for_a_taken_name_leaves_nothing_in_the_transaction(
    db_session,
):
    owner = await UserFactory.acreate()
    await ContextFactory.acreate(owner=owner, name="taken")
    items = [ContextCreate(name=name) for name in ("first", "taken", "last")]

    with pytest.raises(Conflict) as refused:
        await context_bulk.bulk_create_contexts(session=db_session, owner=owner, items=items)

    assert refused.value.indexes == [1]
    # The caller has not rolled back: the service itself took back the rows it inserted.
    names = await db_session.scalars(select(Context.name).where(Context.owner_id == owner.id))
    assert list(names) == ["taken"]
    assert not [obj for obj in db_session if isinstance(obj, Context) and obj.name != "taken"]
