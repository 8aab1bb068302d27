"""The harness's promise, proven on this app: every test starts from an empty database, whatever
the previous test committed, however it committed it.

Tests parametrized over `run` come in pairs that do the same thing: each asserts the database is
empty, then commits. pytest-randomly shuffles them, so whichever runs second proves that the
first one's commit did not survive it, in both orders (and with -n 2, on either worker).
"""

from __future__ import annotations

import pytest
from app.api.deps import get_current_user
from app.cli import CommandError, _create_admin
from app.core.db import get_sessionmaker
from app.models import Context, User
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from tests.conftest import bearer
from tests.factories import DEFAULT_PASSWORD, ContextFactory, UserFactory

RUNS = [1, 2]


async def _counts(session: AsyncSession) -> tuple[int, int]:
    users = await session.scalar(select(func.count()).select_from(User))
    contexts = await session.scalar(select(func.count()).select_from(Context))
    return users, contexts


def _in_transaction(driver_connection) -> bool:
    if hasattr(driver_connection, "is_in_transaction"):  # asyncpg
        return driver_connection.is_in_transaction()
    return driver_connection.in_transaction  # sqlite3, aiosqlite


# --- commits through the API ----------------------------------------------------------------


@pytest.mark.parametrize("run", RUNS)
async def test_a_row_the_app_committed_is_gone_in_the_next_test(client_factory, db_session, run):
    assert await _counts(db_session) == (0, 0)
    owner = await UserFactory.acreate(username="isolation-owner")
    owner_client = client_factory(headers=bearer(owner))

    response = await owner_client.post("/api/contexts", json={"name": f"committed {run}"})

    assert response.status_code == 201
    # Committed as far as the app can tell: a fresh session of the app's own factory sees it.
    async with get_sessionmaker()() as fresh:
        assert await fresh.scalar(select(Context.name)) == f"committed {run}"
    assert await _counts(db_session) == (1, 1)


async def test_the_app_sees_factory_rows_and_the_test_sees_the_apps_writes(
    user_client, user, db_session
):
    made_by_test = await ContextFactory.acreate(owner=user, name="from the factory")

    listed = await user_client.get("/api/contexts")
    renamed = await user_client.patch(
        f"/api/contexts/{made_by_test.id}", json={"name": "renamed by the app"}
    )
    created = await user_client.post("/api/contexts", json={"name": "made by the app"})

    assert [item["name"] for item in listed.json()["items"]] == ["from the factory"]
    assert renamed.status_code == 200
    await db_session.refresh(made_by_test)
    assert made_by_test.name == "renamed by the app"
    made_by_app = await db_session.get(Context, created.json()["id"])
    assert (made_by_app.owner_id, made_by_app.name) == (user.id, "made by the app")


async def test_a_failed_request_rolls_back_only_its_own_work(user_client, user, db_session):
    kept = await ContextFactory.acreate(owner=user, name="kept")

    conflict = await user_client.post(
        "/api/contexts/bulk", json={"items": [{"name": "new"}, {"name": "kept"}]}
    )

    # The app rolled its session back; the test's data, in the same transaction, survives.
    assert conflict.status_code == 409
    assert await db_session.scalar(select(Context.name).where(Context.id == kept.id)) == "kept"
    assert (await user_client.get("/api/contexts")).json()["total"] == 1


# --- the app's own sessions (the CLI's create-admin function) ------------------------------


@pytest.mark.parametrize("run", RUNS)
async def test_code_opening_its_own_session_works_in_the_tests_transaction(
    admin_client, db_session, run
):
    assert await db_session.scalar(select(User).where(User.username == "cli-admin")) is None
    await UserFactory.acreate(username="taken")

    # `backend create-admin` runs this with a session from get_sessionmaker()(): it sees the
    # factory's user...
    with pytest.raises(CommandError, match="'taken' already exists"):
        await _create_admin("taken", "", "long enough password")
    # ...and what it commits is visible to the app's requests and to the test.
    user_id = await _create_admin("cli-admin", f"cli{run}@example.com", "long enough password")

    response = await admin_client.get(f"/api/admin/users/{user_id}")
    assert response.status_code == 200
    assert response.json()["username"] == "cli-admin"
    assert (response.json()["is_staff"], response.json()["is_superuser"]) == (True, True)
    created = await db_session.get(User, user_id)
    assert created.email == f"cli{run}@example.com"
    login = await admin_client.post(
        "/api/auth/login", json={"username": "cli-admin", "password": "long enough password"}
    )
    assert login.status_code == 200


# --- dependency overrides -------------------------------------------------------------------


@pytest.mark.parametrize("run", RUNS)
async def test_a_dependency_override_set_in_a_test_is_undone_after_it(client, app, run):
    # Left over from the other run, the override would log this anonymous client in.
    assert get_current_user not in app.dependency_overrides
    assert (await client.get("/api/contexts")).status_code == 401
    stand_in = await UserFactory.acreate(username=f"stand-in-{run}")

    app.dependency_overrides[get_current_user] = lambda: stand_in  # not undone here

    response = await client.get("/api/contexts")
    assert response.status_code == 200
    assert response.json()["items"] == []


# --- real commits ---------------------------------------------------------------------------


@pytest.mark.fastsuite_db(transaction=True)
@pytest.mark.parametrize("run", RUNS)
async def test_a_transactional_test_really_commits_and_the_next_test_starts_empty(
    client_factory, db_session, db_engine, run
):
    assert await _counts(db_session) == (0, 0)
    owner = await UserFactory.acreate(username=f"committer-{run}")
    await db_session.commit()  # a real COMMIT: the app's sessions share the one connection

    response = await client_factory(headers=bearer(owner)).post(
        "/api/contexts", json={"name": "really committed"}
    )

    assert response.status_code == 201
    async with db_engine.connect() as second:
        raw = await second.get_raw_connection()
        assert not _in_transaction(raw.driver_connection)  # nothing left pending
        names = (await second.scalars(select(Context.name))).all()
    assert names == ["really committed"]


@pytest.mark.parametrize("run", RUNS)
async def test_a_plain_test_after_a_transactional_one_starts_empty(db_session, run):
    assert await _counts(db_session) == (0, 0)
    await UserFactory.acreate(username=f"plain-{run}", password=DEFAULT_PASSWORD)
    await db_session.commit()  # releases the test's SAVEPOINT only
    assert await _counts(db_session) == (1, 0)
