"""pytest-asyncio's event-loop scopes, set for configured projects that leave them unset.

The engine, the app and its lifespan live for the whole test session, so tests and fixtures
must run in the session's event loop, or asyncpg/aiosqlite objects end up "attached to a
different loop". A project that sets these ini keys itself keeps its values; a project that
has not configured fastsuite is left alone (pytest-asyncio's defaults and its warning).

PYTEST_DONT_REWRITE: fastsuite-warm preloads this module (see fastsuite._warm.learning).
"""

from __future__ import annotations

from typing import Any

import pytest

SESSION_LOOP_SCOPES = {
    "asyncio_default_fixture_loop_scope": "session",
    "asyncio_default_test_loop_scope": "session",
}

# The scopes this run got from fastsuite (name → value), for the report header.
loop_scopes_key = pytest.StashKey[dict[str, str]]()


def default_to_session_loop(config: pytest.Config) -> None:
    """Give each loop-scope key the session scope, unless the project set it."""
    chosen = {}
    for name, scope in SESSION_LOOP_SCOPES.items():
        if not _set_by_project(config, name):
            # pytest has no public way to give another plugin's ini key a new default: its
            # ini cache, which getini reads first, is the narrowest place to do it.
            config._inicache[name] = scope
            chosen[name] = scope
    config.stash[loop_scopes_key] = chosen


def _set_by_project(config: pytest.Config, name: str) -> bool:
    """Whether the ini file (or `-o name=value`) sets `name`; pytest has no public way to
    tell that from a default."""
    inicfg: Any = getattr(config, "_inicfg", None)  # pytest 9: overrides included
    if inicfg is None:
        inicfg = config.inicfg  # pytest 8
    overrides: Any = getattr(config, "_override_ini", None) or ()  # pytest 8's -o values
    return name in inicfg or any(item.partition("=")[0].strip() == name for item in overrides)


def header_lines(config: pytest.Config) -> list[str]:
    where = config.inipath.name if config.inipath else "the ini file"
    return [
        f"  {name}: {scope} (set by fastsuite: {where} leaves it unset)"
        for name, scope in config.stash.get(loop_scopes_key, {}).items()
    ]
