"""Strict SQLite: naive tests fail on in-memory SQLite where they fail on PostgreSQL, and pass
where they pass, for the same reason.

The naive tests live in examples/strict_app/test_naive.py, one or more per difference. The
same expectations are checked on both legs: PostgreSQL (asyncpg) keeps proving them right.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import pytest
from postgresql_server import POSTGRESQL_URL, requires_postgresql

from fastsuite._strict_sqlite import CHECKS

ABORTED = r"current transaction is aborted, commands ignored until end of transaction block"
# Each naive test's outcome on PostgreSQL: "passed", or a pattern its failure must show.
EXPECTED: dict[str, str] = {
    "test_a_long_name_is_stored": r"value too long for type character varying\(5\)",
    "test_a_long_name_is_stored_by_a_core_update": (
        r"value too long for type character varying\(5\)"
    ),
    "test_a_name_of_the_full_length_is_stored": "passed",
    "test_an_id_from_the_query_string_finds_the_row": (
        r"ProgrammingError.*operator does not exist: integer = character varying"
    ),
    "test_a_str_is_stored_in_an_integer_column": (
        r"invalid input for query argument.*'5' "
        r"\('str' object cannot be interpreted as an integer\)"
    ),
    "test_an_int_is_stored_in_a_string_column": (
        r"invalid input for query argument.*5 \(expected str, got int\)"
    ),
    "test_an_aware_datetime_is_stored_in_a_naive_column": (
        r"can't subtract offset-naive and offset-aware datetimes"
    ),
    "test_a_flag_compared_with_1_finds_the_row": (
        r"ProgrammingError.*operator does not exist: boolean = integer"
    ),
    "test_a_price_given_as_a_string_is_stored": "passed",
    "test_a_count_of_2_to_the_31_is_stored": r"2147483648 \(value out of int32 range\)",
    "test_a_small_of_2_to_the_15_is_stored": r"32768 \(value out of int16 range\)",
    "test_a_big_of_2_to_the_63_is_stored": r"9223372036854775808 \(value out of int64 range\)",
    "test_a_count_incremented_past_2_to_the_31_is_stored": r"integer out of range",
    "test_the_largest_integers_are_stored": "passed",
    "test_rows_come_back_in_the_order_they_were_added": r"AssertionError",
    "test_rows_come_back_in_the_order_asked": "passed",
    "test_the_app_goes_on_after_a_conflict": ABORTED,
    "test_the_app_goes_on_after_a_conflict_in_a_savepoint": "passed",
    "test_a_commit_after_a_conflict_keeps_the_first_row": ABORTED,
    "test_a_search_ignores_the_case_of_accented_letters": "passed",
    "test_an_average_over_no_items_is_null": r"division by zero",
    "test_a_remainder_by_zero_is_null": r"division by zero",
    "test_a_stored_time_compares_with_an_aware_now": "passed",
    "test_the_first_ticket_has_id_1": "passed",
    "test_the_first_ticket_of_this_test_has_id_1": r"assert \d+ == 1",
    "test_an_id_rolled_back_to_a_savepoint_is_not_used_again": "passed",
    "test_a_ticket_committed_for_real": "passed",
    "test_ids_keep_growing_after_the_database_is_restored": "passed",
    "test_the_names_of_each_count_are_listed": (
        r"ProgrammingError.*column \"probes.name\" must appear in the GROUP BY clause or be used "
        "in an aggregate function"
    ),
    "test_a_grouped_primary_key_determines_the_other_columns": "passed",
    "test_aggregates_and_grouped_columns_are_selected": "passed",
}
# The naive tests each check is about, and their outcome on SQLite with that check off.
WITHOUT: dict[str, dict[str, str]] = {
    "string_length": {
        "test_a_long_name_is_stored": "passed",
        "test_a_long_name_is_stored_by_a_core_update": "passed",
    },
    "bound_types": {
        "test_an_id_from_the_query_string_finds_the_row": "passed",
        "test_a_str_is_stored_in_an_integer_column": "passed",
        "test_an_int_is_stored_in_a_string_column": "passed",
        "test_an_aware_datetime_is_stored_in_a_naive_column": "passed",
        "test_a_flag_compared_with_1_finds_the_row": "passed",
    },
    "integer_range": {
        "test_a_count_of_2_to_the_31_is_stored": "passed",
        "test_a_small_of_2_to_the_15_is_stored": "passed",
        "test_a_count_incremented_past_2_to_the_31_is_stored": "passed",
    },
    "unordered": {"test_rows_come_back_in_the_order_they_were_added": "passed"},
    "aborted_transaction": {
        "test_the_app_goes_on_after_a_conflict": "passed",
        "test_a_commit_after_a_conflict_keeps_the_first_row": "passed",
    },
    "unicode_case": {"test_a_search_ignores_the_case_of_accented_letters": "failed"},
    "division_by_zero": {
        "test_an_average_over_no_items_is_null": "passed",
        "test_a_remainder_by_zero_is_null": "passed",
    },
    "timezone": {"test_a_stored_time_compares_with_an_aware_now": "failed"},
    "sequence_ids": {
        "test_the_first_ticket_has_id_1": "passed",
        "test_the_first_ticket_of_this_test_has_id_1": "passed",
        "test_an_id_rolled_back_to_a_savepoint_is_not_used_again": "failed",
        "test_a_ticket_committed_for_real": "passed",
        "test_ids_keep_growing_after_the_database_is_restored": "failed",
    },
    "group_by": {"test_the_names_of_each_count_are_listed": "passed"},
}
TURN_OFF = (
    " PostgreSQL refuses this too: fix the code, or turn the check off with "
    "fastsuite_sqlite_lenient = {check} (ini), FASTSUITE_SQLITE_LENIENT={check} or "
    "--fastsuite-sqlite-lenient={check}."
)


@pytest.fixture
def strict_project(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.copy_example("strict_app")
    return pytester


def outcomes(
    pytester: pytest.Pytester, *args: str, only: Iterable[str] = ()
) -> dict[str, tuple[str, str]]:
    """Run the naive tests (or `only` these) in-process: test name → (outcome, failure text)."""
    tests = [f"test_naive.py::{name}" for name in only] or ["test_naive.py"]
    # Native tracebacks: pytest's own take about a second per failure through SQLAlchemy.
    recorder = pytester.inline_run("-p", "no:randomly", "--tb=native", *tests, *args)
    found = {}
    for report in recorder.getreports("pytest_runtest_logreport"):
        name = report.nodeid.rpartition("::")[2]
        if report.when == "call" or report.failed:
            found[name] = (report.outcome, report.longreprtext if report.failed else "")
    return found


def assert_as_on_postgresql(found: dict[str, tuple[str, str]]) -> None:
    assert set(found) == set(EXPECTED)
    for name, expected in EXPECTED.items():
        outcome, text = found[name]
        if expected == "passed":
            assert outcome == "passed", f"{name} failed:\n{text}"
        else:
            assert outcome == "failed", f"{name} passed; on PostgreSQL it fails ({expected})"
            assert re.search(expected, text), f"{name} failed otherwise than expected:\n{text}"


@pytest.mark.parametrize("database", ["in-memory", "in-memory-aiosqlite", "file"])
def test_the_naive_tests_fail_on_sqlite_where_they_fail_on_postgresql(strict_project, database):
    option = {
        "in-memory": "--fastsuite-sqlite-driver=loop",
        "in-memory-aiosqlite": "--fastsuite-sqlite-driver=aiosqlite",
        "file": f"--fastsuite-db-url=sqlite+aiosqlite:///{strict_project.path}/app_test.db",
    }[database]
    assert_as_on_postgresql(outcomes(strict_project, option))


@requires_postgresql
@pytest.mark.slow
def test_the_naive_tests_fail_on_postgresql_for_the_reasons_expected(strict_project):
    assert_as_on_postgresql(outcomes(strict_project, f"--fastsuite-db-url={POSTGRESQL_URL}"))


def test_every_check_is_covered():
    assert set(WITHOUT) == set(CHECKS)


@pytest.mark.parametrize("check", sorted(WITHOUT))
def test_a_check_turned_off_lets_its_difference_through(strict_project, check):
    tests = WITHOUT[check]

    found = outcomes(strict_project, f"--fastsuite-sqlite-lenient={check}", only=tests)

    assert {name: outcome for name, (outcome, _) in found.items()} == tests


def test_the_environment_and_the_ini_file_turn_checks_off_too(strict_project, monkeypatch):
    with open(strict_project.path / "pytest.ini", "a") as ini:
        ini.write("fastsuite_sqlite_lenient = unordered, division_by_zero\n")
    monkeypatch.setenv("FASTSUITE_SQLITE_LENIENT", "string_length")
    selected = ["test_a_long_name_is_stored", "test_an_average_over_no_items_is_null"]

    found = outcomes(strict_project, only=selected)
    assert {name: outcome for name, (outcome, _) in found.items()} == {
        "test_a_long_name_is_stored": "passed",  # the environment wins over the ini file
        "test_an_average_over_no_items_is_null": "failed",
    }

    monkeypatch.delenv("FASTSUITE_SQLITE_LENIENT")
    found = outcomes(strict_project, only=selected)
    assert {name: outcome for name, (outcome, _) in found.items()} == {
        "test_a_long_name_is_stored": "failed",
        "test_an_average_over_no_items_is_null": "passed",
    }


@pytest.mark.parametrize(
    ("test", "error", "message"),
    [
        (
            "test_a_long_name_is_stored",
            "DBAPIError",
            "[string_length]: value too long for type character varying(5) (column probes.name).",
        ),
        (
            "test_a_count_incremented_past_2_to_the_31_is_stored",
            "DBAPIError",
            "[integer_range]: integer out of range (column probes.count).",
        ),
        (
            "test_a_small_of_2_to_the_15_is_stored",
            "DBAPIError",
            "[integer_range]: invalid input for query argument: 32768 "
            "(value out of int16 range) (column probes.small).",
        ),
        (
            "test_an_int_is_stored_in_a_string_column",
            "DBAPIError",
            "[bound_types]: invalid input for query argument: 5 (expected str, got int) "
            "(column probes.name).",
        ),
        (
            "test_an_id_from_the_query_string_finds_the_row",
            "ProgrammingError",
            "[bound_types]: operator does not exist: integer = character varying.",
        ),
        (
            "test_the_app_goes_on_after_a_conflict",
            "DBAPIError",
            f"[aborted_transaction]: {ABORTED}.",
        ),
        (
            "test_an_average_over_no_items_is_null",
            "DBAPIError",
            "[division_by_zero]: division by zero.",
        ),
    ],
)
def test_a_refusal_names_its_check_the_column_and_how_to_turn_it_off(
    strict_project, test, error, message
):
    check = message[1 : message.index("]")]

    result = strict_project.runpytest("--tb=native", f"test_naive.py::{test}")

    result.assert_outcomes(failed=1)
    line = (
        f"sqlalchemy.exc.{error}: (fastsuite._strict_sqlite.StrictSQLiteError) "
        f"fastsuite strict SQLite {message}{TURN_OFF.format(check=check)}"
    )
    result.stdout.re_match_lines([re.escape(line) + "$"])


def test_an_unknown_check_stops_the_run_naming_it(strict_project):
    result = strict_project.runpytest("--fastsuite-sqlite-lenient=string_lenght,unordered")

    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.re_match_lines_random(
        [
            re.escape(
                "ERROR: fastsuite: --fastsuite-sqlite-lenient=string_lenght,unordered names "
                "'string_lenght', which is not a strict SQLite check; expected a comma-separated "
                "list of: string_length, bound_types, integer_range, unordered, "
                "aborted_transaction, unicode_case, division_by_zero, timezone, sequence_ids, "
                "group_by (or all)."
            )
        ]
    )


def test_all_turns_every_check_off_and_the_header_says_so(strict_project):
    result = strict_project.runpytest(
        "--fastsuite-sqlite-lenient=all", "test_naive.py::test_a_long_name_is_stored"
    )

    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["  sqlite_lenient: all (option)"])


def test_a_failed_test_is_told_which_of_its_reads_had_no_order(strict_project):
    # suspiciousRaccoon/async-fastapi-sqlalchemy-template asserts on the order of an unordered
    # SELECT (its repository's get_all): the check reverses it, and the failure alone did not
    # say why the rows came back reversed.
    result = strict_project.runpytest(
        "-p", "no:randomly", "test_naive.py::test_rows_come_back_in_the_order_they_were_added"
    )

    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*- Captured SQL call -*",
            "1. INSERT INTO probes *",
            "2. UPDATE probes *",
            "3. SELECT probes.name FROM probes",
            "(fastsuite: statement 3 has no ORDER BY: where it returns several rows, SQLite "
            "returns them in reverse order here, on purpose, as PostgreSQL promises no order "
            "either (the strict SQLite check `unordered`). A test that relies on the order of "
            "those rows needs an ORDER BY in the query; fastsuite_sqlite_lenient = unordered "
            "turns the check off.)",
        ]
    )
