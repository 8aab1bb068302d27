"""GET /api/health: answers 200 only when the database really answers."""

from __future__ import annotations

from app.core.db import get_session
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine


async def test_health_answers_ok_for_the_service_and_its_database(client):
    response = await client.get("/api/health")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


async def test_health_needs_no_authentication(client):
    response = await client.get("/api/health", headers={"Authorization": "Bearer not-a-token"})

    assert response.status_code == 200


async def test_health_sends_one_query_to_the_database(client, assert_num_queries):
    with assert_num_queries(1) as captured:
        response = await client.get("/api/health")

    assert response.status_code == 200
    assert captured.statements == ["SELECT 1"]


async def test_health_answers_503_when_the_database_does_not_answer(client, app, tmp_path):
    # A real engine on a database file that cannot be opened: its directory does not exist.
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path}/missing/x.db")
    unreachable = async_sessionmaker(engine)

    async def unreachable_session():
        async with unreachable() as session:
            yield session

    app.dependency_overrides[get_session] = unreachable_session
    try:
        response = await client.get("/api/health")
    finally:
        await engine.dispose()

    assert response.status_code == 503
    assert response.json() == {
        "detail": "Database unavailable",
        "status": "error",
        "database": "error",
    }
