"""Tests that use the harness's fixtures in a way that cannot work, found when they are collected
and failed at setup with one line saying what to change.

PYTEST_DONT_REWRITE: fastsuite-warm preloads this module (see fastsuite._warm.learning).
"""

from __future__ import annotations

import inspect
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
        if item.get_closest_marker("asyncio"):
            continue
        if mode is None:
            mode = _asyncio_mode(item.config)
        if mode == "auto":
            continue
        problem = (
            RUN_BY_ANYIO_ON_ITS_OWN_LOOP
            if item.get_closest_marker(_ANYIO)
            else NOT_RUN_BY_PYTEST_ASYNCIO
        )
        item.stash[_problem_key] = problem.format(test=item.nodeid, mode=mode)


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
