"""One transaction per request: the session dependency commits once when the endpoint
returns, and rolls back everything the request flushed when it fails."""

from __future__ import annotations

import logging

import pytest
from app.api.routes import contexts as contexts_routes
from app.models import Context
from sqlalchemy import func, select

from tests.conftest import bearer
from tests.factories import UserFactory


async def _contexts(session) -> int:
    return await session.scalar(select(func.count()).select_from(Context))


async def test_a_request_that_fails_after_its_service_flushed_writes_nothing(
    user_client, db_session, monkeypatch, caplog
):
    # The service has flushed the INSERT when the response model fails: a 500, and the row
    # goes with the request's rollback.
    def broken_response(_context):
        raise RuntimeError("failed after the write")

    monkeypatch.setattr(contexts_routes.ContextPublic, "model_validate", broken_response)
    with caplog.at_level(logging.CRITICAL, logger="app"):
        response = await user_client.post("/api/contexts", json={"name": "half-done"})

    assert response.status_code == 500
    assert response.json() == {"detail": "Internal server error"}
    assert await _contexts(db_session) == 0


async def test_a_refused_bulk_request_after_a_flush_writes_nothing(user_client, db_session):
    created = await user_client.post(
        "/api/contexts/bulk", json={"items": [{"name": "a"}, {"name": "b"}]}
    )
    first, second = (item["id"] for item in created.json()["items"])

    # The first item updates fine, the second is missing: 404, and the first stays as it was.
    response = await user_client.patch(
        "/api/contexts/bulk",
        json={"items": [{"id": first, "name": "renamed"}, {"id": second + 1000}]},
    )

    assert response.status_code == 404
    names = (await db_session.scalars(select(Context.name).order_by(Context.id))).all()
    assert names == ["a", "b"]


@pytest.mark.fastsuite_db(transaction=True)
async def test_a_successful_request_is_committed_before_its_response(
    client_factory, db_session, db_engine
):
    owner = await UserFactory.acreate(username="committer")
    await db_session.commit()

    response = await client_factory(headers=bearer(owner)).post(
        "/api/contexts", json={"name": "committed"}
    )

    assert response.status_code == 201
    # Another connection, outside every session of the test, sees the row.
    async with db_engine.connect() as other:
        assert (await other.scalars(select(Context.name))).all() == ["committed"]
