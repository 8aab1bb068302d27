"""Where SQLite and PostgreSQL differ in ways that matter to this backend (docs/postgresql.md).

fastsuite's strict SQLite layer makes in-memory SQLite behave as PostgreSQL does here, so these
run on both databases with the same expectations (CI runs the suite on both).
"""

from __future__ import annotations

import pytest
from app.models import Context
from sqlalchemy.exc import DBAPIError

from tests.factories import ContextFactory


async def test_search_ignores_the_case_of_non_ascii_letters(user_client, user):
    for name in ("Éclair", "éclair au café", "eclair"):
        await ContextFactory.acreate(owner=user, name=name)

    response = await user_client.get("/api/contexts", params={"search": "ÉCLAIR"})

    assert [item["name"] for item in response.json()["items"]] == ["Éclair", "éclair au café"]


async def test_the_database_refuses_a_name_longer_than_the_contract_allows(db_session, user):
    # The API refuses 101 characters with a 422 before any SQL; the column is the last line of
    # defence for code that writes without the API's schemas (a script, a factory).
    db_session.add(Context(owner_id=user.id, name="x" * 101))

    with pytest.raises(DBAPIError, match="too long"):
        await db_session.flush()


async def test_a_taken_name_is_409_from_the_constraint_and_the_app_goes_on(user_client, user):
    await ContextFactory.acreate(owner=user, name="taken")

    # No SELECT checks the name first: the INSERT fails on the unique constraint, which aborts
    # the transaction until it is rolled back (PostgreSQL; the strict SQLite layer too), and
    # the request's session rolls it back.
    conflict = await user_client.post("/api/contexts", json={"name": "taken"})
    after = await user_client.post("/api/contexts", json={"name": "free"})

    assert conflict.status_code == 409
    assert conflict.json() == {"detail": "A context named 'taken' already exists"}
    assert after.status_code == 201
