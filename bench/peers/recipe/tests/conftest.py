"""The best-known recipe for FastAPI + async SQLAlchemy tests, as blog posts write it.

- one in-memory aiosqlite engine per session (StaticPool, so every checkout is the same
  connection and database), schema made once with create_all;
- per test: an outer transaction on a connection, and an AsyncSession bound to it with
  join_transaction_mode="create_savepoint", so the app's commits only release savepoints and
  everything is rolled back at the end;
- the app's get_session dependency overridden to yield that session;
- httpx.AsyncClient over ASGITransport;
- cheap password hashing (minimal Argon2 parameters) for the whole run.

pysqlite/aiosqlite do not emit BEGIN themselves, and a SAVEPOINT outside a transaction would
make RELEASE commit for real; SQLAlchemy's documented fix (the two event hooks below) is part of
the recipe, otherwise there is no isolation at all.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from httpx import ASGITransport, AsyncClient
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher
from recipe_app import security
from recipe_app.db import Base, get_session
from recipe_app.main import app
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine
from sqlalchemy.pool import StaticPool


@pytest.fixture(scope="session", autouse=True)
def cheap_password_hashing() -> None:
    security.password_hash = PasswordHash(
        (Argon2Hasher(time_cost=1, memory_cost=8, parallelism=1),)
    )


@pytest.fixture(scope="session")
async def engine() -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(
        "sqlite+aiosqlite:///:memory:",
        connect_args={"check_same_thread": False},
        poolclass=StaticPool,
    )

    @event.listens_for(engine.sync_engine, "connect")
    def _no_pysqlite_transactions(dbapi_connection, connection_record):
        dbapi_connection.isolation_level = None

    @event.listens_for(engine.sync_engine, "begin")
    def _emit_begin(conn):
        conn.exec_driver_sql("BEGIN")

    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    yield engine
    await engine.dispose()


@pytest.fixture
async def db_session(engine: AsyncEngine) -> AsyncIterator[AsyncSession]:
    async with engine.connect() as conn:
        trans = await conn.begin()
        session = AsyncSession(
            bind=conn, join_transaction_mode="create_savepoint", expire_on_commit=False
        )
        try:
            yield session
        finally:
            await session.close()
            await trans.rollback()


@pytest.fixture
async def client(db_session: AsyncSession) -> AsyncIterator[AsyncClient]:
    async def override_get_session() -> AsyncIterator[AsyncSession]:
        yield db_session

    app.dependency_overrides[get_session] = override_get_session
    try:
        async with AsyncClient(transport=ASGITransport(app=app), base_url="http://test") as ac:
            yield ac
    finally:
        app.dependency_overrides.clear()
