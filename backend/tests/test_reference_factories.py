"""The reference factories: what they make, flushed through the test's transaction."""

from __future__ import annotations

from app.models import Context
from sqlalchemy import select

from tests.factories import ContextFactory, UserFactory

# What the model gives a context that declares nothing but its owner and name.
CONTEXT_DEFAULTS = ("", {}, True)


def _defaults(context: Context) -> tuple[str, dict, bool]:
    return context.description, context.data, context.is_active


async def test_contexts_come_back_with_the_models_defaults(db_session):
    owner = await UserFactory.acreate()

    one = await ContextFactory.acreate(owner=owner)
    batch = await ContextFactory.acreate_batch(2, owner=owner)

    for context in (one, *batch):
        assert context.owner_id == owner.id
        assert _defaults(context) == CONTEXT_DEFAULTS  # on the objects, without a refresh
        assert context.created_at is not None
        assert context.updated_at is not None
    stored = (
        await db_session.execute(select(Context.description, Context.data, Context.is_active))
    ).all()
    assert [tuple(row) for row in stored] == [CONTEXT_DEFAULTS] * 3


async def test_a_contexts_declared_fields_may_still_be_given(db_session):
    context = await ContextFactory.acreate(description="d", data={"k": 1}, is_active=False)

    assert _defaults(context) == ("d", {"k": 1}, False)
    assert context.owner_id is not None  # a new owner, from the SubFactory


def test_build_leaves_the_defaults_to_the_database():
    context = ContextFactory.build(owner_id=1)

    assert _defaults(context) == (None, None, None)
