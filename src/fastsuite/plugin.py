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

from fastsuite import _anyio, _drift, _provision, fixtures
from fastsuite._client_options import client_options
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


def pytest_addoption(parser: pytest.Parser) -> None:
    add_options(parser)


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    settings = resolve_settings(config)
    config.stash[settings_key] = settings
    _default_loop_scopes(config)
    if settings.configured:
        # `module:attr` paths are relative to the project's root, as for `uvicorn module:app`.
        if str(config.rootpath) not in sys.path:
            sys.path.insert(0, str(config.rootpath))
        _check_imports(settings)
        client_options(settings)
        _provision.prepare_run(config)
    config.pluginmanager.register(fixtures, "fastsuite.fixtures")
    for line in MARKERS:
        config.addinivalue_line("markers", line)


def _default_loop_scopes(config: pytest.Config) -> None:
    # pytest keeps no public way to tell "unset" from "set to the default", nor to give an
    # ini key of another plugin a new default: its ini tables do both (pytest 9 made the
    # table of the ini file's values private: `_inicfg`, `inicfg` before).
    ini_file_values = getattr(config, "_inicfg", None)
    if ini_file_values is None:
        ini_file_values = getattr(config, "inicfg", {})
    overridden = {entry.split("=", 1)[0] for entry in config.getoption("override_ini") or ()}
    for name, scope in _LOOP_SCOPE_DEFAULTS.items():
        if name not in ini_file_values and name not in overridden:
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


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_fixture_setup(
    fixturedef: pytest.FixtureDef[Any], request: pytest.FixtureRequest
) -> Generator[None, object, object]:
    # Outside anyio's own wrapper, which this keeps from taking the harness's fixtures.
    return (yield from _anyio.setup_outside_anyio(fixturedef, request))


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
    # A test marked fastsuite_db gets its database scope even if it asks only for db_engine.
    for item in items:
        fixturenames: list[str] = getattr(item, "fixturenames", [])
        if item.get_closest_marker("fastsuite_db") and "_fastsuite_transaction" not in fixturenames:
            fixturenames.append("_fastsuite_transaction")


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
