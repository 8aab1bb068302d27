"""A configuration error stops the run at start, in one line, with exit code 4, whatever
fixture the first test takes; none shows a traceback through the harness."""

from __future__ import annotations

import pytest

# What a first test may take: every public fixture that needs the configuration.
FIXTURES = [
    "db_session",
    "client",
    "client_factory",
    "app",
    "db_engine",
    "module_db_session",
    "class_db_session",
    "assert_num_queries",
    "assert_max_queries",
]

APP_NOT_SET = (
    "fastsuite: fastsuite_app is not set; set it in the [tool.pytest.ini_options] (or "
    'pytest.ini) of your project to "module:attr" of a FastAPI app or a factory returning one.'
)
NOT_CONFIGURED = (
    "fastsuite: test_first.py::{test} uses {what}, but fastsuite is not configured: set "
    "fastsuite_app, fastsuite_metadata and fastsuite_session_dependency in your pytest "
    "configuration ([tool.pytest.ini_options] or pytest.ini)."
)

UNCONFIGURED_INI = """
[pytest]
asyncio_mode = auto
asyncio_default_fixture_loop_scope = function
addopts = -p pytest_asyncio.plugin -p fastsuite
filterwarnings = error
"""


def _first_test(fixture: str) -> str:
    return f"""
async def test_first({fixture}):
    pass


async def test_second():
    pass
"""


def assert_stopped_with_one_line(result: pytest.RunResult, line: str) -> None:
    """The run stopped at start (usage error) with `line` as its only error, no traceback."""
    output = result.stdout.str() + result.stderr.str()
    assert result.ret == pytest.ExitCode.USAGE_ERROR, output
    assert [text for text in result.errlines if text.startswith("ERROR:")] == [f"ERROR: {line}"]
    assert "Traceback" not in output
    assert "INTERNALERROR" not in output
    assert " passed" not in output


@pytest.mark.parametrize("fixture", FIXTURES)
def test_fastsuite_app_missing_stops_the_run_whatever_the_first_fixture(items_project, fixture):
    items_project.makepyfile(test_first=_first_test(fixture))

    result = items_project.runpytest("-o", "fastsuite_app=")

    assert_stopped_with_one_line(result, APP_NOT_SET)


@pytest.mark.parametrize("fixture", FIXTURES)
def test_fixtures_of_an_unconfigured_project_stop_the_run(pytester, fixture):
    pytester.makefile(".ini", pytest=UNCONFIGURED_INI)
    pytester.makepyfile(test_first=_first_test(fixture))

    result = pytester.runpytest()

    assert_stopped_with_one_line(
        result, NOT_CONFIGURED.format(test="test_first", what=f"fastsuite's {fixture} fixture")
    )


def test_the_database_marker_of_an_unconfigured_project_stops_the_run(pytester):
    pytester.makefile(".ini", pytest=UNCONFIGURED_INI)
    pytester.makepyfile(
        test_first="""
import pytest


@pytest.mark.fastsuite_db(transaction=True)
async def test_marked():
    pass
"""
    )

    result = pytester.runpytest()

    assert_stopped_with_one_line(
        result, NOT_CONFIGURED.format(test="test_marked", what="the fastsuite_db marker")
    )


def test_an_unconfigured_projects_own_fixtures_of_the_same_names_are_its_own(pytester):
    pytester.makefile(".ini", pytest=UNCONFIGURED_INI)
    pytester.makeconftest(
        """
import pytest


@pytest.fixture
def db_session():
    return "the project's session"


@pytest.fixture
def client():
    return "the project's client"
"""
    )
    pytester.makepyfile(
        test_first="""
async def test_own(db_session, client):
    assert (db_session, client) == ("the project's session", "the project's client")
"""
    )

    result = pytester.runpytest()

    result.assert_outcomes(passed=1)


FAILING_FACTORY = """
def make_app():
    raise ValueError("SECRET_KEY is not set")
"""


@pytest.mark.parametrize("fixture", ["client", "app", "client_factory"])
def test_an_app_factory_that_fails_stops_the_run_in_one_line(items_project, fixture):
    items_project.makepyfile(failing_factory=FAILING_FACTORY, test_first=_first_test(fixture))

    result = items_project.runpytest("-o", "fastsuite_app=failing_factory:make_app")

    output = result.stdout.str() + result.stderr.str()
    assert result.ret == pytest.ExitCode.USAGE_ERROR, output
    result.stdout.fnmatch_lines(
        [
            "!* _pytest.outcomes.Exit: fastsuite: fastsuite_app = failing_factory:make_app (ini) "
            "is a factory, and calling it failed: ValueError('SECRET_KEY is not set'). It must "
            "return a FastAPI app when called without arguments. !*"
        ]
    )
    assert "Traceback" not in output
    assert " passed" not in output


@pytest.mark.slow
def test_with_xdist_fastsuite_app_missing_stops_the_run_in_the_controller(items_project):
    items_project.makepyfile(test_first=_first_test("db_session"))

    result = items_project.runpytest_subprocess("-p", "xdist", "-n", "2", "-o", "fastsuite_app=")

    assert_stopped_with_one_line(result, APP_NOT_SET)


@pytest.mark.slow
def test_with_xdist_fixtures_of_an_unconfigured_project_fail_in_one_line(pytester):
    # The workers collect, and a worker cannot stop the run: each test that takes the
    # fixtures fails at setup with the message, and the others run.
    pytester.makefile(".ini", pytest=UNCONFIGURED_INI)
    pytester.makepyfile(
        test_first="""
async def test_session(db_session):
    pass


async def test_client(client):
    pass


async def test_plain():
    pass
"""
    )

    result = pytester.runpytest_subprocess("-p", "xdist", "-n", "2")

    result.assert_outcomes(errors=2, passed=1)
    line = NOT_CONFIGURED.format(test="{test}", what="fastsuite's fixtures")
    expected = line.replace("test_first.py::{test}", "this test")
    assert result.stdout.lines.count(expected) == 2
    assert "Traceback" not in result.stdout.str() + result.stderr.str()


@pytest.mark.slow
def test_with_xdist_an_app_factory_that_fails_fails_its_tests_in_one_line(items_project):
    items_project.makepyfile(
        failing_factory=FAILING_FACTORY,
        test_first="""
async def test_client(client):
    pass


async def test_session(db_session):
    pass
""",
    )

    result = items_project.runpytest_subprocess(
        "-p", "xdist", "-n", "2", "-o", "fastsuite_app=failing_factory:make_app"
    )

    result.assert_outcomes(errors=1, passed=1)
    result.stdout.fnmatch_lines(
        [
            "fastsuite: fastsuite_app = failing_factory:make_app (ini) is a factory, and calling "
            "it failed: ValueError('SECRET_KEY is not set'). It must return a FastAPI app when "
            "called without arguments."
        ]
    )
    output = result.stdout.str() + result.stderr.str()
    assert "Traceback" not in output
    assert "INTERNALERROR" not in output
