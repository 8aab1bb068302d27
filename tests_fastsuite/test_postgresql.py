"""PostgreSQL mode: a database per test process, copied from a template built once per run."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from postgresql_server import (
    POSTGRESQL_URL,
    advisory_lock_held,
    database_of_its_own,
    databases_made_beside,
    requires_postgresql,
    sql,
    url_with,
)

# Each test provisions real databases, several in subprocesses: seconds each (`-m slow`).
pytestmark = pytest.mark.slow

WHERE_AM_I = """
import os
from pathlib import Path

import pytest
from sqlalchemy import text


@pytest.mark.parametrize("n", range(4))
async def test_records_its_database(db_session, n):
    name = await db_session.scalar(text("SELECT current_database()"))
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    with Path("databases.txt").open("a") as record:  # in the project's folder
        record.write(f"{worker} {name}\\n")
    await db_session.execute(text("INSERT INTO authors (name) VALUES (:name)"), {"name": str(n)})
    count = await db_session.scalar(text("SELECT count(*) FROM authors"))
    assert count == 1  # each test alone in its transaction
"""

FAILED_STATEMENT = """
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError


async def test_a_failed_statement_in_a_savepoint_is_rolled_back_to_it(db_session):
    with pytest.raises(DBAPIError):
        async with db_session.begin_nested():
            await db_session.execute(text("SELECT 1 / 0"))
    assert await db_session.scalar(text("SELECT 1")) == 1
"""

MARKED = """
import pytest


@pytest.mark.postgresql_only(reason="varchar lengths")
def test_only_on_postgresql():
    pass


def test_everywhere():
    pass
"""

WRONG_KEYWORD = """
import pytest


@pytest.mark.postgresql_only(because="typo")
def test_marked():
    pass
"""


@pytest.fixture
def notes_project(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.copy_example("notes_app")
    return pytester


@pytest.fixture
def server_database() -> Iterator[str]:
    """A database of this test's own on the server: its runs make theirs beside it."""
    with database_of_its_own() as name:
        yield name


def recorded_databases(project: pytest.Pytester) -> dict[str, set[str]]:
    """worker -> the databases its tests ran on."""
    seen: dict[str, set[str]] = {}
    for line in (project.path / "databases.txt").read_text().splitlines():
        worker, name = line.split()
        seen.setdefault(worker, set()).add(name)
    return seen


@requires_postgresql
@pytest.mark.parametrize("schema", ["metadata", "migrations"])
def test_each_worker_gets_its_own_database_and_the_run_drops_them(
    notes_project, server_database, schema
):
    notes_project.makepyfile(test_where=WHERE_AM_I)

    result = notes_project.runpytest_subprocess(
        f"--fastsuite-db-url={url_with(server_database)}",
        f"--fastsuite-schema={schema}",
        "-p",
        "xdist",
        "-n",
        "2",
    )

    result.assert_outcomes(passed=4)
    seen = recorded_databases(notes_project)
    assert set(seen) == {"gw0", "gw1"}, result.stdout.str()
    assert all(len(names) == 1 for names in seen.values())
    assert seen["gw0"] != seen["gw1"]
    pattern = rf"{server_database}_fs[0-9a-f]{{8}}_gw\d"
    assert all(re.fullmatch(pattern, name) for (name,) in seen.values())
    assert databases_made_beside(server_database) == set()


@requires_postgresql
def test_a_serial_run_uses_the_database_it_built_and_drops_it(notes_project, server_database):
    notes_project.makepyfile(test_where=WHERE_AM_I)

    result = notes_project.runpytest(f"--fastsuite-db-url={url_with(server_database)}")

    result.assert_outcomes(passed=4)
    ((name,),) = recorded_databases(notes_project).values()
    assert re.fullmatch(rf"{server_database}_fs[0-9a-f]{{8}}_main", name)
    assert databases_made_beside(server_database) == set()


# pg_advisory_lock(class, run id): what a live run holds (fastsuite._provision_postgresql).
RUN_LOCK_CLASS = 0x6673


@pytest.fixture
def leftovers(server_database):
    """Databases as ended and live runs leave them, and one that fastsuite did not create."""
    names = {
        "ended": f"{server_database}_fs0000dead_gw0",
        "live": f"{server_database}_fs0000a11e_gw0",
        "not fastsuite's": f"{server_database}_fs0000beef_gw0",
    }
    for name in names.values():
        sql(f"CREATE DATABASE {name}")
    for run in ("ended", "live"):
        run_id = names[run].split("_fs")[1][:8]
        note = f"fastsuite run {run_id} via {server_database}"
        sql(f"COMMENT ON DATABASE {names[run]} IS '{note}'")
    yield names
    for name in names.values():
        sql(f"DROP DATABASE IF EXISTS {name}")


@requires_postgresql
def test_a_run_drops_what_ended_runs_left_and_nothing_else(
    notes_project, server_database, leftovers
):
    notes_project.makepyfile(test_where=WHERE_AM_I)

    with advisory_lock_held(RUN_LOCK_CLASS, 0x0000A11E, database=server_database):
        result = notes_project.runpytest(f"--fastsuite-db-url={url_with(server_database)}")

    result.assert_outcomes(passed=4)
    assert databases_made_beside(server_database) == {
        leftovers["live"],
        leftovers["not fastsuite's"],
    }


@requires_postgresql
def test_a_failed_statement_does_not_poison_the_tests_transaction(notes_project):
    # The SAVEPOINT it ran in wrote nothing, but after an error PostgreSQL accepts only a
    # rollback to it: the harness must not release it as it does read-only ones.
    notes_project.makepyfile(test_failed=FAILED_STATEMENT)

    result = notes_project.runpytest(f"--fastsuite-db-url={POSTGRESQL_URL}")

    result.assert_outcomes(passed=1)


def test_postgresql_only_tests_are_skipped_on_sqlite(pytester):
    pytester.copy_example("notes_app")
    pytester.makepyfile(test_marked=MARKED)

    result = pytester.runpytest("-rs")

    result.assert_outcomes(passed=1, skipped=1)
    result.stdout.fnmatch_lines(
        [
            "SKIPPED [[]1[]] test_marked.py:4: runs on PostgreSQL only (varchar lengths); run the "
            "suite with --fastsuite-db-url=postgresql+asyncpg://.../app_test to run it"
        ]
    )


@requires_postgresql
def test_postgresql_only_tests_run_on_postgresql(notes_project):
    notes_project.makepyfile(test_marked=MARKED)

    result = notes_project.runpytest(f"--fastsuite-db-url={POSTGRESQL_URL}")

    result.assert_outcomes(passed=2)


def test_a_wrong_keyword_of_postgresql_only_is_a_type_error(notes_project):
    notes_project.makepyfile(test_marked=WRONG_KEYWORD)

    result = notes_project.runpytest()

    assert result.ret == pytest.ExitCode.INTERNAL_ERROR
    result.stdout.fnmatch_lines(["*TypeError: _postgresql_only() got an unexpected keyword*"])
