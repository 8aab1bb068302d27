"""After-commit work: background tasks captured and run on demand; after_commit listeners fire."""

from __future__ import annotations

CAPTURE = """
from sqlalchemy import event, select
import items_app
from items_app import AuditEntry, Owner, record_audit


async def audit(session):
    return list((await session.scalars(select(AuditEntry.message).order_by(AuditEntry.id))).all())


async def test_captured_tasks_wait_for_run(client, db_session, capture_on_commit_callbacks):
    async with capture_on_commit_callbacks() as tasks:
        response = await client.post("/items", json={"name": "deferred"})
    assert response.status_code == 201
    assert tasks.functions == [record_audit]
    assert await audit(db_session) == []
    await tasks.run()
    assert await audit(db_session) == ["created deferred"]
    assert len(tasks) == 0


async def test_execute_true_runs_them_when_the_block_exits(
    client, db_session, capture_on_commit_callbacks
):
    async with capture_on_commit_callbacks(execute=True) as tasks:
        await client.post("/items", json={"name": "at-exit"})
        await client.post("/items", json={"name": "at-exit-too"})
        assert len(tasks) == 2
        assert await audit(db_session) == []
    assert await audit(db_session) == ["created at-exit", "created at-exit-too"]


async def test_without_capture_tasks_run_before_the_response_returns(client, db_session):
    await client.post("/items", json={"name": "immediate"})
    assert await audit(db_session) == ["created immediate"]


async def test_tasks_run_normally_after_the_block(
    client, db_session, capture_on_commit_callbacks
):
    async with capture_on_commit_callbacks() as tasks:
        pass
    await client.post("/items", json={"name": "after-block"})
    assert tasks == []
    assert await audit(db_session) == ["created after-block"]


async def test_after_commit_listener_fires_on_the_app_session_commit(
    client, capture_on_commit_callbacks
):
    items_app.COMMITTED.clear()
    async with capture_on_commit_callbacks() as tasks:
        await client.post("/items", json={"name": "committed"})
    assert items_app.COMMITTED == ["commit"]  # the request's session
    await tasks.run()
    assert items_app.COMMITTED == ["commit", "commit"]  # and the task's own session


async def test_after_commit_listener_fires_on_the_test_session_commit(db_session):
    fired = []
    event.listen(db_session.sync_session, "after_commit", fired.append)
    db_session.add(Owner(name="listened"))
    await db_session.flush()
    assert fired == []
    await db_session.commit()
    assert fired == [db_session.sync_session]
"""


def test_background_tasks_are_captured_and_after_commit_listeners_fire(items_project):
    items_project.makepyfile(test_capture=CAPTURE)

    result = items_project.runpytest()

    result.assert_outcomes(passed=6)
