"""Rollback isolation: whatever a test, its app or the app's background work commits is gone."""

from __future__ import annotations

import pytest

APP_COMMITS = """
from sqlalchemy import func, select
from items_app import AuditEntry, Item


async def test_app_commit_is_seen_by_the_test(client, db_session):
    response = await client.post("/items", json={"name": "from-app"})
    assert response.status_code == 201
    names = (await db_session.scalars(select(Item.name))).all()
    assert names == ["from-app"]
    # The background task ran through the app's own sessionmaker, in the test's transaction.
    audit = (await db_session.scalars(select(AuditEntry.message))).all()
    assert audit == ["created from-app"]
"""

TEST_COMMITS = """
from sqlalchemy import func, select
from items_app import AuditEntry, Item


async def test_test_commit_is_seen_by_the_app(client, db_session):
    db_session.add(Item(name="from-test"))
    await db_session.commit()
    response = await client.get("/items")
    assert response.json() == ["from-test"]
    assert await db_session.scalar(select(func.count()).select_from(AuditEntry)) == 0
"""

SESSIONMAKER_COMMITS = """
from sqlalchemy import func, select
from items_app import Owner, SessionLocal


async def test_app_sessionmaker_commit_is_seen_by_the_test(db_session):
    db_session.add(Owner(name="from-test"))
    await db_session.flush()
    async with SessionLocal() as session:  # as a CLI command or a worker of the app would
        assert await session.scalar(select(Owner.name)) == "from-test"
        session.add(Owner(name="from-sessionmaker"))
        await session.commit()
    names = (await db_session.scalars(select(Owner.name).order_by(Owner.id))).all()
    assert names == ["from-test", "from-sessionmaker"]
"""


@pytest.mark.parametrize("driver", ["loop", "aiosqlite"])
@pytest.mark.parametrize("order", ["forward", "reverse"])
def test_commits_are_rolled_back_after_each_test_in_either_order(items_project, driver, order):
    # Each test asserts that the database holds exactly what it wrote, so whichever runs
    # second fails if what the first committed (itself, through the app, or through the app's
    # own sessionmaker) survived it.
    items_project.makepyfile(
        test_app_commits=APP_COMMITS,
        test_test_commits=TEST_COMMITS,
        test_sessionmaker_commits=SESSIONMAKER_COMMITS,
    )
    files = ["test_app_commits.py", "test_test_commits.py", "test_sessionmaker_commits.py"]
    if order == "reverse":
        files.reverse()

    result = items_project.runpytest("-v", f"--fastsuite-sqlite-driver={driver}", *files)

    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines([f"  sqlite_driver: {driver} (option)", f"{files[0]}::* PASSED*"])


SQLITE_STRICTNESS = """
import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from items_app import Item


async def test_orphan_insert_fails(db_session):
    db_session.add(Item(name="orphan", owner_id=999))
    with pytest.raises(IntegrityError, match="FOREIGN KEY constraint failed"):
        await db_session.flush()


async def test_like_is_case_sensitive(db_session):
    db_session.add(Item(name="Apple"))
    await db_session.flush()
    assert (await db_session.scalars(select(Item.name).where(Item.name.like("apple%")))).all() == []
    assert (await db_session.scalars(select(Item.name).where(Item.name.like("App%")))).all() == [
        "Apple"
    ]
"""


@pytest.mark.parametrize("driver", ["loop", "aiosqlite"])
def test_sqlite_enforces_foreign_keys_and_case_sensitive_like(items_project, driver):
    items_project.makepyfile(test_sqlite_strictness=SQLITE_STRICTNESS)

    result = items_project.runpytest(f"--fastsuite-sqlite-driver={driver}")

    result.assert_outcomes(passed=2)


READ_ONLY_REQUEST = """
from sqlalchemy import select
from items_app import AuditEntry, Item


async def audit(session):
    return list((await session.scalars(select(AuditEntry.message).order_by(AuditEntry.id))).all())


async def test_task_of_a_read_only_request_keeps_its_writes(client, db_session):
    item = Item(name="existing")
    db_session.add(item)
    await db_session.commit()
    assert (await client.post(f"/items/{item.id}/touch")).status_code == 202
    assert (await client.post(f"/items/{item.id}/touch")).status_code == 202
    assert await audit(db_session) == ["touched existing", "touched existing"]


async def test_and_they_are_rolled_back_after_the_test(db_session):
    assert await audit(db_session) == []
"""


@pytest.mark.parametrize("driver", ["loop", "aiosqlite"])
def test_background_task_of_a_read_only_request_keeps_its_writes(items_project, driver):
    # The request's session has only read, and is still open (its SAVEPOINT too) when the task
    # commits: closing it must not roll the task's rows back, as it would not in production.
    items_project.makepyfile(test_read_only_request=READ_ONLY_REQUEST)

    result = items_project.runpytest(f"--fastsuite-sqlite-driver={driver}")

    result.assert_outcomes(passed=2)
