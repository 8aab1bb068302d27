"""The pytest plugin's entry point: options and the start-up's costs, for every run.

Loaded through the `pytest11` entry point (or `-p fastsuite`). It imports nothing heavy: once
the settings are read, a project that uses fastsuite gets the harness (fastsuite._hooks, its
hooks, and fastsuite.fixtures) registered; one that does not gets only the fixtures' names
(fastsuite._unconfigured), and its runs pay nothing for FastAPI, SQLAlchemy or httpx.

PYTEST_DONT_REWRITE: fastsuite-warm preloads this module (see fastsuite._warm.learning).
"""

from __future__ import annotations

import sys
import types
from typing import TYPE_CHECKING

import pytest

from fastsuite import _startup, _unconfigured
from fastsuite._config import add_options, resolve_settings
from fastsuite._markers import MARKERS

if TYPE_CHECKING:
    from fastsuite._blocker import ConnectionBlocker

# The plugin that holds the fixtures: fastsuite.fixtures' or, unconfigured, _unconfigured's.
_FIXTURES = "fastsuite.fixtures"
_AFTER_THE_CONFTESTS = "fastsuite.after_the_conftests"

# Where an unconfigured run inside a configured one (pytester's in-process runs) keeps what it
# pushed onto the connection blocker's stack.
_inner_blocker_key: pytest.StashKey[ConnectionBlocker] = pytest.StashKey()


def pytest_addoption(parser: pytest.Parser) -> None:
    # The earliest hook: the collector stays off until collection ends (fastsuite._startup).
    _startup.begin()
    add_options(parser)


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config: pytest.Config) -> None:
    # Before the first conftest is imported, so its rewritten asserts are cached too.
    if (directory := _startup.bytecode_cache_dir(early_config)) is not None:
        _startup.use_bytecode_cache(early_config, directory)
    # The fixtures' place among the plugins, taken after every installed or -p plugin and before
    # the project's conftests: a fixture of the same name from a plugin module a conftest lists
    # (pytest_plugins) is registered later and wins, as the project means it to; one of another
    # installed plugin (pytest-django's `client`) loses. Which fixtures fill the place is known
    # at configure; pytest reads them when the session starts.
    early_config.pluginmanager.register(types.ModuleType(_FIXTURES), _FIXTURES)
    early_config.pluginmanager.register(_AfterTheConftests(), _AFTER_THE_CONFTESTS)


class _AfterTheConftests:
    """The second half of a configured run's pytest_configure, after the conftests' hooks:
    the environment or settings they set up there are what the app reads when imported."""

    @pytest.hookimpl(trylast=True)
    def pytest_configure(self, config: pytest.Config) -> None:
        if config.pluginmanager.has_plugin("fastsuite._hooks"):
            from fastsuite import _hooks

            _hooks.configure_targets(config)


def _serve_fixtures(config: pytest.Config, source: types.ModuleType) -> None:
    place = config.pluginmanager.get_plugin(_FIXTURES)
    if place is None:  # blocked: -p no:fastsuite.fixtures
        return
    for name in dir(source):
        if not name.startswith("__"):
            setattr(place, name, getattr(source, name))


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    for line in MARKERS:
        config.addinivalue_line("markers", line)
    # Loaded by a conftest (pytest_plugins): after the place was to be taken; take it now.
    loaded_by_a_conftest = not config.pluginmanager.has_plugin(_AFTER_THE_CONFTESTS)
    if loaded_by_a_conftest:
        config.pluginmanager.register(types.ModuleType(_FIXTURES), _FIXTURES)
    settings = resolve_settings(config)
    if settings.configured:
        from fastsuite import _hooks, fixtures

        _serve_fixtures(config, fixtures)
        config.pluginmanager.register(_hooks, "fastsuite._hooks")
        _hooks.configure(config, settings)
        if loaded_by_a_conftest:
            _hooks.configure_targets(config)  # the conftests are loaded already
        return
    # Installed, not used by this project: leave its run alone.
    _startup.cancel()
    _serve_fixtures(config, _unconfigured)
    if "fastsuite._blocker" in sys.modules:
        # A configured run in this process (pytester's in-process runs) blocks connections:
        # this one, which is not the harness's, must not be blocked by it.
        from fastsuite import _blocker

        config.stash[_inner_blocker_key] = _blocker.start(enabled=False, allowed=None, where="")


@pytest.hookimpl(tryfirst=True)
def pytest_runtestloop(session: pytest.Session) -> None:
    # After collection (which an xdist controller skips), before the first test.
    _startup.finish()


def pytest_collection_modifyitems(session: pytest.Session, items: list[pytest.Item]) -> None:
    # Unconfigured, a test that takes fastsuite's fixtures stops the run in one line (an xdist
    # worker's UsageError would crash it: there, the fixtures fail instead).
    configured = session.config.pluginmanager.has_plugin("fastsuite._hooks")
    if not configured and not hasattr(session.config, "workerinput"):
        _unconfigured.refuse_fastsuite_tests(items)


def pytest_sessionstart(session: pytest.Session) -> None:
    # Configuration is over: what it built lives as long as the process.
    _startup.freeze()


def pytest_unconfigure(config: pytest.Config) -> None:
    _startup.finish()
    _startup.restore_bytecode_settings(config)
    blocker = config.stash.get(_inner_blocker_key, None)
    if blocker is not None:
        from fastsuite import _blocker

        _blocker.stop(blocker)
