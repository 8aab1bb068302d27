"""The connection blocker: during a run, SQLAlchemy connects only to the run's own databases;
and the database only where a test asked for it.
"""

from __future__ import annotations

import pytest

REFUSED = (
    "fastsuite: refused a connection to {url} in {test} (call) (opened by {function}() at "
    "test_own_engines.py:{line}): during a test run SQLAlchemy may connect only to the run's "
    "test databases. Route the app's code through its session dependency "
    "(fastsuite_session_dependency) or its sessionmaker (fastsuite_sessionmaker), and a test's "
    "through the db_session, client, client_factory or db_engine fixture (or "
    "@pytest.mark.fastsuite_db); or allow this database in fastsuite_allow_db_urls "
    "(--fastsuite-allow-db-urls)."
)
NOT_ASKED = (
    "fastsuite: the app's sessionmaker was used in {test} (call), which did not ask for the "
    "database: request the db_session, client or client_factory fixture (or a seed fixture: "
    "module_db_session, class_db_session), or mark the test @pytest.mark.fastsuite_db."
)

OWN_ENGINES = """
from sqlalchemy import create_engine, text
from sqlalchemy.ext.asyncio import create_async_engine

import items_app


async def test_the_apps_own_engine(db_session):
    async with items_app.engine.connect() as connection:
        await connection.execute(text("SELECT 1"))


def test_a_sync_engine_of_its_own():
    with create_engine("sqlite:///sync-own.db").connect() as connection:
        connection.execute(text("SELECT 1"))


async def test_an_async_engine_of_its_own():
    engine = create_async_engine("sqlite+aiosqlite:///async-own.db")
    async with engine.connect() as connection:
        await connection.execute(text("SELECT 1"))


async def test_a_postgresql_server():
    # Port 1: a connection attempt would fail with the driver's own "connection refused".
    engine = create_async_engine("postgresql+asyncpg://app:secret@127.0.0.1:1/production")
    async with engine.connect() as connection:
        await connection.execute(text("SELECT 1"))
"""


def test_connections_to_other_databases_are_refused_before_they_open(items_project):
    items_project.makepyfile(test_own_engines=OWN_ENGINES)

    result = items_project.runpytest()

    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.assert_outcomes(failed=4)
    root = items_project.path
    result.stdout.fnmatch_lines(
        [
            REFUSED.format(
                url=f"sqlite+aiosqlite:///{root}/never-touched-by-tests.db",
                test="test_own_engines.py::test_the_apps_own_engine",
                function="test_the_apps_own_engine",
                line=8,
            ),
            REFUSED.format(
                url=f"sqlite+pysqlite:///{root}/sync-own.db",
                test="test_own_engines.py::test_a_sync_engine_of_its_own",
                function="test_a_sync_engine_of_its_own",
                line=13,
            ),
            REFUSED.format(
                url=f"sqlite+aiosqlite:///{root}/async-own.db",
                test="test_own_engines.py::test_an_async_engine_of_its_own",
                function="test_an_async_engine_of_its_own",
                line=19,
            ),
            REFUSED.format(
                url="postgresql+asyncpg://app:***@127.0.0.1:1/production",
                test="test_own_engines.py::test_a_postgresql_server",
                function="test_a_postgresql_server",
                line=26,
            ),
        ],
        consecutive=False,
    )
    assert "Traceback" not in result.stdout.str()
    # Refused before the driver was called: no SQLite file was created.
    for name in ("never-touched-by-tests.db", "sync-own.db", "async-own.db"):
        assert not (root / name).exists(), name


ALLOWED = """
from sqlalchemy import create_engine, text


def test_an_allowed_database():
    engine = create_engine("sqlite:///reports_test.db")
    with engine.connect() as connection:
        assert connection.execute(text("SELECT 1")).scalar() == 1
    engine.dispose()  # Python 3.13 warns of a sqlite3 connection left to the collector
"""


@pytest.mark.parametrize("source", ["option", "env", "ini"])
def test_an_allowed_database_may_be_used(items_project, monkeypatch, source):
    items_project.makepyfile(test_allowed=ALLOWED)
    urls = "postgresql://localhost/analytics_*, sqlite:///reports_*.db"
    args = []
    if source == "option":
        args = [f"--fastsuite-allow-db-urls={urls}"]
    elif source == "env":
        monkeypatch.setenv("FASTSUITE_ALLOW_DB_URLS", urls)
    else:
        args = ["-o", f"fastsuite_allow_db_urls={urls}"]

    result = items_project.runpytest(*args)

    result.assert_outcomes(passed=1)
    assert (items_project.path / "reports_test.db").exists()
    result.stdout.fnmatch_lines([f"  allow_db_urls: {urls} ({source})"])


def test_an_allow_list_entry_that_is_no_url_stops_the_run(items_project):
    items_project.makepyfile(test_allowed=ALLOWED)

    result = items_project.runpytest("--fastsuite-allow-db-urls=sqlite:///ok.db not-a-url")

    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            "ERROR: fastsuite: --fastsuite-allow-db-urls=sqlite:///ok.db not-a-url: 'not-a-url' "
            # SQLAlchemy's own words vary by version ("from string 'not-a-url'" before 2.0.3x).
            "is not a database URL (Could not parse SQLAlchemy URL from *); "
            "expected URLs separated by spaces or commas, e.g. sqlite:///var/reports_test.db "
            "postgresql://localhost/analytics_*."
        ]
    )


UNCONFIGURED = """
from sqlalchemy import create_engine, text


def test_a_database_of_its_own():
    engine = create_engine("sqlite:///own.db")
    with engine.connect() as connection:
        connection.execute(text("SELECT 1"))
    engine.dispose()  # Python 3.13 warns of a sqlite3 connection left to the collector
"""


def test_a_project_that_does_not_configure_fastsuite_is_not_blocked(pytester):
    pytester.makeini(
        "[pytest]\naddopts = -p pytest_asyncio.plugin -p fastsuite\n"
        "asyncio_default_fixture_loop_scope = function\n"
    )
    pytester.makepyfile(test_own_database=UNCONFIGURED)

    result = pytester.runpytest()

    result.assert_outcomes(passed=1)
    assert (pytester.path / "own.db").exists()


NO_FIXTURE_AFTER_CLIENT = """
import pytest
from sqlalchemy import func, select

from items_app import Owner, SessionLocal


async def test_1_a_client_test_runs_the_lifespan(client):
    assert (await client.get("/items")).status_code == 200


async def test_2_asks_for_no_database_and_writes(tmp_path):
    async with SessionLocal() as session:
        session.add(Owner(name="not asked"))
        await session.commit()


@pytest.mark.fastsuite_db
async def test_3_the_marker_alone_gives_the_database():
    async with SessionLocal() as session:
        session.add(Owner(name="marked"))
        await session.commit()
        assert await session.scalar(select(func.count()).select_from(Owner)) == 1


async def test_4_the_next_test_finds_nothing(db_session):
    assert await db_session.scalar(select(func.count()).select_from(Owner)) == 0
"""


@pytest.mark.parametrize("driver", ["loop", "aiosqlite"])
def test_a_test_that_asked_for_no_database_cannot_write_to_it(items_project, driver):
    items_project.makepyfile(test_not_asked=NO_FIXTURE_AFTER_CLIENT)

    result = items_project.runpytest("-p", "no:randomly", f"--fastsuite-sqlite-driver={driver}")

    result.assert_outcomes(passed=3, failed=1)
    result.stdout.fnmatch_lines(
        [NOT_ASKED.format(test="test_not_asked.py::test_2_asks_for_no_database_and_writes")]
    )
    assert not (items_project.path / "never-touched-by-tests.db").exists()


def test_run_alone_a_test_that_asked_for_no_database_is_refused(items_project):
    items_project.makepyfile(test_not_asked=NO_FIXTURE_AFTER_CLIENT)

    result = items_project.runpytest("-k", "test_2")

    result.assert_outcomes(failed=1, deselected=3)
    result.stdout.fnmatch_lines(
        [NOT_ASKED.format(test="test_not_asked.py::test_2_asks_for_no_database_and_writes")]
    )
    assert not (items_project.path / "never-touched-by-tests.db").exists()
