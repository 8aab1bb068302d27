"""The connection blocker: during a run, SQLAlchemy connects only to the run's own databases.

From pytest_configure to pytest_unconfigure, every connection any SQLAlchemy engine (sync or
async; the app's, a library's, a test's) is about to open goes through SQLAlchemy's
`do_connect` event, heard on the Engine class so that it covers every engine, made before or
after. The event fires before the driver is called, so a refused SQLite file is never created.

A connection is let through when it belongs to the run: an engine the harness made (its dialect
is registered with `own_engine`), a database the harness made (`own_url`: PostgreSQL's template
and per-process databases, which a migrations env.py may reach through an engine of its own),
or a URL of the project's allow-list (fastsuite_allow_db_urls). The app's own session factory,
when no test scope holds it, is bound to an engine whose connections are refused with the
"database access not asked for" message instead (see `no_access_engine`).

Not covered: a driver called directly (sqlite3.connect, asyncpg.connect), and engines built with
their own `creator`, `async_creator` or `pool`, which bypass the event.

PYTEST_DONT_REWRITE: fastsuite-warm preloads this module (see fastsuite._warm.learning).
"""

from __future__ import annotations

import fnmatch
import os
import weakref
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.engine import URL, Dialect, Engine, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.pool import NullPool

from fastsuite._connecting_code import connecting_code

REFUSED_CONNECTION = (
    "fastsuite: refused a connection to {url} in {test}{by}: during a test run SQLAlchemy may "
    "connect only to the run's test databases. Route the app's code through its session "
    "dependency (fastsuite_session_dependency) or its sessionmaker (fastsuite_sessionmaker), "
    "and a test's through the db_session, client, client_factory or db_engine fixture (or "
    "@pytest.mark.fastsuite_db); or allow this database in fastsuite_allow_db_urls "
    "(--fastsuite-allow-db-urls)."
)
ACCESS_NOT_ASKED = (
    "fastsuite: the app's sessionmaker was used in {test}, which did not ask for the "
    "database: request the db_session, client or client_factory fixture (or a seed fixture: "
    "module_db_session, class_db_session), or mark the test @pytest.mark.fastsuite_db."
)
BAD_ALLOWED_URL = (
    "fastsuite: {where}: {entry!r} is not a database URL ({error}); expected URLs separated by "
    "spaces or commas, e.g. sqlite:///var/reports_test.db postgresql://localhost/analytics_*."
)


class ConnectionRefused(pytest.fail.Exception):  # type: ignore[misc, name-defined]
    """The blocker refused a connection. A pytest failure, so that it fails the test with its
    message alone, and so that no `except Exception` in the code under test swallows it."""

    def __init__(self, message: str, url: str) -> None:
        super().__init__(message, pytrace=False)
        self.url = url


# The dialects of the engines the harness made (each engine has a dialect of its own).
_own_dialects: weakref.WeakSet[Dialect] = weakref.WeakSet()
# The dialects whose connections mean "database access not asked for".
_no_access_dialects: weakref.WeakSet[Dialect] = weakref.WeakSet()
# (backend, host, port, database) of every database the harness made.
_own_databases: set[tuple[str, str | None, int | None, str | None]] = set()


@dataclass
class ConnectionBlocker:
    """One run's blocker: what it lets through besides the harness's own engines."""

    allowed: tuple[URL, ...] = ()
    # An unconfigured run blocks nothing, also when it runs inside a configured one (pytester).
    enabled: bool = True
    # A test database on a SQLite file: relative paths resolve from here.
    root: str = field(default_factory=os.getcwd)
    # The cause of a refusal when it is known (_session_dependency.overridden_elsewhere): said
    # in place of the general advice.
    explain: Callable[[], str] = field(default=lambda: "")

    def check(self, dialect: Dialect, cargs: Sequence[Any], cparams: Mapping[str, Any]) -> None:
        __tracebackhide__ = True
        if not self.enabled or dialect in _own_dialects:
            return
        if dialect in _no_access_dialects:
            raise ConnectionRefused(ACCESS_NOT_ASKED.format(test=_current_test()), "")
        url = url_of_connection(dialect, cargs, cparams)
        if _key(url) in _own_databases or any(_matches(url, allowed) for allowed in self.allowed):
            return
        shown = url.render_as_string(hide_password=True)
        message = REFUSED_CONNECTION.format(url=shown, test=_current_test(), by=connecting_code())
        explained = self.explain()
        if explained:  # the cause is known: say it instead of the general advice
            message = f"{message.split(': during a test run', 1)[0]}: {explained}"
        raise ConnectionRefused(message, shown)


# Runs nest (pytester runs pytest inside a test): the innermost run's blocker decides.
_blockers: list[ConnectionBlocker] = []


def _on_connect(dialect: Dialect, _record: Any, cargs: Sequence[Any], cparams: Any) -> None:
    __tracebackhide__ = True
    if _blockers:
        _blockers[-1].check(dialect, cargs, cparams)


def explain_refusals(explain: Callable[[], str]) -> None:
    """Have the running blocker's refusals say what `explain()` says, when it says anything, in
    place of the general advice."""
    if _blockers:
        _blockers[-1].explain = explain


def start(*, enabled: bool, allowed: str | None, where: str) -> ConnectionBlocker:
    """Refuse foreign connections from now on (pytest_configure) if `enabled`; `stop` undoes it.

    The event listener is added only while an enabled blocker is running: a run that does not
    configure fastsuite leaves SQLAlchemy as it found it.
    """
    blocker = ConnectionBlocker(parse_allowed(allowed, where) if enabled else (), enabled=enabled)
    _blockers.append(blocker)
    if enabled and not event.contains(Engine, "do_connect", _on_connect):
        event.listen(Engine, "do_connect", _on_connect)
    return blocker


def stop(blocker: ConnectionBlocker) -> None:
    if blocker in _blockers:
        _blockers.remove(blocker)
    if not any(b.enabled for b in _blockers) and event.contains(Engine, "do_connect", _on_connect):
        event.remove(Engine, "do_connect", _on_connect)


def parse_allowed(value: str | None, where: str) -> tuple[URL, ...]:
    entries = (value or "").replace(",", " ").split()
    urls = []
    for entry in entries:
        try:
            urls.append(make_url(entry))
        except ArgumentError as error:
            raise pytest.UsageError(
                BAD_ALLOWED_URL.format(where=where, entry=entry, error=error)
            ) from None
    return tuple(urls)


def own_engine(engine: AsyncEngine | Engine) -> None:
    """Let `engine` connect: the harness made it."""
    sync_engine = engine.sync_engine if isinstance(engine, AsyncEngine) else engine
    _own_dialects.add(sync_engine.dialect)


def own_url(url: URL) -> None:
    """Let any engine connect to the database at `url`: the harness made it for this run."""
    _own_databases.add(_key(url))


def no_access_engine() -> AsyncEngine:
    """An engine whose connections fail the test with ACCESS_NOT_ASKED (it never connects)."""
    from fastsuite import _sqlite_loop

    _sqlite_loop.register()
    engine = create_async_engine(f"sqlite+{_sqlite_loop.DRIVER_NAME}://", poolclass=NullPool)
    _no_access_dialects.add(engine.sync_engine.dialect)
    return engine


def refuse_sessionmaker_outside_tests(maker: async_sessionmaker[Any]) -> Callable[[], None]:
    """Bind the app's session factory to an engine that refuses with ACCESS_NOT_ASKED; return
    the undo. The fixtures that give a test the database point it at the test's scope, and
    back here when the test ends; the lifespan, at the test database while it starts and stops.
    """
    engine = no_access_engine()
    saved = dict(maker.kw)
    maker.configure(bind=engine)

    def restore() -> None:
        maker.kw.clear()
        maker.kw.update(saved)
        engine.sync_engine.dispose()

    return restore


def url_of_connection(dialect: Dialect, cargs: Sequence[Any], cparams: Mapping[str, Any]) -> URL:
    """The URL a connection is about to open, rebuilt from the driver's arguments.

    The do_connect event sees what the dialect made of the URL (create_connect_args), not the
    URL itself: a file path for SQLite, keyword arguments under the names the driver uses.
    """
    drivername = f"{dialect.name}+{dialect.driver}"
    if dialect.name == "sqlite":
        path = str(cargs[0]) if cargs else str(cparams.get("database", ""))
        in_memory = path in ("", ":memory:") or "mode=memory" in path
        return URL.create(drivername, database=None if in_memory else path)
    port = cparams.get("port")
    return URL.create(
        drivername,
        username=_first(cparams, ("user", "username")),
        password=_first(cparams, ("password", "passwd")),
        host=_first(cparams, ("host",)),
        port=int(port) if port else None,
        database=_first(cparams, ("database", "dbname", "db")),
    )


def _first(params: Mapping[str, Any], names: Iterable[str]) -> Any:
    return next((params[name] for name in names if params.get(name) is not None), None)


def _key(url: URL) -> tuple[str, str | None, int | None, str | None]:
    database = url.database or None
    if url.get_backend_name() == "sqlite" and database not in (None, ":memory:"):
        database = os.path.abspath(database)
    return (url.get_backend_name(), url.host, url.port, database)


def _matches(url: URL, allowed: URL) -> bool:
    """Backend, host, port and database as the entry says (driver and user ignored; `*` globs
    the database; an entry's empty part matches anything, but SQLite's empty database is the
    in-memory one)."""
    if url.get_backend_name() != allowed.get_backend_name():
        return False
    if allowed.host and url.host != allowed.host:
        return False
    if allowed.port and url.port != allowed.port:
        return False
    if url.get_backend_name() == "sqlite":
        if not allowed.database or allowed.database == ":memory:":
            return url.database in (None, "", ":memory:")
        if not url.database:
            return False
        pattern = allowed.database
        if not pattern.startswith(("*", "/")):
            pattern = os.path.abspath(pattern)
        return fnmatch.fnmatchcase(os.path.abspath(url.database), pattern)
    return not allowed.database or fnmatch.fnmatchcase(url.database or "", allowed.database)


def _current_test() -> str:
    current = os.environ.get("PYTEST_CURRENT_TEST")
    return current if current else "the run, outside any test"
