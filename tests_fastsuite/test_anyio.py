"""`@pytest.mark.anyio` tests with anyio's plugin on, beside pytest-asyncio's, on the usual keys."""

from __future__ import annotations

import pytest
from postgresql_server import POSTGRESQL_URL, requires_postgresql

DATABASES = {
    "sqlite": [],
    "sqlite-aiosqlite": ["--fastsuite-sqlite-driver=aiosqlite"],
    "postgresql": pytest.param(
        [f"--fastsuite-db-url={POSTGRESQL_URL}"], marks=[requires_postgresql, pytest.mark.slow]
    ),
}


@pytest.fixture
def anyio_project(items_project: pytest.Pytester) -> pytest.Pytester:
    items_project.copy_example("anyio_style")
    return items_project


@pytest.mark.parametrize("database", DATABASES.values(), ids=DATABASES.keys())
@pytest.mark.parametrize("backend_fixture", ["anyio-default", "fastapi-docs"])
def test_anyio_and_pytest_asyncio_tests_share_the_harness_fixtures(
    anyio_project, database, backend_fixture
):
    if backend_fixture == "fastapi-docs":
        anyio_project.path.joinpath("conftest_docs.py").rename(anyio_project.path / "conftest.py")

    # The anyio-style tests run first: the harness's session fixtures start inside one of them.
    result = anyio_project.runpytest(
        "-p",
        "anyio.pytest_plugin",
        "-v",
        "test_anyio_style.py",
        "test_asyncio_style.py",
        *database,
    )

    result.assert_outcomes(passed=6)
    if backend_fixture == "anyio-default":  # anyio's own, parametrized by backend
        result.stdout.fnmatch_lines(["*test_the_app_sees_what_the_test_wrote?asyncio? PASSED*"])
    result.stdout.no_fnmatch_line("*ScopeMismatch*")


@pytest.mark.parametrize("database", DATABASES.values(), ids=DATABASES.keys())
def test_anyio_tests_left_to_anyios_loop_fail_on_every_database_naming_the_fix(
    anyio_project, database
):
    # rhoboro/async-fastapi-sqlalchemy: anyio-marked tests, pytest-asyncio in strict mode. anyio
    # ran them on a loop of its own: they passed on the in-memory SQLite, and on PostgreSQL 10
    # of its 11 failed with "attached to a different loop".
    # In a process of its own: on the lowest versions (pytest 8.2, pytest-asyncio 0.26) such a
    # run leaves an event loop unclosed, which this process's `filterwarnings = error` would
    # report in a later test.
    result = anyio_project.runpytest_subprocess(
        "-p", "anyio.pytest_plugin", "-o", "asyncio_mode=strict", "test_anyio_style.py", *database
    )

    result.assert_outcomes(passed=1, errors=3)  # the one that takes none of the fixtures passes
    result.stdout.fnmatch_lines(
        [
            "*fastsuite: test_anyio_style.py::test_the_app_sees_what_the_test_wrote* is marked "
            "anyio, and pytest-asyncio (asyncio_mode = strict) leaves it to anyio's plugin, which "
            "runs it on an event loop of its own*Add asyncio_mode = auto to the pytest "
            "configuration*"
        ]
    )
    result.stdout.no_fnmatch_line("*got Future*")
