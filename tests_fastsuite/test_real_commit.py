"""Real-commit mode: @pytest.mark.fastsuite_db(transaction=True) commits, then the database is
restored; the marker's keywords are checked, and it refuses to run inside shared seed data.
"""

from __future__ import annotations

import pytest

REAL_COMMITS = """
import pytest
from sqlalchemy import func, select
from items_app import AuditEntry, Item, Owner


async def names(connection, column):
    return list((await connection.scalars(select(column).order_by(column))).all())


@pytest.mark.fastsuite_db(transaction=True)
async def test_session_commits_for_real(db_session, db_engine):
    db_session.add(Item(name="real"))
    await db_session.commit()
    async with db_engine.connect() as other_connection:
        assert await names(other_connection, Item.name) == ["real"]


@pytest.mark.fastsuite_db(transaction=True)
async def test_app_commits_for_real(client, db_engine):
    response = await client.post("/items", json={"name": "via-app"})
    assert response.status_code == 201
    async with db_engine.connect() as other_connection:
        assert await names(other_connection, Item.name) == ["via-app"]
        assert await names(other_connection, AuditEntry.message) == ["created via-app"]


@pytest.mark.fastsuite_db(transaction=True)
async def test_marker_with_the_engine_only(db_engine):
    async with db_engine.begin() as connection:
        assert await names(connection, Item.name) == []
        await connection.execute(Owner.__table__.insert().values(name="engine-only"))


async def test_rolled_back_test_after_them_sees_an_empty_database(db_session):
    for model in (Item, AuditEntry, Owner):
        assert await db_session.scalar(select(func.count()).select_from(model)) == 0
"""


@pytest.mark.parametrize("driver", ["loop", "aiosqlite"])
def test_real_commits_are_seen_by_other_connections_and_undone_after(items_project, driver):
    items_project.makepyfile(test_real_commits=REAL_COMMITS)

    result = items_project.runpytest(f"--fastsuite-sqlite-driver={driver}")

    result.assert_outcomes(passed=4)


WRONG_MARKER = """
import pytest


@pytest.mark.fastsuite_db(transactional=True)
async def test_misspelled_keyword(db_session):
    pass


@pytest.mark.fastsuite_db(True)
def test_positional_argument():
    pass
"""


def test_wrong_marker_arguments_fail_with_a_type_error(items_project):
    items_project.makepyfile(test_wrong_marker=WRONG_MARKER)

    result = items_project.runpytest()

    result.assert_outcomes(errors=2)
    result.stdout.fnmatch_lines(
        [
            "*ERROR at setup of test_misspelled_keyword*",
            "E * TypeError: *fastsuite_db() got an unexpected keyword argument 'transactional'*",
            "*ERROR at setup of test_positional_argument*",
            "E * TypeError: *fastsuite_db() takes 0 positional arguments but 1 was given",
        ]
    )


MARKER_IN_SEED = """
import pytest
from sqlalchemy import select
from items_app import Owner


@pytest.fixture(scope="{scope}")
async def seed({fixture}):
    {fixture}.add(Owner(name="seed"))
    await {fixture}.flush()


@pytest.mark.usefixtures("seed")
class TestSeeded:
    @pytest.mark.fastsuite_db(transaction=True)
    async def test_real_commits_inside_the_seed(self, db_session):
        db_session.add(Owner(name="must not be committed"))
        await db_session.commit()

    async def test_seed_is_intact(self, db_session):
        assert (await db_session.scalars(select(Owner.name))).all() == ["seed"]
"""


@pytest.mark.parametrize(
    ("scope", "fixture"), [("module", "module_db_session"), ("class", "class_db_session")]
)
def test_real_commit_marker_inside_seed_data_fails_with_a_clear_message(
    items_project, scope, fixture
):
    items_project.makepyfile(
        test_marker_in_seed=MARKER_IN_SEED.format(scope=scope, fixture=fixture)
    )

    result = items_project.runpytest()

    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*ERROR at setup of TestSeeded.test_real_commits_inside_the_seed*",
            "fastsuite: test_marker_in_seed.py::TestSeeded::test_real_commits_inside_the_seed is "
            f"marked fastsuite_db(transaction=True), but seed data shared through {fixture} is "
            "open around it, and real commits cannot happen inside that transaction. Move the "
            "test out of that module or class, or drop the marker.",
        ]
    )
