"""What the harness checks at start, before it touches any database.

Each check stops the run with one `pytest.UsageError` line naming the setting, where its value
came from, and the fix.

PYTEST_DONT_REWRITE: fastsuite-warm preloads this module (see fastsuite._warm.learning).
"""

from __future__ import annotations

from pathlib import Path
from typing import NoReturn

import pytest
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, InvalidRequestError, NoSuchModuleError
from sqlalchemy.ext.asyncio import create_async_engine

from fastsuite._config import Settings

NOT_A_TEST_DATABASE = (
    "fastsuite: refusing {where}: the database name {name!r} does not contain 'test', so "
    "nothing shows it is a test database, and fastsuite creates schemas and databases with "
    "it. Point the URL at a database whose name contains 'test' (e.g. {suggestion!r}), or, "
    "if you are sure, pass --fastsuite-allow-non-test-db (ini fastsuite_allow_non_test_db = "
    "true)."
)
NO_DATABASE_NAME = (
    "fastsuite: refusing {where}: the URL names no database, so nothing shows it is a test "
    "database. Add one whose name contains 'test' (e.g. .../test), or pass "
    "--fastsuite-allow-non-test-db."
)
BAD_URL = (
    "fastsuite: {where} is not a database URL ({error}); expected e.g. "
    "postgresql+asyncpg://user:password@localhost:5432/app_test or sqlite+aiosqlite:///test.db."
)
UNKNOWN_DRIVER = (
    "fastsuite: {where}: SQLAlchemy has no driver {driver!r} ({error}). Use an async driver, "
    "e.g. postgresql+asyncpg://... or sqlite+aiosqlite:///..."
)
MISSING_DRIVER = (
    "fastsuite: {where}: its driver {module!r} is not installed. Install it in the test "
    "environment ({install})."
)
SYNC_DRIVER = (
    "fastsuite: {where}: the driver {driver!r} is not async, and the harness runs the app's "
    "async SQLAlchemy code. Use an async driver: {suggestion}."
)

_INSTALL_HINTS = {
    "asyncpg": "uv add --dev asyncpg, or pip install 'fastsuite[postgresql]'",
    "aiosqlite": "uv add --dev aiosqlite",
}
_ASYNC_DRIVERS = {"postgresql": "asyncpg", "sqlite": "aiosqlite"}


def is_in_memory_sqlite(url: URL) -> bool:
    return url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:")


def is_test_database_name(name: str) -> bool:
    return "test" in name.lower()


def check_database_url(settings: Settings) -> URL:
    """The parsed URL of `db_url`, once it is known to be safe and its driver importable."""
    where = settings.describe("db_url")
    try:
        url = make_url(settings["db_url"] or "")
    except ArgumentError as error:
        raise pytest.UsageError(BAD_URL.format(where=where, error=error)) from None
    if is_in_memory_sqlite(url):
        return url
    if not settings.flag("allow_non_test_db"):
        _refuse_unless_test_database(url, where)
    _check_driver(url, where)
    return url


def _refuse_unless_test_database(url: URL, where: str) -> None:
    if not url.database:
        raise pytest.UsageError(NO_DATABASE_NAME.format(where=where))
    name = Path(url.database).name if url.get_backend_name() == "sqlite" else url.database
    if not is_test_database_name(name):
        stem, dot, suffix = name.partition(".")
        suggestion = f"{stem}_test{dot}{suffix}"
        raise pytest.UsageError(
            NOT_A_TEST_DATABASE.format(where=where, name=name, suggestion=suggestion)
        )


def _check_driver(url: URL, where: str) -> None:
    # Whether the driver is async is known from SQLAlchemy's dialect alone, before the driver
    # is imported: a sync driver is refused as such, installed or not.
    try:
        dialect = url.get_dialect()
    except NoSuchModuleError as error:
        raise pytest.UsageError(
            UNKNOWN_DRIVER.format(where=where, driver=url.drivername, error=error)
        ) from None
    if not dialect.get_async_dialect_cls(url).is_async:
        _refuse_sync_driver(url, where)
    # Building an engine imports the driver; it connects nowhere.
    try:
        engine = create_async_engine(url)
    except ImportError as error:
        module = (error.name or url.get_driver_name()).partition(".")[0]
        install = _INSTALL_HINTS.get(module, f"uv add --dev {module}")
        raise pytest.UsageError(
            MISSING_DRIVER.format(where=where, module=module, install=install)
        ) from None
    except InvalidRequestError:  # "The asyncio extension requires an async driver"
        _refuse_sync_driver(url, where)
    engine.sync_engine.dispose()


def _refuse_sync_driver(url: URL, where: str) -> NoReturn:
    backend = url.get_backend_name()
    suggestion = "one SQLAlchemy lists as async"
    if backend in _ASYNC_DRIVERS:
        async_url = url.set(drivername=f"{backend}+{_ASYNC_DRIVERS[backend]}")
        suggestion = async_url.render_as_string(hide_password=True)
    raise pytest.UsageError(
        SYNC_DRIVER.format(where=where, driver=url.drivername, suggestion=suggestion)
    )
