"""Seed data shared by a module (module_db_session): every test sees it, none keeps its writes.

A module of its own: while the seed's transaction is open, every test of the module runs inside
it, so the "the database is empty" proofs of test_isolation.py could not live here.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from app.models import Context, User
from sqlalchemy import func, select

from tests.conftest import bearer
from tests.factories import ContextFactory, UserFactory

SEED_NAMES = ["seed a", "seed b", "seed c"]
RUNS = [1, 2]


@dataclass
class Seed:
    owner: User
    context_ids: list[int]


@pytest.fixture(scope="module")
async def seed(module_db_session) -> Seed:
    owner = await UserFactory.acreate(username="seed-owner")
    contexts = [await ContextFactory.acreate(owner=owner, name=name) for name in SEED_NAMES]
    return Seed(owner=owner, context_ids=[context.id for context in contexts])


@pytest.fixture
def seed_client(client_factory, seed):
    return client_factory(headers=bearer(seed.owner))


async def _names(session) -> list[str]:
    return list(await session.scalars(select(Context.name).order_by(Context.id)))


@pytest.mark.parametrize("run", RUNS)
async def test_every_test_sees_the_seed_and_none_keeps_its_writes(
    seed, seed_client, db_session, run
):
    # Whichever run comes second would see the other's writes if they were kept.
    assert await _names(db_session) == SEED_NAMES
    assert (await seed_client.get("/api/contexts")).json()["total"] == 3

    created = await seed_client.post("/api/contexts", json={"name": f"scratch {run}"})
    renamed = await seed_client.patch(
        f"/api/contexts/{seed.context_ids[0]}", json={"name": f"renamed {run}"}
    )
    deleted = await seed_client.delete(f"/api/contexts/{seed.context_ids[1]}")

    assert (created.status_code, renamed.status_code, deleted.status_code) == (201, 200, 204)
    assert await _names(db_session) == [f"renamed {run}", "seed c", f"scratch {run}"]


async def test_the_seed_is_written_once_for_the_module(seed, db_session):
    owners = await db_session.scalar(
        select(func.count()).select_from(User).where(User.username == "seed-owner")
    )
    assert owners == 1
    assert [
        row.id for row in await db_session.scalars(select(Context).order_by(Context.id))
    ] == seed.context_ids


async def test_a_test_may_delete_the_seed_owner_and_the_next_test_still_has_it(seed, db_session):
    owner = await db_session.get(User, seed.owner.id)
    assert owner is not None
    await db_session.delete(owner)
    await db_session.flush()

    # The cascade removed the contexts too, in this test only.
    assert await _names(db_session) == []
