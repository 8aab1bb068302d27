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


@pytest.mark.parametrize("driver", ["loop", "aiosqlite"])
@pytest.mark.parametrize("order", ["app-first", "test-first"])
def test_commits_are_rolled_back_after_each_test_in_either_order(items_project, driver, order):
    items_project.makepyfile(test_app_commits=APP_COMMITS, test_test_commits=TEST_COMMITS)
    files = ["test_app_commits.py", "test_test_commits.py"]
    if order == "test-first":
        files.reverse()

    result = items_project.runpytest("-v", f"--fastsuite-sqlite-driver={driver}", *files)

    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines([f"  sqlite_driver: {driver} (option)", f"{files[0]}::* PASSED*"])
