"""The hooks of a run that uses fastsuite: configuration, provisioning, report header and
sections. plugin.py registers this module (and fastsuite.fixtures) once the settings say the
project uses fastsuite; it calls `configure` from its own pytest_configure.

PYTEST_DONT_REWRITE: fastsuite-warm preloads this module (see fastsuite._warm.learning).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Generator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import make_url

from fastsuite import (
    _anyio,
    _blocker,
    _drift,
    _factory_state,
    _loop_scopes,
    _misuse,
    _provision,
    _setup_request,
)
from fastsuite._client_options import client_options
from fastsuite._config import SETTING_SPECS, Settings, check_choices, settings_key
from fastsuite._markers import skip_postgresql_only
from fastsuite._provision import describe_url
from fastsuite._queries import QUERY_LOG_KEY
from fastsuite._session_dependency import describe_serving
from fastsuite._targets import resolve_targets, targets_key

SESSIONS_FROM_ROUTES = (
    "the class the app's routes receive from the session dependency, read when the app "
    "factory has built the app"
)
_blocker_key = pytest.StashKey[_blocker.ConnectionBlocker]()
_sessionmaker_restore_key = pytest.StashKey[Callable[[], None]]()


def configure(config: pytest.Config, settings: Settings) -> None:
    """pytest_configure of a project that uses fastsuite, first half: before every other
    plugin's and conftest's (plugin.py's tryfirst hook calls it)."""
    # Pushed first, so that nothing the app does when imported reaches a database.
    enabled = not config.option.help
    config.stash[_blocker_key] = _blocker.start(
        enabled=enabled,
        allowed=settings["allow_db_urls"] if enabled else None,
        where=settings.describe("allow_db_urls"),
    )
    # Before pytest-asyncio's own pytest_configure reads them.
    _loop_scopes.default_to_session_loop(config)
    config.addinivalue_line("filterwarnings", _anyio.WARNING_FILTER)
    if config.option.help:
        return  # `pytest --help` works whatever the settings, and imports nothing of the project
    check_choices(settings)
    config.stash[settings_key] = settings


def configure_targets(config: pytest.Config) -> None:
    """Second half, after the conftests' pytest_configure hooks (plugin.py's trylast hook): the
    app and the other targets imported once what those hooks set up (the environment the app
    reads, say) is there."""
    settings = config.stash.get(settings_key, None)
    if settings is None:
        return  # `pytest --help`
    # `module:attr` paths are relative to the project's root, as for `uvicorn module:app`.
    if str(config.rootpath) not in sys.path:
        sys.path.insert(0, str(config.rootpath))
    targets = config.stash[targets_key] = resolve_targets(settings)
    if targets.sessionmaker is not None:
        # Outside the scopes a test asked for, the app's session factory refuses to connect.
        config.stash[_sessionmaker_restore_key] = _blocker.refuse_sessionmaker_outside_tests(
            targets.sessionmaker
        )
    client_options(settings)
    _provision.prepare_run(config)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_fixture_setup(
    fixturedef: pytest.FixtureDef[Any], request: pytest.FixtureRequest
) -> Generator[None, object, object]:
    # The fixture's request, for the harness's fixtures that do not name it (_setup_request).
    _setup_request.push(request)
    try:
        # Outside anyio's own wrapper, which this keeps from taking the harness's fixtures.
        return (yield from _anyio.setup_outside_anyio(fixturedef, request))
    finally:
        _setup_request.pop()


def pytest_unconfigure(config: pytest.Config) -> None:
    restore_sessionmaker = config.stash.get(_sessionmaker_restore_key, None)
    if restore_sessionmaker is not None:
        restore_sessionmaker()
    blocker = config.stash.get(_blocker_key, None)
    if blocker is not None:
        _blocker.stop(blocker)


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
    settings = session.config.stash.get(settings_key, None)
    if settings is None:
        return  # `pytest --help`
    skip_postgresql_only(items, make_url(settings["db_url"] or "").get_backend_name())
    _misuse.find_misuse(items)
    # A test marked fastsuite_db gets the database (its scope, the app's session factory and
    # the factories sent there) even if it asks for no fixture, or only for db_engine.
    for item in items:
        fixturenames: list[str] = getattr(item, "fixturenames", [])
        if item.get_closest_marker("fastsuite_db") and "db_session" not in fixturenames:
            fixturenames.append("db_session")
        elif "db_engine" in fixturenames and "_fastsuite_test" not in fixturenames:
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
    targets = config.stash.get(targets_key, None)
    if targets is not None:
        sessions = targets.sessions.describe() if targets.sessions else SESSIONS_FROM_ROUTES
        lines.append(f"  session: {sessions}")
        serving = describe_serving(targets.session_dependency, targets.sessionmaker_where)
        if serving is not None:
            lines.append(f"  session dependency: {serving}")
    return ["fastsuite:", *lines, *_loop_scopes.header_lines(config)]


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
    process = getattr(item, "funcargs", {}).get("_fastsuite_process")
    _anyio.warn_of_unapplied_backend_options(item, process.loop if process else None)
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
    if report.failed and "_fastsuite_test" in getattr(item, "fixturenames", ()):
        log = item.config.stash.get(QUERY_LOG_KEY, None)
        if log is not None and log.total:
            report.sections.append((f"Captured SQL {report.when}", log.report()))
    return report
