"""Provisioning the test databases, dispatched on the database backend's name.

A generic default plus per-backend overrides, as SQLAlchemy's own testing provision module does,
so adding a backend does not touch the fixtures and hooks that call these functions.

A run goes through three steps. `prepare_run` (pytest_configure) checks the settings without
touching a database. `start_run` (pytest_sessionstart, in the controller when xdist runs) does
what is done once per run, such as a PostgreSQL template database; what the workers need of it
travels to them in `worker_input`. Each test process then opens its own database with
`open_process_database` (the db_engine fixture), and `finish_run` removes what the run made.

PYTEST_DONT_REWRITE: fastsuite-warm preloads this module (see fastsuite._warm.learning).
"""

from __future__ import annotations

import importlib
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import pytest
from sqlalchemy import event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import StaticPool

from fastsuite import _blocker, _sqlite_loop, _strict_sqlite, _strict_sqlite_engine
from fastsuite._config import Settings, settings_key
from fastsuite._migrations import AlembicSetup, load_alembic_setup
from fastsuite._preflight import check_database_url, is_in_memory_sqlite
from fastsuite._schema import SchemaSource, attach_schemas, check_column_types
from fastsuite._sqlite_defaults import (
    explain_unknown_default_functions,
    parenthesize_expression_defaults,
)
from fastsuite._sqlite_keys import compile_integer_keys_as_rowid
from fastsuite._strict_sqlite_schema import install_schema_checks
from fastsuite._targets import targets_key

RUN_NOT_STARTED = (
    "fastsuite: this process has no test database, because the run's provisioning did not run "
    "(pytest_sessionstart). Was the fastsuite plugin disabled in the xdist controller?"
)
SECOND_TRANSACTION = (
    "fastsuite: a transaction was begun on db_engine while this test's transaction is open, "
    "and on SQLite every session of a test shares one connection: work through db_session "
    "(`await db_session.execute(...)`, `await db_session.connection()`) instead of "
    "db_engine.begin() or db_engine.connect(), or mark the test "
    "@pytest.mark.fastsuite_db(transaction=True) for real commits."
)
_WORKER_INPUT_KEY = "fastsuite_run"
# Backends whose provisioning lives in a module of its own, imported only when used.
_BACKEND_MODULES = {"postgresql": "fastsuite._provision_postgresql"}


class SecondTransaction(pytest.fail.Exception):  # type: ignore[misc, name-defined]
    """Fails the test with SECOND_TRANSACTION alone, as pytest.fail(pytrace=False) does."""

    def __init__(self, message: str) -> None:
        super().__init__(message, pytrace=False)


@dataclass(frozen=True)
class ProcessDatabase:
    """This test process's database, schema built, and how to let go of it."""

    engine: AsyncEngine
    close: Callable[[], Awaitable[None]]


class Provisioner(Protocol):
    """How one database backend gives a run its test databases."""

    def start_run(self, *, workers: bool) -> dict[str, str]:
        """Do the once-per-run work (raising pytest.UsageError on bad input, having undone
        it); return what each test process needs of it."""
        ...

    def finish_run(self) -> None:
        """Remove what the run created."""
        ...

    async def open_process_database(
        self, shared: Mapping[str, str], worker: str
    ) -> ProcessDatabase: ...

    def scratch_database(
        self, shared: Mapping[str, str], worker: str
    ) -> AbstractAsyncContextManager[AsyncEngine]:
        """An empty database of the same backend, removed afterwards (the drift checks')."""
        ...


@dataclass
class RunState:
    """The run's provisioning, as this process sees it."""

    provisioner: Provisioner
    schema: SchemaSource
    alembic: AlembicSetup | None
    worker: str
    shared: dict[str, str] | None = None
    started: bool = field(default=False)


_run_key = pytest.StashKey[RunState]()
_creators: dict[str, Callable[[URL, str], AsyncEngine]] = {}
_provisioners: dict[str, Callable[[URL, Settings, SchemaSource], Provisioner]] = {}


def provides(backend: str) -> Callable[[Callable[[URL, str], AsyncEngine]], Any]:
    def register(creator: Callable[[URL, str], AsyncEngine]) -> Any:
        _creators[backend] = creator
        return creator

    return register


def provisions(
    backend: str,
) -> Callable[[Callable[[URL, Settings, SchemaSource], Provisioner]], Any]:
    def register(factory: Callable[[URL, Settings, SchemaSource], Provisioner]) -> Any:
        _provisioners[backend] = factory
        return factory

    return register


def _load_backend(url: URL) -> str:
    backend = url.get_backend_name()
    if backend in _BACKEND_MODULES:
        importlib.import_module(_BACKEND_MODULES[backend])
    return backend


def create_test_engine(url: str | URL, *, sqlite_driver: str = "loop") -> AsyncEngine:
    """Build the engine for the test database at `url` (in-memory SQLite for `sqlite://`)."""
    parsed = make_url(url)
    creator = _creators.get(_load_backend(parsed), _generic_engine)
    engine = creator(parsed, sqlite_driver)
    _blocker.own_engine(engine)
    return engine


def describe_url(url: str | URL) -> str:
    """The URL as the report header shows it: password hidden, in-memory SQLite named so."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database in (None, "", ":memory:"):
        return "sqlite in-memory"
    return parsed.render_as_string(hide_password=True)


def prepare_run(config: pytest.Config) -> None:
    """Check the database settings (no database touched) and choose the backend's provisioner."""
    settings = config.stash[settings_key]
    url = check_database_url(settings)
    _strict_sqlite.enabled_checks(settings)  # a misspelt check stops any run, not only SQLite's
    alembic = None
    if settings["schema"] == "migrations" or settings.flag("drift_checks"):
        # For the drift checks alone, the migrations folder is checked when they run: a run
        # of one test, which leaves them out, need not import Alembic.
        thorough = settings["schema"] == "migrations"
        alembic = load_alembic_setup(settings, Path(config.rootpath), thorough=thorough)
    metadata = config.stash[targets_key].metadata
    check_column_types(metadata, url.get_dialect()(), settings.describe("metadata"))
    schema = SchemaSource(metadata, alembic if settings["schema"] == "migrations" else None)
    factory = _provisioners.get(_load_backend(url), DefaultProvisioner)
    worker = getattr(config, "workerinput", {}).get("workerid", "main")
    config.stash[_run_key] = RunState(factory(url, settings, schema), schema, alembic, worker)


def run_state(config: pytest.Config) -> RunState | None:
    return config.stash.get(_run_key, None)


def start_run(config: pytest.Config) -> None:
    """Once per run: in the xdist controller, or in the only process of a serial run."""
    state = run_state(config)
    if state is None or config.option.collectonly:
        return
    workerinput = getattr(config, "workerinput", None)
    if workerinput is not None:
        state.shared = dict(workerinput.get(_WORKER_INPUT_KEY, {}))
        return
    workers = config.pluginmanager.has_plugin("dsession")  # xdist's controller is running
    state.shared = state.provisioner.start_run(workers=workers)
    state.started = True


def worker_input(config: pytest.Config) -> dict[str, Any]:
    """What an xdist worker needs of the run's provisioning (pytest_configure_node)."""
    state = run_state(config)
    if state is None or state.shared is None:
        return {}
    return {_WORKER_INPUT_KEY: state.shared}


def finish_run(config: pytest.Config) -> None:
    state = run_state(config)
    if state is not None and state.started:
        state.started = False
        state.provisioner.finish_run()


async def open_process_database(config: pytest.Config) -> ProcessDatabase:
    """This process's test database, schema built (for the db_engine fixture)."""
    state = config.stash[_run_key]
    if state.shared is None:
        raise RuntimeError(RUN_NOT_STARTED)
    return await state.provisioner.open_process_database(state.shared, state.worker)


def scratch_database(config: pytest.Config) -> AbstractAsyncContextManager[AsyncEngine]:
    """An empty database for checks that must not touch the test database."""
    state = config.stash[_run_key]
    return state.provisioner.scratch_database(state.shared or {}, state.worker)


class DefaultProvisioner:
    """The URL's database is the test database; in-memory SQLite gives each process its own.

    Nothing to do once per run, and nothing to remove: the schema is built when the process
    opens its database.
    """

    def __init__(self, url: URL, settings: Settings, schema: SchemaSource) -> None:
        self.url = url
        if not is_in_memory_sqlite(url):
            # A migrations env.py may build an engine of its own on the test database's URL.
            _blocker.own_url(url)
        self.sqlite_driver = settings["sqlite_driver"] or "loop"
        self.schema = schema
        self.strict_checks = _strict_sqlite.enabled_checks(settings)

    def start_run(self, *, workers: bool) -> dict[str, str]:
        return {}

    def finish_run(self) -> None:
        return None

    async def open_process_database(
        self, shared: Mapping[str, str], worker: str
    ) -> ProcessDatabase:
        engine = create_test_engine(self.url, sqlite_driver=self.sqlite_driver)
        strict = self.strict_checks if engine.dialect.name == "sqlite" else frozenset()
        metadata = self.schema.metadata
        _strict_sqlite_engine.make_strict(engine, strict, _strict_sqlite.columns_by_type(metadata))
        attach_schemas(engine, metadata)
        try:
            await self.schema.build(engine)
            await install_schema_checks(engine, metadata, strict)
            if engine.dialect.name == "sqlite":
                await explain_unknown_default_functions(engine)
        except BaseException:
            await engine.dispose()
            raise
        return ProcessDatabase(engine, engine.dispose)

    @asynccontextmanager
    async def scratch_database(
        self, shared: Mapping[str, str], worker: str
    ) -> AsyncIterator[AsyncEngine]:
        # Always a new in-memory database, even when the tests run on a SQLite file.
        engine = create_test_engine("sqlite://", sqlite_driver=self.sqlite_driver)
        try:
            yield engine
        finally:
            await engine.dispose()


def _generic_engine(url: URL, sqlite_driver: str) -> AsyncEngine:
    return create_async_engine(url)


@provides("sqlite")
def _sqlite_engine(url: URL, sqlite_driver: str) -> AsyncEngine:
    in_memory = url.database in (None, "", ":memory:")
    if in_memory and url.drivername in ("sqlite", "sqlite+pysqlite", f"sqlite+{sqlite_driver}"):
        driver = _sqlite_loop.DRIVER_NAME if sqlite_driver == "loop" else sqlite_driver
        url = url.set(drivername=f"sqlite+{driver}")
    if url.drivername.endswith(_sqlite_loop.DRIVER_NAME):
        _sqlite_loop.register()
    # One connection for the whole process, held by a StaticPool. Isolation by rollback needs
    # the test and the app to share one transaction, hence one connection, so a pool of several
    # connections to one memory database (shared-cache mode) would buy nothing and cost
    # table-level locks that fail at once ("database table is locked"). A plain `sqlite://` URL
    # would give every connection its own empty database ("no such table").
    engine = create_async_engine(
        url,
        poolclass=StaticPool,
        connect_args={"check_same_thread": False},
    )
    _make_sqlite_transactional(engine)
    compile_integer_keys_as_rowid(engine)
    parenthesize_expression_defaults(engine)
    return engine


def _make_sqlite_transactional(engine: AsyncEngine) -> None:
    """Let SQLAlchemy, not the sqlite3 driver, emit BEGIN; and make SQLite stricter.

    The sqlite3 driver begins transactions lazily and commits on its own before some statements,
    so a SAVEPOINT can end up outside the outer transaction and survive its rollback. The cure is
    SQLAlchemy's documented one ("Transactions with SQLite and the sqlite3 driver"): turn the
    driver's transaction handling off and emit BEGIN when SQLAlchemy begins.
    """

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        # SQLite ignores foreign keys unless asked, and its LIKE ignores case where
        # PostgreSQL's does not: both would let tests pass that fail in production.
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA case_sensitive_like = ON")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _refuse_second_transaction(connection: Any) -> None:
        # Before the dialect's BEGIN (an error there would make SQLAlchemy invalidate the
        # process's one connection, and its in-memory database with it).
        if getattr(connection.connection.driver_connection, "in_transaction", False):
            # The connection is in a test's transaction (db_session's, say), and
            # db_engine.begin() or .connect() tried to start a second one on it.
            raise SecondTransaction(SECOND_TRANSACTION)

    if isinstance(engine.sync_engine.dialect, _sqlite_loop.SQLiteLoopDialect):
        return  # the harness's own driver sends BEGIN itself (do_begin)

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN")
