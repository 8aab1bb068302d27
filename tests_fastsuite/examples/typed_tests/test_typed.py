"""Tests of the items app with every fixture annotated, as a typed project writes them:
run by pytest, and checked by mypy --strict (tests_fastsuite/test_typed_fixtures.py)."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from items_app import Owner
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from fastsuite import (
    AssertMaxQueries,
    AssertNumQueries,
    CapturedCallbacks,
    CapturedQueries,
    CaptureOnCommitCallbacks,
    ClientFactory,
)


@pytest.fixture
def owner_name() -> str:
    return "typed"


async def test_every_fixture_annotated(
    app: FastAPI,
    client: httpx.AsyncClient,
    client_factory: ClientFactory,
    db_session: AsyncSession,
    db_engine: AsyncEngine,
    assert_num_queries: AssertNumQueries,
    assert_max_queries: AssertMaxQueries,
    capture_on_commit_callbacks: CaptureOnCommitCallbacks,
    owner_name: str,
) -> None:
    db_session.add(Owner(name=owner_name))
    await db_session.flush()

    captured: CapturedQueries
    with assert_num_queries(1) as captured:
        response = await client.get("/owners/count")
    assert response.json() == 1
    assert len(captured.statements) == 1

    other: httpx.AsyncClient = client_factory(headers={"X-Typed": "yes"})
    with assert_max_queries(1):
        assert (await other.get("/items")).json() == []

    tasks: CapturedCallbacks
    async with capture_on_commit_callbacks(execute=False) as tasks:
        assert (await client.post("/items", json={"name": "typed"})).status_code == 201
    assert len(tasks.functions) == 1
    await tasks.run()

    assert app.state.started
    assert db_engine.dialect.name == "sqlite"
