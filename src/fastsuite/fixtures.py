"""The harness's fixtures. Hooks live in _hooks.py; the mechanisms in their own modules.

PYTEST_DONT_REWRITE: fastsuite-warm preloads this module (see fastsuite._warm.learning).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, NoReturn, TypeVar

import httpx
import pytest
import pytest_asyncio
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from fastsuite import (
    _background,
    _blocker,
    _direct_calls,
    _factory_state,
    _provision,
    _queries,
    _savepoints,
    _setup_request,
)
from fastsuite._client import (
    OVERRIDE_LEAK,
    AppFactoryError,
    TakingTurns,
    build_app,
    changed_overrides,
    overrides_restored,
    session_override,
)
from fastsuite._client_options import ClientOptions, client_options
from fastsuite._config import Settings, settings_key
from fastsuite._database import LEAKED_ROWS, TestDatabase, describe_leak
from fastsuite._freshness import FreshObjects
from fastsuite._http_client import ClientPrototype, TestClient
from fastsuite._isolation import (
    IsolationScope,
    close_scope,
    committing_scope,
    isolated_scope,
    open_scope,
    redirect_sessionmaker,
    release_kept_connection,
)
from fastsuite._markers import db_marker_options
from fastsuite._protocols import (
    AssertMaxQueries,
    AssertNumQueries,
    CaptureOnCommitCallbacks,
    ClientFactory,
)
from fastsuite._queries import QUERY_LOG_KEY, QueryLog
from fastsuite._session_dependency import (
    commits_after_the_route,
    overridden_elsewhere,
    unused_dependency_problem,
)
from fastsuite._sessions import AppSessions, learn_app_sessions
from fastsuite._targets import Targets, targets_key
from fastsuite._trusted_hosts import untrusted_host_problem
from fastsuite._unconfigured import NOT_CONFIGURED

_T = TypeVar("_T")

__all__ = [
    "app",
    "assert_max_queries",
    "assert_num_queries",
    "capture_on_commit_callbacks",
    "class_db_session",
    "client",
    "client_factory",
    "db_engine",
    "db_session",
    "module_db_session",
]

APP_REPLACED = (
    "fastsuite: this test's `app` fixture gives {app}, not the app of {where}, which `client` "
    "serves. Set fastsuite_app to the app to test (a factory works too), or make the "
    "project's `app` fixture return the `app` it receives."
)
COMMIT_INSIDE_SEED = (
    "fastsuite: {test} is marked fastsuite_db(transaction=True), but seed data shared through "
    "{fixture} is open around it, and real commits cannot happen inside that transaction. "
    "Move the test out of that module or class, or drop the marker."
)


def _settings(request: pytest.FixtureRequest) -> Settings:
    return request.config.stash[settings_key]


def _configuration_error(request: pytest.FixtureRequest, message: str) -> NoReturn:
    """Stop the run in one line with pytest's usage-error code, as pytest_configure would have.

    An xdist worker cannot stop the run (pytest.exit there crashes it): the tests that need
    what failed fail at setup with the same line instead.
    """
    if hasattr(request.config, "workerinput"):
        pytest.fail(message, pytrace=False)
    pytest.exit(message, returncode=pytest.ExitCode.USAGE_ERROR)


@pytest.fixture(scope="session")
def _fastsuite_targets(request: pytest.FixtureRequest) -> Targets:
    targets = request.config.stash.get(targets_key, None)
    if targets is None:  # not configured (an xdist worker; a serial run stops at collection)
        what = "fastsuite's fixtures"
        _configuration_error(request, NOT_CONFIGURED.format(test="this test", what=what))
    return targets


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def _fastsuite_engine(
    request: pytest.FixtureRequest, _fastsuite_targets: Targets
) -> AsyncIterator[AsyncEngine]:
    """The test database's engine, and the run's query log listening to it."""
    database = await _provision.open_process_database(request.config)
    engine = database.engine
    _savepoints.keep_committed_work_of_nested_sessions(engine)
    log = QueryLog(engine.sync_engine)
    # A pytest run inside this one (pytester's in-process runs, as in tests_fastsuite) has its
    # own engine and log: it must hand the outer run's log back, not leave none behind.
    enclosing_log = _queries.active_log()
    _queries.set_active_log(log)
    request.config.stash[QUERY_LOG_KEY] = log
    try:
        yield engine
    finally:
        _queries.set_active_log(enclosing_log)
        await release_kept_connection(engine)
        await database.close()


@pytest.fixture(scope="session")
def db_engine(_fastsuite_engine: AsyncEngine) -> AsyncEngine:
    """Session scope. The AsyncEngine of this process's test database, schema built.

    Built once per test process (per xdist worker): in-memory SQLite by default, on one
    connection shared by every session of the process; on PostgreSQL, a database of the
    process's own, copied from the run's template. Schema from the models (create_all) or
    from the migrations (fastsuite_schema). Costs the schema build (or the copy), once.
    May be wrapped or replaced: fastsuite's own fixtures do not use it.
    """
    return _fastsuite_engine


# The open seed scopes (module, then class), innermost last, each with the fixture that opened
# it (for messages): a test's transaction nests in the innermost. One test runs at a time in a
# process, so a plain list is the whole bookkeeping.
_seed_scopes: list[tuple[str, IsolationScope]] = []


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def _fastsuite_database(
    _fastsuite_engine: AsyncEngine, _fastsuite_targets: Targets
) -> AsyncIterator[TestDatabase]:
    database = await TestDatabase.prepare(_fastsuite_engine, _fastsuite_targets.metadata)
    try:
        yield database
    finally:
        database.close()


# pytest visits every fixture of a test's closure for every test, cached or not (a session one
# costs about 70,000 instructions per test, a function one set up and torn down about 190,000:
# callgrind counts, pytest 9), and builds a `request` fixture each time one of them
# names it (20 µs). So the closure of a test taking `client` and `db_session` holds five of
# the harness's fixtures: two session ones (`_fastsuite_test`, `_fastsuite_live`, which fetch
# the others with getfixturevalue() once) and the three public ones, which open the test's
# transaction themselves (_test_share); `app` fetches `_fastsuite_app` once, itself. None names
# `request` (they take it from _setup_request). The session ones stay in the closure, set up
# before any module, class or function fixture of the first test that needs them (the lifespan
# must not run inside a seed's transaction).


@pytest.fixture(scope="session")
def _fastsuite_app() -> FastAPI:
    request = _setup_request.current()
    targets: Targets = request.getfixturevalue("_fastsuite_targets")
    settings = _settings(request)
    try:
        app = build_app(targets.app, settings.describe("app"))
    except AppFactoryError as error:
        _configuration_error(request, str(error))
    # Only a configured dependency matters: with fastsuite_sessionmaker set, the app's own
    # sessions are sent to the test's transaction and the dependency is not the harness's.
    if targets.session_dependency is not None and settings["sessionmaker"] is None:
        problem = unused_dependency_problem(
            app, targets.session_dependency, settings.describe("session_dependency")
        )
        if problem is not None:
            _configuration_error(request, problem)
    problem = untrusted_host_problem(app, settings)
    if problem is not None:
        _configuration_error(request, problem)
    return app


@pytest.fixture(scope="session")
def _fastsuite_app_sessionmaker(_fastsuite_targets: Targets) -> async_sessionmaker[Any] | None:
    return _fastsuite_targets.sessionmaker


@pytest.fixture(scope="session")
def _fastsuite_session_dependency(_fastsuite_targets: Targets) -> Callable[..., Any] | None:
    return _fastsuite_targets.session_dependency


@pytest.fixture(scope="session")
def _fastsuite_app_sessions(
    request: pytest.FixtureRequest, _fastsuite_targets: Targets
) -> AppSessions:
    if _fastsuite_targets.sessions is not None:
        return _fastsuite_targets.sessions
    # Only the app's routes can tell, and a factory builds the app: read them once it is built.
    try:
        learned = learn_app_sessions(
            _settings(request),
            _fastsuite_targets.sessionmaker,
            _fastsuite_targets.session_dependency,
            request.getfixturevalue("_fastsuite_app"),
        )
    except pytest.UsageError as error:
        _configuration_error(request, str(error))
    assert learned is not None  # the app is built: its routes tell
    return learned


def _open_session(
    scope: IsolationScope,
    app_sessionmaker: async_sessionmaker[Any] | None,
    app_sessions: AppSessions,
) -> tuple[AsyncSession, Callable[[], Awaitable[None]]]:
    """A session of the app's class in `scope` for the test and its factories, the app's
    factory sent there too; and what undoes it all."""
    restore = redirect_sessionmaker(app_sessionmaker, scope) if app_sessionmaker else None
    session = scope.sessionmaker(app_sessions)()
    _factory_state.push_session(session, commit=scope.commits_for_real)

    async def close() -> None:
        _factory_state.pop_session()
        await session.close()
        if restore is not None:
            restore()

    return session, close


@dataclass(frozen=True)
class _LiveApp:
    transport: httpx.ASGITransport
    turns: TakingTurns


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def _fastsuite_lifespan(
    _fastsuite_app: FastAPI,
    _fastsuite_engine: AsyncEngine,
    _fastsuite_database: TestDatabase,
    _fastsuite_app_sessionmaker: async_sessionmaker[Any] | None,
) -> AsyncIterator[_LiveApp]:
    """Run the app's lifespan once per process; serve the app, with its state, to clients."""

    @contextmanager
    def lifespan_commits() -> Iterator[None]:
        # While the lifespan starts and stops (only then), what it does through the app's
        # session factory is committed to the test database: reference data made at startup.
        # Between, the factory serves only the scopes tests ask for.
        if _fastsuite_app_sessionmaker is None:
            yield
            return
        restore = redirect_sessionmaker(
            _fastsuite_app_sessionmaker, committing_scope(_fastsuite_engine)
        )
        try:
            yield
        finally:
            restore()

    manager = LifespanManager(_fastsuite_app)
    with lifespan_commits():
        await manager.__aenter__()
    try:
        if not _seed_scopes:
            # Rows the lifespan committed (reference data made at startup) are the app's,
            # not the first client test's: the leak guard and the restore keep them.
            # (Inside a seed scope the connection is in its transaction; nothing to take.)
            await _fastsuite_database.record_at_rest()
        turns = TakingTurns(manager.app)
        yield _LiveApp(httpx.ASGITransport(app=turns), turns)
    finally:
        with lifespan_commits():
            await manager.__aexit__(None, None, None)


async def _seed_session(
    fixture: str,
    engine: AsyncEngine,
    app_sessionmaker: async_sessionmaker[Any] | None,
    app_sessions: AppSessions,
) -> AsyncIterator[AsyncSession]:
    enclosing = _seed_scopes[-1][1] if _seed_scopes else None
    async with isolated_scope(engine, enclosing) as scope:
        _seed_scopes.append((fixture, scope))
        session, close = _open_session(scope, app_sessionmaker, app_sessions)
        try:
            yield session
        finally:
            await close()
            _seed_scopes.pop()


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def module_db_session(
    _fastsuite_engine: AsyncEngine,
    _fastsuite_database: TestDatabase,
    _fastsuite_app_sessionmaker: async_sessionmaker[Any] | None,
    _fastsuite_app_sessions: AppSessions,
) -> AsyncIterator[AsyncSession]:
    """Module scope. A session (the app's class and options) for seed data shared by the module.

    Write module-scoped fixtures on it (factories persist through it while they run); each
    test then runs in a SAVEPOINT inside the module's transaction, sees the seed data, and is
    rolled back to it; the module's transaction is rolled back after its last test. Costs one
    transaction per module instead of re-creating the data for each test.
    """
    async for session in _seed_session(
        "module_db_session", _fastsuite_engine, _fastsuite_app_sessionmaker, _fastsuite_app_sessions
    ):
        yield session


@pytest_asyncio.fixture(scope="class", loop_scope="session")
async def class_db_session(
    _fastsuite_engine: AsyncEngine,
    _fastsuite_database: TestDatabase,
    _fastsuite_app_sessionmaker: async_sessionmaker[Any] | None,
    _fastsuite_app_sessions: AppSessions,
) -> AsyncIterator[AsyncSession]:
    """Class scope. Like module_db_session, for the tests of one class (nested in the module's)."""
    async for session in _seed_session(
        "class_db_session", _fastsuite_engine, _fastsuite_app_sessionmaker, _fastsuite_app_sessions
    ):
        yield session


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def _fastsuite_event_loop() -> asyncio.AbstractEventLoop:
    """The loop the harness's session fixtures, and by default the tests, run in."""
    return asyncio.get_running_loop()


@dataclass
class _Process:
    """What the tests' transactions and sessions need of this process, fetched once; and the
    running test's share of the database (see _test_share)."""

    engine: AsyncEngine
    database: TestDatabase
    loop: asyncio.AbstractEventLoop
    app_sessionmaker: async_sessionmaker[Any] | None
    app_sessions: AppSessions
    current: _Test | None = None

    def run(self, coroutine: Coroutine[Any, Any, _T]) -> _T:
        """Run one of the harness's coroutines on the session's loop, from a sync fixture."""
        if _direct_calls.never_waits(self.engine.sync_engine.dialect):
            return _direct_calls.run_in_place(self.loop, coroutine)
        return self.loop.run_until_complete(coroutine)


# Session scope, although it stands for the test: each test's share of the database (its
# transaction, its session) is opened by the first of the test's fixtures that needs it
# (db_session, client, ...) and closed by that fixture's teardown (_test_share). A function-
# scoped fixture of its own would cost pytest as much per test as the BEGIN, the session and
# the ROLLBACK together. Its name in a test's closure tells the hooks (_hooks.py) that the test
# runs in the harness's transaction.
@pytest.fixture(scope="session")
def _fastsuite_test() -> _Process:
    request = _setup_request.current()
    return _Process(
        request.getfixturevalue("_fastsuite_engine"),
        request.getfixturevalue("_fastsuite_database"),
        request.getfixturevalue("_fastsuite_event_loop"),
        request.getfixturevalue("_fastsuite_app_sessionmaker"),
        request.getfixturevalue("_fastsuite_app_sessions"),
    )


@dataclass(frozen=True)
class _ClientDefaults:
    """The client settings, parsed once per process rather than by every client."""

    base_url: httpx.URL
    headers: httpx.Headers

    @classmethod
    def of(cls, options: ClientOptions) -> _ClientDefaults:
        return cls(httpx.URL(options.base_url), httpx.Headers(list(options.headers)))


@dataclass(frozen=True)
class _Live:
    """The app, its lifespan run, as the tests' clients reach it."""

    app: FastAPI
    configured_as: str  # where fastsuite_app came from, for messages
    lifespan: _LiveApp
    session_dependency: Callable[..., Any] | None
    # Whether fastsuite's session, served in the dependency's place, is committed after the
    # route (read from the dependency's code once, not per test).
    commits_after_the_route: bool
    client_defaults: _ClientDefaults
    # Makes the clients given no options (`client`'s): see ClientPrototype.
    client_prototype: ClientPrototype | None


@pytest.fixture(scope="session")
def _fastsuite_live() -> _Live:
    request = _setup_request.current()
    lifespan: _LiveApp = request.getfixturevalue("_fastsuite_lifespan")
    dependency = request.getfixturevalue("_fastsuite_session_dependency")
    defaults = _ClientDefaults.of(client_options(_settings(request)))
    app = request.getfixturevalue("_fastsuite_app")
    if dependency is not None:
        _blocker.explain_refusals(lambda: overridden_elsewhere(app, dependency))
    return _Live(
        app,
        _settings(request).describe("app"),
        lifespan,
        dependency,
        dependency is not None and commits_after_the_route(dependency),
        defaults,
        TestClient.prototype(
            transport=lifespan.transport, base_url=defaults.base_url, headers=defaults.headers
        ),
    )


@dataclass
class _Test:
    """One test's share of the database: its transaction, its session; and the app served from
    them while a client of the test's needs it."""

    item: pytest.Item
    scope: IsolationScope
    session: AsyncSession
    process: _Process
    served: _ServedApp | None = None


def _test_in(item: pytest.Item, scope: IsolationScope, process: _Process) -> _Test:
    """The test's session, of the app's class and options, in `scope`; the app's session factory
    and the factories sent there too, until the scope closes its resources."""
    session, close = _open_session(scope, process.app_sessionmaker, process.app_sessions)
    scope.close_later(close)
    return _Test(item, scope, session, process)


async def _end_test(
    scope: IsolationScope, database: TestDatabase | None
) -> tuple[BaseException | None, dict[str, tuple[int, int]]]:
    """Close what the test left open, then roll its transaction back whatever happened; then,
    for an outer transaction, look for rows committed past it. Return the first error of the
    closing (see IsolationScope.close_resources) and the leaked rows (in `database`, unless
    None: a transaction nested in a seed's)."""
    try:
        close_error = await scope.close_resources()
    finally:
        await close_scope(scope)
    leaked = {} if database is None else await database.leaked_rows(scope.ended_intact)
    return close_error, leaked


@contextmanager
def _test_share(process: _Process) -> Iterator[_Test]:
    """The running test's share of the database: opened here by the first of its fixtures that
    asks (and closed when that fixture is torn down, after every fixture set up later, which
    are the only ones that can use it), or the one already open."""
    request = _setup_request.current()
    item = request.node
    if process.current is not None and process.current.item is item:
        yield process.current
        return
    engine, database, run = process.engine, process.database, process.run
    request.config.stash[QUERY_LOG_KEY].start_test()
    if db_marker_options(item).transaction:
        if _seed_scopes:
            pytest.fail(
                # Named after the innermost seed fixture: the class's when a class seeds too.
                COMMIT_INSIDE_SEED.format(test=item.nodeid, fixture=_seed_scopes[-1][0]),
                pytrace=False,
            )
        scope = committing_scope(engine)
        close_error = None
        try:
            process.current = _test_in(item, scope, process)
            yield process.current
        finally:
            process.current = None
            close_error = run(scope.close_resources())
            run(database.restore())
        if close_error is not None:
            raise close_error
        return
    enclosing = _seed_scopes[-1][1] if _seed_scopes else None
    scope = run(open_scope(engine, enclosing))
    try:
        process.current = _test_in(item, scope, process)
        yield process.current
    finally:
        process.current = None
        close_error, leaked = run(_end_test(scope, None if enclosing else database))
    if leaked:
        run(database.restore())
        pytest.fail(LEAKED_ROWS.format(tables=describe_leak(leaked)), pytrace=False)
    if close_error is not None:
        raise close_error


@pytest_asyncio.fixture(loop_scope="session")
async def _fastsuite_engine_guard(_fastsuite_database: TestDatabase) -> AsyncIterator[None]:
    # For a test that takes db_engine without a transaction of the harness's: whatever it
    # committed through the engine (or a connection taken from it) fails it, and is undone.
    yield
    if _seed_scopes:  # the connection is in the seed's transaction: that rolls it all back
        return
    leaked = await _fastsuite_database.leaked_rows()
    if leaked:
        await _fastsuite_database.restore()
        pytest.fail(LEAKED_ROWS.format(tables=describe_leak(leaked)), pytrace=False)


@pytest.fixture
def db_session(_fastsuite_test: _Process) -> Iterator[AsyncSession]:
    """Function scope. A session of the app's class and options inside this test's transaction.

    The app's requests in the same test use the same transaction, so each sees the other's
    writes; `commit()` releases a SAVEPOINT, and everything is rolled back after the test.
    Factories built on fastsuite.AsyncFactory persist through it, and the app's own session
    factory (fastsuite_sessionmaker) opens sessions in the same transaction. Costs a BEGIN
    and a ROLLBACK per test (plus a row-count query for the leak guard, off in-memory SQLite).
    May be wrapped, aliased or replaced: `client` and the factories do not go through it.
    """
    with _test_share(_fastsuite_test) as test:
        yield test.session


# The app `_fastsuite_app` built, kept for `app`, which names no fixture: a session fixture in a
# test's closure costs pytest about 50 µs per test, cached or not. It needs no place in the
# closure's order either: building the app touches no database.
_built_app_key = pytest.StashKey[FastAPI]()


@pytest.fixture
def app() -> Iterator[FastAPI]:
    """Function scope. The FastAPI app under test (fastsuite_app), built once per process.

    Fails the test if it leaves `app.dependency_overrides` changed (and restores them).
    May be wrapped (a fixture `app(app)` that configures and returns the app it receives), not
    replaced by another app: `client` serves the app of fastsuite_app, and says so if a
    test's `app` is another one.
    """
    stash = _setup_request.current().config.stash
    built = stash.get(_built_app_key, None)
    if built is None:
        built = stash[_built_app_key] = _setup_request.current().getfixturevalue("_fastsuite_app")
    snapshot = dict(built.dependency_overrides)
    yield built
    leaked = changed_overrides(built, snapshot)
    if leaked:
        built.dependency_overrides.clear()
        built.dependency_overrides.update(snapshot)
        pytest.fail(OVERRIDE_LEAK.format(names=", ".join(leaked)), pytrace=False)


@dataclass(frozen=True)
class _ServedApp:
    """The app as this test's clients reach it: through its transport, in its transaction."""

    app: FastAPI
    configured_as: str  # where fastsuite_app came from, for messages
    transport: httpx.ASGITransport
    scope: IsolationScope
    defaults: _ClientDefaults
    prototype: ClientPrototype | None

    def client(self, **options: Any) -> httpx.AsyncClient:
        """A client with the settings' base URL and headers; `headers` are added to those."""
        if not options and self.prototype is not None:
            plain = self.prototype.client()
            self.scope.close_later(plain.aclose)
            return plain
        options.setdefault("base_url", self.defaults.base_url)
        given = options.pop("headers", None)
        headers = self.defaults.headers  # the client copies them
        if given is not None:
            headers = httpx.Headers(headers)
            headers.update(httpx.Headers(given))
        # Mounted transports (proxies) are chosen per URL by httpx itself: no short road then.
        kind = httpx.AsyncClient if options.get("mounts") else TestClient
        made = kind(transport=self.transport, headers=headers, **options)
        self.scope.close_later(made.aclose)
        return made


def _check_same_app(app: FastAPI, configured_as: str, live_app: FastAPI) -> None:
    if app is not live_app:
        shown = f"{app!r:.60}"
        pytest.fail(APP_REPLACED.format(app=shown, where=configured_as), pytrace=False)


@contextmanager
def _served_app(app: FastAPI, live: _Live, test: _Test) -> Iterator[_ServedApp]:
    """The app's session dependency served from this test's transaction, while the first of the
    test's client fixtures lasts: it is set up after `app` and torn down before it, so `app`
    finds the overrides as it left them."""
    if test.served is not None:  # the test's other client fixture serves it
        _check_same_app(app, test.served.configured_as, test.served.app)
        yield test.served
        return
    _check_same_app(app, live.configured_as, live.app)
    process, scope, turns = test.process, test.scope, live.lifespan.turns
    with overrides_restored(app):
        if process.app_sessionmaker is None:
            dependency = live.session_dependency
            assert dependency is not None  # one of the two is set
            override = session_override(scope, process.app_sessions, live.commits_after_the_route)
            app.dependency_overrides[dependency] = override
        turns.lock = scope.request_lock
        log = _queries.active_log()
        if log is not None and not scope.commits_for_real:
            turns.fresh = FreshObjects(test.session, log)
        test.served = _ServedApp(
            app,
            live.configured_as,
            live.lifespan.transport,
            scope,
            live.client_defaults,
            live.client_prototype,
        )
        try:
            yield test.served
        finally:
            test.served = None
            turns.lock = None
            turns.fresh = None


@pytest.fixture
def client(
    app: FastAPI, _fastsuite_live: _Live, _fastsuite_test: _Process
) -> Iterator[httpx.AsyncClient]:
    """Function scope. An httpx.AsyncClient bound to the app, base URL http://test.

    The app's lifespan has run (once per process); its session dependency, and its own
    session factory when fastsuite_sessionmaker is set, serve this test's transaction.
    Dependency overrides made during the test are undone after it. Concurrent requests take
    turns. The base URL and default headers come from fastsuite_base_url and
    fastsuite_client_headers; client_factory makes clients configured otherwise. Costs little
    more than db_session: the app and its lifespan are shared by the process.
    May be wrapped (headers, a login), aliased or replaced; client_factory does not use it.
    """
    with _test_share(_fastsuite_test) as test, _served_app(app, _fastsuite_live, test) as served:
        yield served.client()


@pytest.fixture
def client_factory(
    app: FastAPI, _fastsuite_live: _Live, _fastsuite_test: _Process
) -> Iterator[ClientFactory]:
    """Function scope. `client_factory(**options)` makes more clients like `client`.

    Each is bound to the same app and the same test transaction (a logged-in client per user,
    say) and is closed after the test. Options are httpx.AsyncClient's: `base_url` replaces
    the client's, `headers` are added to its default headers (a header named in both takes
    the value given here), the others (cookies, follow_redirects, ...) go to httpx as they
    are. Costs nothing until called.
    """
    with _test_share(_fastsuite_test) as test, _served_app(app, _fastsuite_live, test) as served:
        yield served.client


@pytest.fixture
def assert_num_queries(_fastsuite_test: _Process) -> Iterator[AssertNumQueries]:
    """Function scope. `with assert_num_queries(n):` fails unless the block runs n statements.

    The failure lists the statements with their parameters. BEGIN/SAVEPOINT/RELEASE/ROLLBACK
    are the isolation's and are not counted. Costs nothing when unused.
    """
    with _test_share(_fastsuite_test):
        yield _queries.assert_num_queries


@pytest.fixture
def assert_max_queries(_fastsuite_test: _Process) -> Iterator[AssertMaxQueries]:
    """Function scope. `with assert_max_queries(n):` fails if the block runs more than n."""
    with _test_share(_fastsuite_test):
        yield _queries.assert_max_queries


@pytest.fixture
def capture_on_commit_callbacks() -> CaptureOnCommitCallbacks:
    """Function scope. `async with capture_on_commit_callbacks() as tasks:` captures the
    background tasks the app schedules in the block; `await tasks.run()` runs them.

    With `execute=True` they run when the block exits. Costs nothing when unused.
    """
    return _background.capture_on_commit_callbacks
