"""xdist: with -n 2 each worker process builds its own database, and the suite runs green."""

from __future__ import annotations

import pytest

WORKER_TESTS = """
import os

import pytest
from sqlalchemy import func, select
from items_app import Item

WORKER = os.environ["PYTEST_XDIST_WORKER"]


async def names(db_session):
    return list((await db_session.scalars(select(Item.name))).all())


@pytest.mark.parametrize("number", range(4))
async def test_app_write_is_alone_in_the_database(client, db_session, number):
    name = f"{{WORKER}}-{prefix}-{{number}}"
    assert (await client.post("/items", json={{"name": name}})).status_code == 201
    assert await names(db_session) == [name]


@pytest.mark.fastsuite_db(transaction=True)
async def test_real_commit_is_alone_in_the_database(db_session):
    name = f"{{WORKER}}-{prefix}-committed"
    db_session.add(Item(name=name))
    await db_session.commit()
    assert await names(db_session) == [name]
"""


@pytest.mark.slow
def test_two_workers_each_with_its_own_database(items_project):
    items_project.makepyfile(
        test_worker_a=WORKER_TESTS.format(prefix="a"), test_worker_b=WORKER_TESTS.format(prefix="b")
    )

    # In a subprocess: xdist's workers are processes of their own anyway.
    result = items_project.runpytest_subprocess("-p", "xdist", "-n", "2")

    result.assert_outcomes(passed=10)
    result.stdout.fnmatch_lines(["created: 2/2 workers", "*10 passed*"])
