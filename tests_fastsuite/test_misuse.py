"""Tests that use the harness's fixtures in a way that cannot work fail at setup with one line
saying what to change."""

from __future__ import annotations

import pytest
from postgresql_server import on_sqlite_and_postgresql

SYNC_TESTS = """
def test_sync_client(client):
    client.get("/items")


def test_sync_client_factory(client_factory):
    pass


def test_sync_session(db_session, db_engine):
    pass


def test_sync_engine(db_engine):
    pass


async def test_async(db_session):
    pass
"""
SYNC_TEST = (
    "fastsuite: test_sync.py::{name} is a plain `def` test, but it uses {fixtures} "
    "(fastsuite's database fixtures need an async test): make it `async def {name}(...)`."
)


def test_a_sync_test_taking_a_database_fixture_fails_at_setup(items_project):
    items_project.makepyfile(test_sync=SYNC_TESTS)

    result = items_project.runpytest("-p", "no:randomly")

    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.assert_outcomes(passed=1, errors=4)
    result.stdout.fnmatch_lines(
        [
            "*ERROR at setup of test_sync_client*",
            SYNC_TEST.format(name="test_sync_client", fixtures="client"),
            "*ERROR at setup of test_sync_client_factory*",
            SYNC_TEST.format(name="test_sync_client_factory", fixtures="client_factory"),
            "*ERROR at setup of test_sync_session*",
            SYNC_TEST.format(name="test_sync_session", fixtures="db_session and db_engine"),
            "*ERROR at setup of test_sync_engine*",
            SYNC_TEST.format(name="test_sync_engine", fixtures="db_engine"),
        ]
    )
    assert "coroutine" not in result.stdout.str()


STRICT_MODE = """
import pytest


async def test_unmarked(db_session):
    pass


@pytest.mark.asyncio
async def test_marked(db_session):
    pass


async def test_without_fastsuite_fixtures_is_left_to_pytest():
    pass
"""
NOT_AUTO = (
    "fastsuite: test_strict.py::test_unmarked is async, but pytest-asyncio runs only the async "
    "tests marked @pytest.mark.asyncio (asyncio_mode = strict): add asyncio_mode = auto to the "
    "pytest configuration ([tool.pytest.ini_options] in pyproject.toml, or pytest.ini)."
)


@pytest.mark.parametrize("how", [["-o", "asyncio_mode=strict"], ["--asyncio-mode=strict"]])
def test_without_auto_mode_an_async_test_is_told_which_setting_to_add(items_project, how):
    items_project.makepyfile(test_strict=STRICT_MODE)

    result = items_project.runpytest("-p", "no:randomly", "-W", "ignore", *how)

    assert result.ret == pytest.ExitCode.TESTS_FAILED
    # The async test without fastsuite's fixtures: pytest 9 fails an async test no plugin
    # runs, pytest 8 skips it with a warning.
    left_to_pytest = {"failed": 1} if int(pytest.__version__.split(".")[0]) >= 9 else {"skipped": 1}
    result.assert_outcomes(passed=1, errors=1, **left_to_pytest)
    result.stdout.fnmatch_lines(["*ERROR at setup of test_unmarked*", NOT_AUTO])


OWN_SYNC_CLIENT = """
import pytest


class OwnClient:
    # The project's own sync client (a TestClient, say), kept while it ports to fastsuite.
    def get(self, path):
        return path


@pytest.fixture
def client():
    return OwnClient()
"""
WRAPPED_CLIENT = """
import pytest


@pytest.fixture
def client(client):
    client.headers["X-Wrapped"] = "yes"
    return client
"""
SYNC_CLIENT_TEST = """
def test_sync_client(client):
    assert client.get("/items") == "/items"
"""


def test_a_sync_test_with_a_project_client_of_its_own_is_left_alone(items_project):
    # A project porting step by step keeps its TestClient fixture named `client`: the name is
    # the project's there, not the harness's.
    items_project.makeconftest(OWN_SYNC_CLIENT)
    items_project.makepyfile(test_own_client=SYNC_CLIENT_TEST)

    result = items_project.runpytest("-p", "no:randomly")

    result.assert_outcomes(passed=1)


def test_a_sync_test_with_a_project_client_wrapping_the_harness_one_still_fails_at_setup(
    items_project,
):
    items_project.makeconftest(WRAPPED_CLIENT)
    items_project.makepyfile(test_wrapped_client=SYNC_CLIENT_TEST)

    result = items_project.runpytest("-p", "no:randomly")

    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [
            "fastsuite: test_wrapped_client.py::test_sync_client is a plain `def` test, but it "
            "uses client (fastsuite's database fixtures need an async test): make it "
            "`async def test_sync_client(...)`."
        ]
    )


OTHER_LOOPS = """
import pytest


async def test_by_the_default(client):
    assert (await client.get("/items")).status_code == 200


@pytest.mark.asyncio(loop_scope="module")
async def test_by_its_marker(db_session):
    pass


@pytest.mark.asyncio(loop_scope="session")
async def test_in_the_session_loop(client):
    assert (await client.get("/items")).status_code == 200


async def test_without_the_database():
    pass
"""
OTHER_LOOP = (
    "fastsuite: test_other_loops.py::{name} runs in a {scope}-scoped event loop ({where}), but "
    "the app and fastsuite's fixtures live in the session's loop: PostgreSQL's connections "
    "(asyncpg) fail there with 'attached to a different loop', so it would pass on SQLite and "
    "fail on PostgreSQL. {fix}"
)


@on_sqlite_and_postgresql
def test_a_test_in_another_loop_than_the_sessions_fails_at_setup_on_every_database(
    items_project, database
):
    # A project that sets asyncio_default_test_loop_scope = function (pytest-asyncio's default)
    # ran on the in-memory SQLite, whose driver never waits on the loop, and failed on
    # PostgreSQL with "attached to a different loop".
    items_project.makepyfile(test_other_loops=OTHER_LOOPS)

    result = items_project.runpytest(
        "-p", "no:randomly", "-o", "asyncio_default_test_loop_scope=function", *database
    )

    result.assert_outcomes(passed=2, errors=2)
    result.stdout.fnmatch_lines(
        [
            OTHER_LOOP.format(
                name="test_by_the_default",
                scope="function",
                where="asyncio_default_test_loop_scope = function",
                fix="Remove asyncio_default_test_loop_scope from the pytest configuration (or "
                "set it to session).",
            ),
            OTHER_LOOP.format(
                name="test_by_its_marker",
                scope="module",
                where='@pytest.mark.asyncio(loop_scope="module")',
                fix='Drop its loop_scope (or make it "session").',
            ),
        ]
    )
    result.stdout.no_fnmatch_line("*got Future*")


FIXTURES_IN_OTHER_LOOPS = """
import pytest
import pytest_asyncio
from items_factories import ItemFactory


@pytest.fixture
async def two_items(db_session):
    return await ItemFactory.acreate_batch(2)


@pytest_asyncio.fixture(loop_scope="function")
async def one_item(client):
    return await ItemFactory.acreate()


@pytest_asyncio.fixture(loop_scope="session")
async def three_items(db_session):
    return await ItemFactory.acreate_batch(3)


@pytest.fixture
async def greeting():
    return "hello"


async def test_by_the_default(client, two_items):
    pass


async def test_by_its_loop_scope(one_item):
    pass


async def test_in_the_session_loop(client, three_items, greeting):
    assert len((await client.get("/items")).json()) == 3
"""
FIXTURE_IN_OTHER_LOOP = (
    "fastsuite: test_fixture_loops.py::{test}: its fixture {fixture} (test_fixture_loops.py:*) "
    "runs in a {scope}-scoped event loop ({where}), but uses fastsuite's fixtures, which live "
    "in the session's loop: PostgreSQL's connections (asyncpg) fail there with 'attached to a "
    "different loop', so it would pass on SQLite and fail on PostgreSQL. {fix}"
)


@on_sqlite_and_postgresql
def test_a_projects_fixture_in_another_loop_than_the_sessions_fails_its_tests_at_setup(
    items_project, database
):
    # pytest-asyncio's warning about an unset asyncio_default_fixture_loop_scope suggests
    # `function` (any scope but the session's does the same): a project's async fixture seeding
    # through db_session then ran in a loop of its own, which passed on the in-memory SQLite and
    # failed on PostgreSQL.
    items_project.makepyfile(test_fixture_loops=FIXTURES_IN_OTHER_LOOPS)

    result = items_project.runpytest(
        "-p", "no:randomly", "-o", "asyncio_default_fixture_loop_scope=module", *database
    )

    result.assert_outcomes(passed=1, errors=2)
    result.stdout.fnmatch_lines(
        [
            FIXTURE_IN_OTHER_LOOP.format(
                test="test_by_the_default",
                fixture="two_items",
                scope="module",
                where="asyncio_default_fixture_loop_scope = module",
                fix="Set asyncio_default_fixture_loop_scope = session in the pytest "
                "configuration (or remove it: fastsuite sets it).",
            ),
            FIXTURE_IN_OTHER_LOOP.format(
                test="test_by_its_loop_scope",
                fixture="one_item",
                scope="function",
                where='@pytest_asyncio.fixture(loop_scope="function")',
                fix='Drop its loop_scope (or make it "session").',
            ),
        ]
    )
    result.stdout.no_fnmatch_line("*got Future*")
