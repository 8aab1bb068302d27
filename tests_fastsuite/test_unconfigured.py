"""Installed but not configured, fastsuite leaves a project's run alone; `--help` and
`--version` work whatever the configuration; the header says which loop scopes it set."""

from __future__ import annotations

import pytest

# A project that has not configured fastsuite (it is loaded all the same, as an installed
# pytest11 plugin would be); pytest-asyncio's warnings are not turned into errors.
UNCONFIGURED_INI = """
[pytest]
asyncio_mode = auto
addopts = -p pytest_asyncio.plugin -p fastsuite
"""

LOOPS = """
import asyncio

LOOPS = []


async def test_first():
    LOOPS.append(asyncio.get_running_loop())


async def test_second():
    LOOPS.append(asyncio.get_running_loop())
    assert LOOPS[0] is not LOOPS[1], "the two tests shared an event loop"
"""


def test_an_unconfigured_project_keeps_pytest_asyncios_loop_scopes_and_warning(pytester):
    pytester.makefile(".ini", pytest=UNCONFIGURED_INI)
    pytester.makepyfile(test_loops=LOOPS)

    # In a process of its own: pytest-asyncio warns at configure time, through the warnings
    # module, whose registry an in-process run would share with this one.
    result = pytester.runpytest_subprocess("-p", "no:randomly")

    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(
        [
            "asyncio: mode=*AUTO*, asyncio_default_fixture_loop_scope=None, "
            "asyncio_default_test_loop_scope=function",
        ]
    )
    result.stderr.fnmatch_lines(
        ['*The configuration option "asyncio_default_fixture_loop_scope" is unset.']
    )
    result.stdout.no_fnmatch_line("fastsuite:*")


def test_an_unconfigured_project_ignores_stray_fastsuite_environment(pytester, monkeypatch):
    # A FASTSUITE_* variable meant for another project must not stop this one.
    monkeypatch.setenv("FASTSUITE_SCHEMA", "bogus")
    monkeypatch.setenv("FASTSUITE_DB_URL", "not a url")
    pytester.makefile(
        ".ini", pytest=UNCONFIGURED_INI + "asyncio_default_fixture_loop_scope = function\n"
    )
    pytester.makepyfile(test_loops=LOOPS)

    result = pytester.runpytest("-p", "no:randomly")

    result.assert_outcomes(passed=2)


# Importing it would leave a file behind, and fail.
BAD_APP = """
from pathlib import Path

Path("app-was-imported").touch()
raise RuntimeError("this app must not be imported")
"""


@pytest.mark.parametrize(
    "setting",
    [
        "fastsuite_app=bad_app:app",
        "fastsuite_app=no_such_module:app",
        "fastsuite_metadata=no colon",
        "fastsuite_schema=bogus",
    ],
)
def test_help_works_whatever_the_configuration_and_imports_nothing(items_project, setting):
    items_project.makepyfile(bad_app=BAD_APP)

    result = items_project.runpytest("--help", "-o", setting)

    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["fastsuite: FastAPI + SQLAlchemy test harness:"])
    assert result.errlines == []
    assert not (items_project.path / "app-was-imported").exists()


def test_version_works_whatever_the_configuration(items_project):
    items_project.makepyfile(bad_app=BAD_APP)

    result = items_project.runpytest("--version", "-o", "fastsuite_app=bad_app:app")

    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["pytest *"])
    assert not (items_project.path / "app-was-imported").exists()


PROBE = """
async def test_probe(db_session):
    pass
"""


def test_the_header_shows_the_loop_scopes_fastsuite_set_and_where(items_project):
    items_project.makepyfile(test_probe=PROBE)

    result = items_project.runpytest()

    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        [
            "fastsuite:",
            "  app: items_app:app (ini)",
            "*",
            "  asyncio_default_fixture_loop_scope: session "
            "(set by fastsuite: pytest.ini leaves it unset)",
            "  asyncio_default_test_loop_scope: session "
            "(set by fastsuite: pytest.ini leaves it unset)",
        ]
    )


def test_a_loop_scope_the_project_sets_is_kept_and_not_claimed(items_project):
    items_project.makepyfile(test_probe=PROBE)

    result = items_project.runpytest("-o", "asyncio_default_test_loop_scope=session")

    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        ["  asyncio_default_fixture_loop_scope: session (set by fastsuite: *"]
    )
    result.stdout.no_fnmatch_line("  asyncio_default_test_loop_scope: *")


IMPORTS_NOTHING = """
import sys


def test_nothing_of_the_harness_was_imported():
    heavy = ["fastapi", "sqlalchemy", "httpx", "fastsuite.fixtures", "fastsuite._hooks"]
    assert [name for name in heavy if name in sys.modules] == []
    assert "fastsuite.plugin" in sys.modules
"""


@pytest.mark.slow
def test_an_unconfigured_project_pays_nothing_for_the_harness(pytester):
    # A process of its own: the outer run has imported everything already.
    pytester.makefile(".ini", pytest=UNCONFIGURED_INI)
    pytester.makepyfile(test_imports=IMPORTS_NOTHING)

    result = pytester.runpytest_subprocess()

    result.assert_outcomes(passed=1)


def test_the_unconfigured_fixtures_are_the_harness_fixtures_names_and_scopes():
    from fastsuite import _unconfigured, fixtures

    harness = {name: getattr(fixtures, name) for name in fixtures.__all__}
    # capture_on_commit_callbacks needs no configuration: the same in both.
    assert set(harness) == {*_unconfigured.PUBLIC_FIXTURES, "capture_on_commit_callbacks"}
    for name, scope in _unconfigured.PUBLIC_FIXTURES.items():
        assert _fixture_scope(harness[name]) == scope, name
        assert _fixture_scope(getattr(_unconfigured, name)) == scope, name


def _fixture_scope(definition: object) -> str:
    # pytest >= 8.4 wraps fixtures in FixtureFunctionDefinition; earlier ones mark the function.
    marker = getattr(definition, "_fixture_function_marker", None) or getattr(
        definition, "_pytestfixturefunction", None
    )
    assert marker is not None, definition
    scope = marker.scope
    return scope if isinstance(scope, str) else scope.value
