"""Tests that use the harness's fixtures in a way that cannot work, found when they are collected
and failed at setup with one line saying what to change.

PYTEST_DONT_REWRITE: fastsuite-warm preloads this module (see fastsuite._warm.learning).
"""

from __future__ import annotations

import inspect
import os
from typing import Any

import pytest

SYNC_TEST = (
    "fastsuite: {test} is a plain `def` test, but it uses {fixtures} (fastsuite's database "
    "fixtures need an async test): make it `async def {name}(...)`."
)
NOT_RUN_BY_PYTEST_ASYNCIO = (
    "fastsuite: {test} is async, but pytest-asyncio runs only the async tests marked "
    "@pytest.mark.asyncio (asyncio_mode = {mode}): add asyncio_mode = auto to the pytest "
    "configuration ([tool.pytest.ini_options] in pyproject.toml, or pytest.ini)."
)
RUN_BY_ANYIO_ON_ITS_OWN_LOOP = (
    "fastsuite: {test} is marked anyio, and pytest-asyncio (asyncio_mode = {mode}) leaves it to "
    "anyio's plugin, which runs it on an event loop of its own, not the one the app and "
    "fastsuite's fixtures share: PostgreSQL's connections (asyncpg) fail there with 'attached "
    "to a different loop', so it would pass on SQLite and fail on PostgreSQL. Add asyncio_mode "
    "= auto to the pytest configuration ([tool.pytest.ini_options] in pyproject.toml, or "
    "pytest.ini): pytest-asyncio then runs anyio-marked tests on the shared loop."
)
NOT_IN_THE_SESSION_LOOP = (
    "fastsuite: {test} runs in a {scope}-scoped event loop ({where}), but the app and "
    "fastsuite's fixtures live in the session's loop: PostgreSQL's connections (asyncpg) fail "
    "there with 'attached to a different loop', so it would pass on SQLite and fail on "
    "PostgreSQL. {fix}"
)
FIXTURE_NOT_IN_THE_SESSION_LOOP = (
    "fastsuite: {test}: its fixture {fixture}{defined} runs in a {scope}-scoped event loop "
    "({where}), but uses fastsuite's fixtures, which live in the session's loop: PostgreSQL's "
    "connections (asyncpg) fail there with 'attached to a different loop', so it would pass on "
    "SQLite and fail on PostgreSQL. {fix}"
)
# The fixtures that need the test to run in the event loop (each is, or opens, async work).
ASYNC_FIXTURES = ("client", "client_factory", "db_session", "db_engine")
_HARNESS_FIXTURES = "fastsuite.fixtures"
# What a test's marks say about who runs it: anyio's pytest plugin runs the tests marked anyio.
_ANYIO = "anyio"

_problem_key = pytest.StashKey[str]()


def find_misuse(items: list[pytest.Item]) -> None:
    """Remember, for each test that cannot work, the message its setup fails with."""
    mode: str | None = None
    for item in items:
        fixturenames: list[str] = getattr(item, "fixturenames", [])
        used = [
            name for name in ASYNC_FIXTURES if name in fixturenames and _harness_serves(item, name)
        ]
        if not used:
            continue
        function = _test_function(item)
        if function is None:
            continue
        name = getattr(item, "originalname", item.name)
        if not inspect.iscoroutinefunction(function):
            # The ones the test names, rather than all that they pull in.
            named = [fixture for fixture in used if fixture in _parameters(function)] or used
            item.stash[_problem_key] = SYNC_TEST.format(
                test=item.nodeid, fixtures=_listed(named), name=name
            )
            continue
        marker = item.get_closest_marker("asyncio")
        if mode is None:
            mode = _asyncio_mode(item.config)
        if marker is not None or mode == "auto":
            problem = _outside_the_session_loop(item, marker) or _fixture_outside_the_session_loop(
                item, strict=mode != "auto"
            )
            if problem is not None:
                item.stash[_problem_key] = problem
            continue
        problem = (
            RUN_BY_ANYIO_ON_ITS_OWN_LOOP
            if item.get_closest_marker(_ANYIO)
            else NOT_RUN_BY_PYTEST_ASYNCIO
        )
        item.stash[_problem_key] = problem.format(test=item.nodeid, mode=mode)


def _outside_the_session_loop(item: pytest.Item, marker: pytest.Mark | None) -> str | None:
    """The message for a test pytest-asyncio runs in a loop other than the session's."""
    asked = None if marker is None else marker.kwargs.get("loop_scope", marker.kwargs.get("scope"))
    if asked is not None:
        where = f'@pytest.mark.asyncio(loop_scope="{asked}")'
        fix = 'Drop its loop_scope (or make it "session").'
        scope = str(asked)
    else:
        try:
            scope = str(item.config.getini("asyncio_default_test_loop_scope") or "function")
        except ValueError:  # a pytest-asyncio without the key runs each test in its own loop
            scope = "function"
        where = f"asyncio_default_test_loop_scope = {scope}"
        fix = (
            "Remove asyncio_default_test_loop_scope from the pytest configuration (or set it "
            "to session)."
        )
    if scope == "session":
        return None
    return NOT_IN_THE_SESSION_LOOP.format(test=item.nodeid, scope=scope, where=where, fix=fix)


def _fixture_outside_the_session_loop(item: pytest.Item, *, strict: bool) -> str | None:
    """The message for a test whose own async fixture uses the harness's fixtures in a loop
    other than the session's (asyncio_default_fixture_loop_scope = function, which
    pytest-asyncio's warning suggests, or a fixture's loop_scope)."""
    info = getattr(item, "_fixtureinfo", None)
    if info is None:
        return None
    try:
        default = item.config.getini("asyncio_default_fixture_loop_scope")
    except ValueError:  # a pytest-asyncio without the key
        default = None
    for name in info.names_closure:
        definitions = info.name2fixturedefs.get(name, ())
        if not definitions:
            continue
        fixture = definitions[-1]
        # pytest-asyncio before 1.0 replaced an async fixture's function by a wrapper at
        # collection (functools.wraps: its loop_scope stays readable).
        function = inspect.unwrap(getattr(fixture.func, "__func__", fixture.func))
        if getattr(function, "__module__", None) == _HARNESS_FIXTURES:
            continue
        if not (inspect.iscoroutinefunction(function) or inspect.isasyncgenfunction(function)):
            continue
        if strict and not getattr(function, "_force_asyncio_fixture", False):
            continue  # strict mode runs only @pytest_asyncio.fixture ones in a loop
        if not _uses_the_harness(info, fixture, set()):
            continue
        # pytest-asyncio before 1.0 wrote the default onto every async fixture it collected, so
        # a loop_scope equal to the default is taken for the default.
        asked = getattr(function, "_loop_scope", None)
        if asked is not None and asked != default:
            where = f'@pytest_asyncio.fixture(loop_scope="{asked}")'
            fix = 'Drop its loop_scope (or make it "session").'
            scope = str(asked)
        else:
            scope = str(fixture.scope if default in (None, "", "fixture-scope") else default)
            where = f"asyncio_default_fixture_loop_scope = {default or 'unset'}"
            fix = (
                "Set asyncio_default_fixture_loop_scope = session in the pytest configuration "
                "(or remove it: fastsuite sets it)."
            )
        if scope == "session":
            continue
        code = getattr(function, "__code__", None)
        defined = f" ({os.path.relpath(code.co_filename)}:{code.co_firstlineno})" if code else ""
        return FIXTURE_NOT_IN_THE_SESSION_LOOP.format(
            test=item.nodeid, fixture=name, defined=defined, scope=scope, where=where, fix=fix
        )
    return None


def _uses_the_harness(info: Any, fixture: Any, seen: set[str]) -> bool:
    """Whether `fixture` requests one of the harness's async fixtures, directly or not."""
    for argname in fixture.argnames:
        if argname in seen:
            continue
        seen.add(argname)
        definitions = info.name2fixturedefs.get(argname, ())
        if not definitions:
            continue
        if argname in ASYNC_FIXTURES and any(
            getattr(d.func, "__module__", None) == _HARNESS_FIXTURES for d in definitions
        ):
            return True
        if _uses_the_harness(info, definitions[-1], seen):
            return True
    return False


def fail_misused(item: pytest.Item) -> None:
    """At a test's setup: fail it with its message, if it has one."""
    problem = item.stash.get(_problem_key, None)
    if problem is not None:
        pytest.fail(problem, pytrace=False)


def _harness_serves(item: pytest.Item, name: str) -> bool:
    """Whether the test gets the harness's `name`, rather than a project fixture of that name
    (a sync `client` of its own, say) that does not build on it."""
    info = getattr(item, "_fixtureinfo", None)
    definitions = info.name2fixturedefs.get(name, ()) if info is not None else ()
    # Innermost first: a definition that requests its own name builds on the next one out.
    for definition in reversed(definitions):
        if getattr(definition.func, "__module__", None) == _HARNESS_FIXTURES:
            return True
        if name not in definition.argnames:
            return False
    return not definitions  # unknown to pytest's fixture info: take the name as the harness's


def _test_function(item: pytest.Item) -> Any:
    function = getattr(item, "obj", None)
    if function is None:
        return None
    # A Hypothesis test is a sync wrapper around the test function.
    inner = getattr(getattr(function, "hypothesis", None), "inner_test", None)
    return inner if inner is not None else function


def _parameters(function: Any) -> list[str]:
    try:
        return list(inspect.signature(function).parameters)
    except (TypeError, ValueError):
        return []


def _asyncio_mode(config: pytest.Config) -> str:
    try:
        mode = config.getoption("asyncio_mode", None) or config.getini("asyncio_mode")
    except ValueError:  # pytest-asyncio is not loaded
        return "unset, pytest-asyncio not loaded"
    return str(getattr(mode, "value", mode) or "strict")


def _listed(names: list[str]) -> str:
    if len(names) == 1:
        return names[0]
    return ", ".join(names[:-1]) + " and " + names[-1]
