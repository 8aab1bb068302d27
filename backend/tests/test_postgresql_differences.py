"""Where SQLite and PostgreSQL differ in ways that matter to this backend (docs/postgresql.md).

fastsuite's strict SQLite layer makes in-memory SQLite behave as PostgreSQL does here, so these
run on both databases with the same expectations (CI runs the suite on both).
"""

from __future__ import annotations

import pytest
from app.models import Context
from app.services import contexts
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


async def test_a_name_taken_by_a_concurrent_request_is_409_and_the_app_goes_on(
    user_client, user, monkeypatch
):
    await ContextFactory.acreate(owner=user, name="taken")

    # As if another request had taken the name between the check and the INSERT: the
    # unique constraint fails, and on PostgreSQL the transaction is aborted until it is
    # rolled back.
    async def name_looks_free(**_kwargs):
        return False

    monkeypatch.setattr(contexts, "_name_exists", name_looks_free)
    conflict = await user_client.post("/api/contexts", json={"name": "taken"})
    monkeypatch.undo()
    after = await user_client.post("/api/contexts", json={"name": "free"})

    assert conflict.status_code == 409
    assert conflict.json() == {"detail": "A context named 'taken' already exists"}
    assert after.status_code == 201
