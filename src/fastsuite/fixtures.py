"""The harness's fixtures. Hooks live in plugin.py; the mechanisms in their own modules."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import httpx
import pytest
import pytest_asyncio
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from fastsuite import factories, queries
from fastsuite.client import (
    OVERRIDE_LEAK,
    build_app,
    changed_overrides,
    overrides_restored,
    session_override,
)
from fastsuite.config import Settings, import_from_string, settings_key
from fastsuite.isolation import (
    OuterTransaction,
    keep_committed_work_of_nested_sessions,
    outer_transaction,
    redirect_sessionmaker,
)
from fastsuite.provision import create_test_engine
from fastsuite.queries import QueryLog
from fastsuite.schema import build_schema, is_metadata_source, metadata_of

__all__ = [
    "app",
    "assert_max_queries",
    "assert_num_queries",
    "client",
    "db_engine",
    "db_session",
]


def _settings(request: pytest.FixtureRequest) -> Settings:
    return request.config.stash[settings_key]


def _is_sessionmaker(target: Any) -> bool:
    return isinstance(target, async_sessionmaker) or callable(target)


def _app_sessionmaker(settings: Settings) -> async_sessionmaker[Any] | None:
    if settings["sessionmaker"] is None:
        return None
    target = import_from_string(
        settings,
        "sessionmaker",
        "an async_sessionmaker or a function returning one",
        _is_sessionmaker,
    )
    maker = target if isinstance(target, async_sessionmaker) else target()
    if not isinstance(maker, async_sessionmaker):
        raise pytest.UsageError(
            f"fastsuite: {settings.describe('sessionmaker')} returned "
            f"{type(maker).__name__}, not an async_sessionmaker."
        )
    return maker


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def db_engine(request: pytest.FixtureRequest) -> AsyncIterator[AsyncEngine]:
    """Session scope. The AsyncEngine of this process's test database, schema built.

    Built once per test process (per xdist worker): in-memory SQLite by default, on one
    connection shared by every session of the process. Costs the schema build, once.
    """
    settings = _settings(request)
    metadata_target = import_from_string(
        settings, "metadata", "a SQLAlchemy MetaData or declarative base", is_metadata_source
    )
    engine = create_test_engine(
        settings["db_url"] or "", sqlite_driver=settings["sqlite_driver"] or "loop"
    )
    keep_committed_work_of_nested_sessions(engine)
    log = QueryLog(engine.sync_engine)
    queries._set_active_log(log)
    request.config.stash[_query_log_key] = log
    try:
        await build_schema(engine, metadata_of(metadata_target))
        yield engine
    finally:
        queries._set_active_log(None)
        await engine.dispose()


_query_log_key = pytest.StashKey[QueryLog]()


@pytest.fixture(scope="session")
def _fastsuite_app(request: pytest.FixtureRequest) -> FastAPI:
    settings = _settings(request)
    target = import_from_string(
        settings,
        "app",
        "a FastAPI app or a factory returning one",
        lambda obj: isinstance(obj, FastAPI) or callable(obj),
    )
    return build_app(target, settings.describe("app"))


@pytest.fixture(scope="session")
def _fastsuite_app_sessionmaker(request: pytest.FixtureRequest) -> async_sessionmaker[Any] | None:
    return _app_sessionmaker(_settings(request))


@pytest.fixture(scope="session")
def _fastsuite_session_dependency(request: pytest.FixtureRequest) -> Callable[..., Any]:
    settings = _settings(request)
    dependency: Callable[..., Any] = import_from_string(
        settings, "session_dependency", "the app's session dependency (a callable)", callable
    )
    return dependency


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def _fastsuite_lifespan(
    _fastsuite_app: FastAPI,
    db_engine: AsyncEngine,
    _fastsuite_app_sessionmaker: async_sessionmaker[Any] | None,
) -> AsyncIterator[httpx.ASGITransport]:
    """Run the app's lifespan once per process; the transport serves the app with its state."""
    restore = None
    if _fastsuite_app_sessionmaker is not None:
        # What the lifespan does with the database goes to the test database.
        restore = redirect_sessionmaker(_fastsuite_app_sessionmaker, db_engine)
    try:
        async with LifespanManager(_fastsuite_app) as manager:
            yield httpx.ASGITransport(app=manager.app)
    finally:
        if restore is not None:
            restore()


@pytest_asyncio.fixture(loop_scope="session")
async def _fastsuite_transaction(
    request: pytest.FixtureRequest,
    db_engine: AsyncEngine,
    _fastsuite_app_sessionmaker: async_sessionmaker[Any] | None,
) -> AsyncIterator[OuterTransaction]:
    log = request.config.stash[_query_log_key]
    log.start_test()
    async with outer_transaction(db_engine) as transaction:
        if _fastsuite_app_sessionmaker is None:
            yield transaction
            return
        restore = redirect_sessionmaker(_fastsuite_app_sessionmaker, transaction.connection)
        try:
            yield transaction
        finally:
            restore()


@pytest_asyncio.fixture(loop_scope="session")
async def db_session(
    _fastsuite_transaction: OuterTransaction,
) -> AsyncIterator[AsyncSession]:
    """Function scope. An AsyncSession inside this test's transaction.

    The app's requests in the same test use the same transaction, so each sees the other's
    writes; `commit()` releases a SAVEPOINT, and everything is rolled back after the test.
    Factories built on fastsuite.AsyncFactory persist through it. Costs one connection
    checkout and one BEGIN/ROLLBACK per test.
    """
    session = _fastsuite_transaction.sessionmaker()()
    factories._set_current_session(session)
    try:
        yield session
    finally:
        factories._set_current_session(None)
        await session.close()


@pytest.fixture
def app(_fastsuite_app: FastAPI) -> Iterator[FastAPI]:
    """Function scope. The FastAPI app under test, built once per process.

    Fails the test if it leaves `app.dependency_overrides` changed (and restores them).
    """
    snapshot = dict(_fastsuite_app.dependency_overrides)
    yield _fastsuite_app
    leaked = changed_overrides(_fastsuite_app, snapshot)
    if leaked:
        _fastsuite_app.dependency_overrides.clear()
        _fastsuite_app.dependency_overrides.update(snapshot)
        pytest.fail(OVERRIDE_LEAK.format(names=", ".join(leaked)), pytrace=False)


@pytest_asyncio.fixture(loop_scope="session")
async def client(
    app: FastAPI,
    db_session: AsyncSession,
    _fastsuite_transaction: OuterTransaction,
    _fastsuite_lifespan: httpx.ASGITransport,
    _fastsuite_app_sessionmaker: async_sessionmaker[Any] | None,
    _fastsuite_session_dependency: Callable[..., Any],
) -> AsyncIterator[httpx.AsyncClient]:
    """Function scope. An httpx.AsyncClient bound to the app, base URL http://test.

    The app's lifespan has run (once per process); its session dependency, and its own
    session factory when fastsuite_sessionmaker is set, serve this test's transaction.
    Dependency overrides made during the test are undone after it. Costs about as much as
    db_session: the app and its lifespan are shared by the whole process.
    """
    with overrides_restored(app):
        app.dependency_overrides[_fastsuite_session_dependency] = session_override(
            _fastsuite_session_dependency, _fastsuite_transaction, _fastsuite_app_sessionmaker
        )
        async with httpx.AsyncClient(
            transport=_fastsuite_lifespan, base_url="http://test"
        ) as http_client:
            yield http_client


@pytest.fixture
def assert_num_queries(
    _fastsuite_transaction: OuterTransaction,
) -> Callable[..., Any]:
    """Function scope. `with assert_num_queries(n):` fails unless the block runs n statements.

    The failure lists the statements with their parameters. BEGIN/SAVEPOINT/RELEASE/ROLLBACK
    are the isolation's and are not counted. Costs nothing when unused.
    """
    return queries.assert_num_queries


@pytest.fixture
def assert_max_queries(
    _fastsuite_transaction: OuterTransaction,
) -> Callable[..., Any]:
    """Function scope. `with assert_max_queries(n):` fails if the block runs more than n."""
    return queries.assert_max_queries
