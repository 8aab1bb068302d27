"""PostgreSQL: each test process gets a database of its own, copied from a template per run.

The run (the xdist controller, or the only process) connects to the URL's database, which it
never alters, builds the schema once in a new template database (metadata or migrations), and
each worker copies it with `CREATE DATABASE ... TEMPLATE`, which takes milliseconds. In a serial
run the one process uses the database it built directly. Every database the run creates carries
a comment naming the run; the run drops them at its end. A run killed before its end leaves its
databases behind: the next run drops those whose run has ended (it holds an advisory lock while
it lives, so a run that is alive is never touched).

The template is not kept between runs under a fingerprint of the schema: a fingerprint that
missed one input (a helper module a migration imports, a server-side change) would serve a
stale schema without a word, the very lie this mode exists to catch, and it would leave a
database on the user's server. Building it costs one CREATE DATABASE and the schema build,
a fraction of a second, once per run.

PYTEST_DONT_REWRITE: fastsuite-warm preloads this module (see fastsuite._warm.learning).
"""

from __future__ import annotations

import asyncio
import re
import secrets
import traceback
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from fastsuite import _blocker
from fastsuite._config import Settings
from fastsuite._migrations import MigrationsMissedTheDatabase
from fastsuite._provision import ProcessDatabase, provides, provisions
from fastsuite._schema import SchemaSource

UNREACHABLE = (
    "fastsuite: cannot reach the PostgreSQL server of {where} ({error}). Start the server, or "
    "fix the host and port in the URL (or unset it to run on in-memory SQLite)."
)
LOGIN_REFUSED = (
    "fastsuite: the PostgreSQL server refused the login of {where} ({error}). Fix the user "
    "name or the password in the URL (percent-encode special characters), or the server's "
    "pg_hba.conf."
)
NO_SUCH_DATABASE = (
    "fastsuite: {where}: the database {name!r} does not exist. fastsuite connects to it only "
    "to create its own test databases beside it: create it (createdb {name}), or name an "
    "existing database whose name contains 'test'."
)
MAY_NOT_CREATE_DATABASES = (
    "fastsuite: {where}: the role {user!r} may not create databases ({error}), and fastsuite "
    "gives each test process a database of its own. Grant it (ALTER ROLE {user} CREATEDB) or "
    "use a role that may."
)
SERVER_ERROR = "fastsuite: {where}: the PostgreSQL server answered: {error}"
SCHEMA_BUILD_FAILED = (
    "fastsuite: building the test database's schema from {source} failed{location}: {error}. "
    "fastsuite removed the database it was building."
)

CONNECT_TIMEOUT_SECONDS = 10
# pg_advisory_lock(class, object): the class says "fastsuite", the object is the run's id.
_LOCK_CLASS = 0x6673
_COMMENT = "fastsuite run {run_id} via {database}"
_COMMENT_PATTERN = re.compile(r"^fastsuite run (?P<run_id>[0-9a-f]{8}) via (?P<database>.+)$")
_NAME_LIMIT = 63  # PostgreSQL cuts longer identifiers
_TEMPLATE_BUSY_RETRIES = 50


@provides("postgresql")
def _postgresql_engine(url: URL, sqlite_driver: str) -> AsyncEngine:
    # A process runs one test at a time on one connection (its outer transaction): the pool
    # keeps that connection open between tests, and opens another at once, without waiting
    # for the first, when something (the leak guard, a lifespan task) needs a second.
    engine = create_async_engine(url, pool_size=1, max_overflow=-1)
    _blocker.own_engine(engine)
    return engine


@dataclass(frozen=True)
class _Names:
    """The databases of one run: `<url database>_fs<run id>_<what>`."""

    base: str
    run_id: str

    def of(self, what: str) -> str:
        suffix = f"_fs{self.run_id}_{what}"
        return self.base[: _NAME_LIMIT - len(suffix)] + suffix


@provisions("postgresql")
class PostgresProvisioner:
    """A template database per run, a database per test process copied from it."""

    def __init__(self, url: URL, settings: Settings, schema: SchemaSource) -> None:
        self.url = url
        self.where = settings.describe("db_url")
        self.schema = schema
        self.schema_where = settings.describe(
            "alembic_config" if schema.alembic is not None else "metadata"
        )
        self._loop: asyncio.AbstractEventLoop | None = None
        self._admin: AsyncConnection | None = None
        self._admin_engine: AsyncEngine | None = None
        self._run_id = ""
        self._created: list[str] = []

    # The run: in the xdist controller (or the only process), on a loop of its own, since
    # pytest's hooks are synchronous and the admin connection lives for the whole run.

    def start_run(self, *, workers: bool) -> dict[str, str]:
        self._run_id = f"{secrets.randbelow(2**31):08x}"
        self._loop = asyncio.new_event_loop()
        try:
            return self._loop.run_until_complete(self._start(workers=workers))
        except BaseException:
            self.finish_run()
            raise

    def finish_run(self) -> None:
        if self._loop is None:
            return
        try:
            self._loop.run_until_complete(self._finish())
        finally:
            self._loop.close()
            self._loop = None

    async def _start(self, *, workers: bool) -> dict[str, str]:
        self._admin_engine = _admin_engine(self.url)
        try:
            self._admin = await self._admin_engine.connect()
        except Exception as error:
            raise pytest.UsageError(self._explain(error)) from None
        await self._admin.execute(
            text("SELECT pg_advisory_lock(:lock_class, :run)"),
            {"lock_class": _LOCK_CLASS, "run": int(self._run_id, 16)},
        )
        await self._drop_databases_of_ended_runs(self._admin)
        names = _Names(self.url.database or "", self._run_id)
        database = names.of("template" if workers else "main")
        await self._create(self._admin, database)
        engine = _engine_without_pool(self.url.set(database=database))
        try:
            await self.schema.build(engine)
        except MigrationsMissedTheDatabase as error:
            raise pytest.UsageError(str(error)) from None
        except Exception as error:
            raise pytest.UsageError(
                SCHEMA_BUILD_FAILED.format(
                    source=self.schema_where, location=_location(error), error=_one_line(error)
                )
            ) from None
        finally:
            await engine.dispose()
        return {"run_id": self._run_id, "database": database, "template": str(workers)}

    async def _finish(self) -> None:
        if self._admin is not None:
            try:
                await self._drop_run(self._admin, self._run_id)
            finally:
                await self._admin.close()
                self._admin = None
        if self._admin_engine is not None:
            await self._admin_engine.dispose()
            self._admin_engine = None

    # A test process: in the session's event loop (the db_engine fixture).

    async def open_process_database(
        self, shared: Mapping[str, str], worker: str
    ) -> ProcessDatabase:
        if shared["template"] != "True":  # a serial run: the run's database is this process's
            engine = _postgresql_engine(self.url.set(database=shared["database"]), "")
            return ProcessDatabase(engine, engine.dispose)
        name = _Names(self.url.database or "", shared["run_id"]).of(worker)
        async with self._connected() as admin:
            await self._create(admin, name, template=shared["database"])
        engine = _postgresql_engine(self.url.set(database=name), "")

        async def close() -> None:
            await engine.dispose()
            async with self._connected() as admin:
                await _drop(admin, name)

        return ProcessDatabase(engine, close)

    @asynccontextmanager
    async def scratch_database(
        self, shared: Mapping[str, str], worker: str
    ) -> AsyncIterator[AsyncEngine]:
        run_id = shared.get("run_id") or f"{secrets.randbelow(2**31):08x}"
        name = _Names(self.url.database or "", run_id).of(f"scratch_{worker}")
        async with self._connected() as admin:
            await _drop(admin, name)  # left by a check that was interrupted
            await self._create(admin, name, run_id=run_id)
        engine = _engine_without_pool(self.url.set(database=name))
        try:
            yield engine
        finally:
            await engine.dispose()
            async with self._connected() as admin:
                await _drop(admin, name)

    # Creating and dropping, only ever databases this harness created.

    @asynccontextmanager
    async def _connected(self) -> AsyncIterator[AsyncConnection]:
        engine = _admin_engine(self.url)
        try:
            async with engine.connect() as connection:
                yield connection
        finally:
            await engine.dispose()

    async def _create(
        self,
        admin: AsyncConnection,
        name: str,
        *,
        template: str | None = None,
        run_id: str | None = None,
    ) -> None:
        quote = admin.dialect.identifier_preparer.quote
        statement = f"CREATE DATABASE {quote(name)}"
        if template is not None:
            statement += f" TEMPLATE {quote(template)}"
        for attempt in range(_TEMPLATE_BUSY_RETRIES):
            try:
                await admin.exec_driver_sql(statement)
                break
            except Exception as error:
                # Another worker's CREATE DATABASE is reading the template at this moment.
                if _sqlstate(error) != "55006" or attempt == _TEMPLATE_BUSY_RETRIES - 1:
                    raise pytest.UsageError(self._explain(error)) from None
                await asyncio.sleep(0.05)
        self._created.append(name)
        # A migrations env.py may build an engine of its own on it, from sqlalchemy.url.
        _blocker.own_url(self.url.set(database=name))
        comment = _COMMENT.format(run_id=run_id or self._run_id, database=self.url.database)
        # A utility statement takes no bound parameters: the comment goes in as a literal.
        literal = "'" + comment.replace("'", "''") + "'"
        await admin.exec_driver_sql(f"COMMENT ON DATABASE {quote(name)} IS {literal}")

    async def _drop_run(self, admin: AsyncConnection, run_id: str) -> None:
        for name in await _databases_of(admin, self.url.database or "", run_id):
            await _drop(admin, name)
        if run_id == self._run_id:
            for name in self._created:  # in case its comment never got written
                await _drop(admin, name)

    async def _drop_databases_of_ended_runs(self, admin: AsyncConnection) -> None:
        for run_id in await _runs_with_databases(admin, self.url.database or ""):
            lock = {"lock_class": _LOCK_CLASS, "run": int(run_id, 16)}
            taken = await admin.scalar(text("SELECT pg_try_advisory_lock(:lock_class, :run)"), lock)
            if taken:  # no live run holds it: the run has ended
                try:
                    await self._drop_run(admin, run_id)
                finally:
                    await admin.execute(text("SELECT pg_advisory_unlock(:lock_class, :run)"), lock)

    def _explain(self, error: BaseException) -> str:
        return explain(error, where=self.where, url=self.url)


def explain(error: BaseException, *, where: str, url: URL) -> str:
    """One line saying what went wrong with the server, and how to fix it."""
    sqlstate = _sqlstate(error)
    message = _one_line(error)
    if sqlstate is None and _in_chain(error, OSError):
        return UNREACHABLE.format(where=where, error=message)
    if sqlstate in ("28P01", "28000"):
        return LOGIN_REFUSED.format(where=where, error=message)
    if sqlstate == "3D000":
        return NO_SUCH_DATABASE.format(where=where, name=url.database)
    if sqlstate == "42501":
        return MAY_NOT_CREATE_DATABASES.format(where=where, user=url.username, error=message)
    return SERVER_ERROR.format(where=where, error=message)


def _admin_engine(url: URL) -> AsyncEngine:
    connect_args = (
        {"timeout": CONNECT_TIMEOUT_SECONDS} if url.get_driver_name() == "asyncpg" else {}
    )
    engine = create_async_engine(
        url, poolclass=NullPool, isolation_level="AUTOCOMMIT", connect_args=connect_args
    )
    _blocker.own_engine(engine)
    return engine


def _engine_without_pool(url: URL) -> AsyncEngine:
    engine = create_async_engine(url, poolclass=NullPool)
    _blocker.own_engine(engine)
    return engine


async def _drop(admin: AsyncConnection, name: str) -> None:
    quote = admin.dialect.identifier_preparer.quote
    # FORCE (PostgreSQL 13+) ends the connections a crashed process may have left open.
    force = " WITH (FORCE)" if (admin.dialect.server_version_info or (0,)) >= (13,) else ""
    await admin.exec_driver_sql(f"DROP DATABASE IF EXISTS {quote(name)}{force}")


async def _marked_databases(admin: AsyncConnection, database: str) -> list[tuple[str, str]]:
    """(name, run id) of every database a fastsuite run made beside `database`."""
    rows = await admin.execute(
        text(
            "SELECT datname, shobj_description(oid, 'pg_database') FROM pg_database "
            "WHERE shobj_description(oid, 'pg_database') LIKE 'fastsuite run %'"
        )
    )
    marked = []
    for name, comment in rows:
        match = _COMMENT_PATTERN.match(comment)
        if match and match["database"] == database:
            marked.append((name, match["run_id"]))
    return marked


async def _databases_of(admin: AsyncConnection, database: str, run_id: str) -> list[str]:
    return [name for name, run in await _marked_databases(admin, database) if run == run_id]


async def _runs_with_databases(admin: AsyncConnection, database: str) -> set[str]:
    return {run for _name, run in await _marked_databases(admin, database)}


def _chain(error: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and current not in seen:
        seen.append(current)
        current = getattr(current, "orig", None) or current.__cause__ or current.__context__
    return seen


def _sqlstate(error: BaseException) -> str | None:
    for link in _chain(error):
        code = getattr(link, "sqlstate", None) or getattr(link, "pgcode", None)
        if isinstance(code, str):
            return code
    return None


def _in_chain(error: BaseException, kind: type[BaseException]) -> bool:
    return any(isinstance(link, kind) for link in _chain(error))


def _one_line(error: BaseException) -> str:
    """The driver's own message, first line only, without SQLAlchemy's wrapping."""
    innermost = _chain(error)[-1]
    lines = str(innermost).strip().splitlines() or [type(innermost).__name__]
    return f"{type(innermost).__name__}: {lines[0]}"


def _location(error: BaseException) -> str:
    """Where the project's own code failed (a migration, say), outside any installed package."""
    for frame in reversed(traceback.extract_tb(error.__traceback__)):
        if "site-packages" not in frame.filename and "fastsuite" not in Path(frame.filename).parts:
            return f" at {frame.filename}:{frame.lineno}"
    return ""
