"""Query budgets (assert_num_queries / assert_max_queries) and the "Captured SQL" report section."""

from __future__ import annotations

BUDGETS = """
import pytest
from sqlalchemy import select, text
from items_app import Item


async def test_num_queries_fixture_passes(db_session, assert_num_queries):
    with assert_num_queries(2) as captured:
        await db_session.execute(select(Item))
        await db_session.execute(text("SELECT 1"))
    assert len(captured) == 2


async def test_num_queries_fixture_fails_on_fewer(db_session, assert_num_queries):
    with assert_num_queries(3):
        await db_session.execute(select(Item).where(Item.name == "fewer-param"))


async def test_num_queries_fixture_fails_on_more(db_session, assert_num_queries):
    with assert_num_queries(1):
        await db_session.execute(select(Item).where(Item.name == "first-param"))
        await db_session.execute(select(Item.id).where(Item.name == "second-param"))


async def test_max_queries_fixture_passes(db_session, assert_max_queries):
    with assert_max_queries(2):
        await db_session.execute(select(Item))
    with assert_max_queries(2):
        await db_session.execute(select(Item))
        await db_session.execute(select(Item))


async def test_max_queries_fixture_fails(db_session, assert_max_queries):
    with assert_max_queries(2):
        for name in ("one", "two", "three"):
            await db_session.execute(select(Item).where(Item.name == name))


async def test_transaction_control_is_not_counted(db_session, assert_num_queries):
    with assert_num_queries(1) as captured:
        db_session.add(Item(name="x"))
        await db_session.commit()  # SAVEPOINT/RELEASE are the harness's, not counted
    assert captured.statements[0].startswith("INSERT INTO items")


async def test_app_requests_are_counted(client, assert_num_queries):
    with assert_num_queries(1) as captured:
        await client.get("/items")
    assert captured.statements[0].startswith("SELECT items.name")
"""


def test_query_budget_fixtures_pass_and_fail_with_count_and_statements(items_project):
    items_project.makepyfile(test_budgets=BUDGETS)

    result = items_project.runpytest()

    result.assert_outcomes(passed=4, failed=3)
    result.stdout.fnmatch_lines(
        [
            "*_ test_num_queries_fixture_fails_on_fewer _*",
            "E * AssertionError: Expected 3 queries but 1 were done:",
            "E * 1. SELECT items.id, items.name, items.owner_id * WHERE items.name = ?  "
            "-- parameters: ('fewer-param',)",
            "*_ test_num_queries_fixture_fails_on_more _*",
            "E * AssertionError: Expected 1 queries but 2 were done:",
            "E * 1. SELECT * WHERE items.name = ?  -- parameters: ('first-param',)",
            "E * 2. SELECT items.id * WHERE items.name = ?  -- parameters: ('second-param',)",
            "*_ test_max_queries_fixture_fails _*",
            "E * AssertionError: Expected at most 2 queries but 3 were done:",
            "E * 1. SELECT * -- parameters: ('one',)",
            "E * 2. SELECT * -- parameters: ('two',)",
            "E * 3. SELECT * -- parameters: ('three',)",
        ]
    )


CONTEXT_MANAGERS = """
import pytest
from sqlalchemy import select
from items_app import Item

from fastsuite import CapturedQueries, assert_max_queries, assert_num_queries


async def test_num_queries_imported(db_session):
    with assert_num_queries(1) as captured:
        await db_session.execute(select(Item))
    assert isinstance(captured, CapturedQueries)


async def test_max_queries_imported(client):
    with assert_max_queries(1):
        await client.get("/items")


async def test_num_queries_imported_fails(db_session):
    with assert_num_queries(0):
        await db_session.execute(select(Item).where(Item.name == "unexpected"))


async def test_max_queries_imported_fails(client):
    with assert_max_queries(0):
        await client.post("/items", json={"name": "posted"})
"""


def test_query_budgets_work_as_imported_context_managers(items_project):
    items_project.makepyfile(test_imported_budgets=CONTEXT_MANAGERS)

    result = items_project.runpytest()

    result.assert_outcomes(passed=2, failed=2)
    result.stdout.fnmatch_lines(
        [
            "*_ test_num_queries_imported_fails _*",
            "E * AssertionError: Expected 0 queries but 1 were done:",
            "E * 1. SELECT * -- parameters: ('unexpected',)",
            "*_ test_max_queries_imported_fails _*",
            "E * AssertionError: Expected at most 0 queries but * were done:",
            "E * INSERT INTO items (name, owner_id) VALUES (?, ?)  -- parameters: ('posted', None)",
        ]
    )


CAPTURED_SQL = """
from sqlalchemy import select, text
from items_app import Item, Owner


async def test_fails_after_queries(db_session):
    db_session.add(Owner(name="needle-owner"))
    await db_session.flush()
    await db_session.execute(select(Item).where(Item.name == "needle-item"))
    assert False, "the test fails"


async def test_passes_after_queries(db_session):
    await db_session.execute(select(Item).where(Item.name == "passing-item"))


async def test_fails_after_many_queries(db_session):
    for number in range(60):
        await db_session.execute(text("SELECT :number"), {"number": number})
    assert False, "the test fails"


def test_fails_without_database():
    assert False, "no database here"
"""


def test_failed_test_report_has_captured_sql_with_parameters(items_project):
    items_project.makepyfile(test_captured_sql=CAPTURED_SQL)

    result = items_project.runpytest("-rA")

    result.assert_outcomes(passed=1, failed=3)
    result.stdout.fnmatch_lines(
        [
            "*_ test_fails_after_queries _*",
            "*- Captured SQL call -*",
            "1. INSERT INTO owners (name) VALUES (?)  -- parameters: ('needle-owner',)",
            "2. SELECT * WHERE items.name = ?  -- parameters: ('needle-item',)",
            "*_ test_fails_after_many_queries _*",
            "*- Captured SQL call -*",
            "(10 earlier statements not shown)",
            "1. SELECT ?  -- parameters: (10,)",
            "50. SELECT ?  -- parameters: (59,)",
            "*_ test_fails_without_database _*",
        ]
    )
    # Once per failed test that used the database; never for the passing test, nor the test
    # without the database.
    assert result.stdout.str().count("Captured SQL") == 2
    result.stdout.no_fnmatch_line("*passing-item*")


def test_captured_sql_section_is_in_the_report_of_failed_tests_only(items_project):
    items_project.makepyfile(test_captured_sql_reports=CAPTURED_SQL)

    recorder = items_project.inline_run()

    sections = {
        report.head_line: [
            title for title, _ in report.sections if title.startswith("Captured SQL")
        ]
        for report in recorder.getreports("pytest_runtest_logreport")
        if report.when == "call"
    }
    assert sections == {
        "test_fails_after_queries": ["Captured SQL call"],
        "test_passes_after_queries": [],
        "test_fails_after_many_queries": ["Captured SQL call"],
        "test_fails_without_database": [],
    }


SETUP_FAILURE = """
import pytest
from sqlalchemy import select
from items_app import Item


async def test_earlier_test_runs_queries(db_session):
    await db_session.execute(select(Item).where(Item.name == "earlier-test-param"))


@pytest.fixture
def broken():
    raise RuntimeError("fixture broke before the database was set up")


async def test_setup_fails_before_its_transaction(broken, db_session):
    pass
"""


def test_captured_sql_of_a_failed_setup_is_not_the_previous_tests(items_project):
    items_project.makepyfile(test_setup_failure=SETUP_FAILURE)

    result = items_project.runpytest()

    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*RuntimeError: fixture broke before the database was set up"])
    result.stdout.no_fnmatch_line("*earlier-test-param*")
