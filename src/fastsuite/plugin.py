"""The pytest plugin: options, configuration, report header and report sections.

Loaded through the `pytest11` entry point; the fixtures live in fastsuite.fixtures.
"""

from __future__ import annotations

import sys
from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy.engine import make_url

from fastsuite import _blocker, _drift, _factory_state, _misuse, _provision, fixtures
from fastsuite._config import (
    SETTING_SPECS,
    Settings,
    add_options,
    import_from_string,
    resolve_settings,
    settings_key,
)
from fastsuite._isolation import app_sessionmaker
from fastsuite._markers import MARKERS, skip_postgresql_only
from fastsuite._provision import describe_url
from fastsuite._queries import QUERY_LOG_KEY
from fastsuite._schema import is_metadata_source

# The engine, the app and its lifespan live for the whole test session, so tests and fixtures
# must run in the session's event loop, or asyncpg/aiosqlite objects end up "attached to a
# different loop". A project that sets these ini keys itself keeps its values.
_LOOP_SCOPE_DEFAULTS = {
    "asyncio_default_fixture_loop_scope": "session",
    "asyncio_default_test_loop_scope": "session",
}
_blocker_key = pytest.StashKey[_blocker.ConnectionBlocker]()


def pytest_addoption(parser: pytest.Parser) -> None:
    add_options(parser)


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    settings = resolve_settings(config)
    config.stash[settings_key] = settings
    # First, so that nothing the app does when imported reaches a database.
    config.stash[_blocker_key] = _blocker.start(
        enabled=settings.configured,
        allowed=settings["allow_db_urls"],
        where=settings.describe("allow_db_urls"),
    )
    _default_loop_scopes(config)
    if settings.configured:
        # `module:attr` paths are relative to the project's root, as for `uvicorn module:app`.
        if str(config.rootpath) not in sys.path:
            sys.path.insert(0, str(config.rootpath))
        _check_imports(settings)
        _provision.prepare_run(config)
    config.pluginmanager.register(fixtures, "fastsuite.fixtures")
    for line in MARKERS:
        config.addinivalue_line("markers", line)


def pytest_unconfigure(config: pytest.Config) -> None:
    blocker = config.stash.get(_blocker_key, None)
    if blocker is not None:
        _blocker.stop(blocker)


def _default_loop_scopes(config: pytest.Config) -> None:
    for name, scope in _LOOP_SCOPE_DEFAULTS.items():
        # pytest keeps no public way to tell "unset" from "set to the default", nor to give an
        # ini key of another plugin a new default: its private ini tables do both.
        if name not in config._inicfg:
            config._inicache[name] = scope


def _check_imports(settings: Settings) -> None:
    """Stop the run at start, with a UsageError, when an import path is wrong."""
    import_from_string(
        settings,
        "app",
        "a FastAPI app or a factory returning one",
        lambda obj: isinstance(obj, FastAPI) or callable(obj),
    )
    import_from_string(
        settings, "metadata", "a SQLAlchemy MetaData or declarative base", is_metadata_source
    )
    import_from_string(
        settings, "session_dependency", "the app's session dependency (a callable)", callable
    )
    if settings["sessionmaker"] is not None:
        app_sessionmaker(settings)


def pytest_sessionstart(session: pytest.Session) -> None:
    # Once per run, before xdist starts its workers (its own hook runs last): e.g. build the
    # PostgreSQL template database that each worker copies.
    _provision.start_run(session.config)


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """xdist: tell a worker what the run's provisioning made (its template database)."""
    node.workerinput.update(_provision.worker_input(node.config))


def pytest_sessionfinish(session: pytest.Session) -> None:
    _provision.finish_run(session.config)


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    return _drift.drift_collector(file_path, parent)


def pytest_collection_modifyitems(session: pytest.Session, items: list[pytest.Item]) -> None:
    settings = session.config.stash[settings_key]
    if settings.configured:
        skip_postgresql_only(items, make_url(settings["db_url"] or "").get_backend_name())
        _misuse.find_misuse(items)
    # A test marked fastsuite_db gets the database (its scope, the app's session factory and
    # the factories sent there) even if it asks for no fixture, or only for db_engine.
    for item in items:
        fixturenames: list[str] = getattr(item, "fixturenames", [])
        if item.get_closest_marker("fastsuite_db") and "db_session" not in fixturenames:
            fixturenames.append("db_session")
        elif "db_engine" in fixturenames and "_fastsuite_transaction" not in fixturenames:
            # What a test commits through db_engine itself is checked after it (leak guard).
            fixturenames.append("_fastsuite_engine_guard")


def pytest_report_header(config: pytest.Config) -> list[str]:
    settings = config.stash.get(settings_key, None)
    if settings is None:
        return []
    lines = []
    for spec in SETTING_SPECS:
        setting = settings.values[spec.name]
        value = setting.value
        if spec.name == "db_url" and value is not None:
            value = describe_url(value)
        if value is not None:
            lines.append(f"  {spec.name}: {value} ({setting.source})")
    return ["fastsuite:", *lines]


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    # Forget the previous test's statements before this test's fixtures run: a setup that fails
    # before the test's transaction begins must not report them as its own "Captured SQL".
    log = item.config.stash.get(QUERY_LOG_KEY, None)
    if log is not None:
        log.start_test()
    _factory_state.never_awaited()  # forget those of a test whose call never ran
    _misuse.fail_misused(item)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, None]:
    try:
        yield
    finally:
        # Factory calls the test (or its fixtures) made without `await`: nothing was created.
        never_awaited = _factory_state.never_awaited()
    if never_awaited is not None:
        pytest.fail(never_awaited, pytrace=False)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item,
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if report.failed and "_fastsuite_transaction" in getattr(item, "fixturenames", ()):
        log = item.config.stash.get(QUERY_LOG_KEY, None)
        if log is not None and log.recent:
            report.sections.append((f"Captured SQL {report.when}", log.report()))
    return report
