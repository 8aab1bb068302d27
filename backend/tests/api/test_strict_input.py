"""Strict JSON types: booleans are true/false, ids are JSON integers, path ids plain digits;
an unknown field is a 422 naming it. Nothing is converted, nothing is silently ignored."""

from __future__ import annotations

import pytest
from app.models import Context, User
from sqlalchemy import select

from tests.factories import DEFAULT_PASSWORD, ContextFactory, UserFactory

BOOL_TYPE = ("bool_type", "Input should be a valid boolean")
INT_TYPE = ("int_type", "Input should be a valid integer")
EXTRA = ("extra_forbidden", "Extra inputs are not permitted")
ID_DIGITS = ("id_digits", "Id must be written in plain digits (0-9)")


def errors(response) -> list[tuple]:
    """The 422's errors as (loc, type, msg)."""
    assert response.status_code == 422, response.text
    return [
        (tuple(error["loc"]), error["type"], error["msg"]) for error in response.json()["detail"]
    ]


# --- booleans ------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["yes", "true", 1, 0, "1", None], ids=repr)
async def test_a_context_is_active_that_is_not_a_json_boolean_is_422(
    user_client, db_session, value
):
    response = await user_client.post("/api/contexts", json={"name": "x", "is_active": value})

    assert errors(response) == [(("body", "is_active"), *BOOL_TYPE)]
    assert (await db_session.scalars(select(Context))).all() == []


async def test_patching_is_active_with_a_string_is_422_and_changes_nothing(user_client, user):
    context = await ContextFactory.acreate(owner=user, is_active=False)

    response = await user_client.patch(f"/api/contexts/{context.id}", json={"is_active": "yes"})
    after = await user_client.get(f"/api/contexts/{context.id}")

    assert errors(response) == [(("body", "is_active"), *BOOL_TYPE)]
    assert after.json()["is_active"] is False


async def test_a_bulk_item_with_a_string_boolean_is_422_naming_the_item(user_client):
    response = await user_client.post(
        "/api/contexts/bulk",
        json={"items": [{"name": "a"}, {"name": "b", "is_active": "false"}]},
    )

    assert errors(response) == [(("body", "items", 1, "is_active"), *BOOL_TYPE)]


@pytest.mark.parametrize("field", ["is_active", "is_staff", "is_superuser"])
async def test_user_flags_that_are_not_json_booleans_are_422(admin_client, field):
    created = await admin_client.post(
        "/api/admin/users", json={"username": "new", "password": "a good password", field: "1"}
    )
    target = await UserFactory.acreate()
    patched = await admin_client.patch(f"/api/admin/users/{target.id}", json={field: 1})

    assert errors(created) == [(("body", field), *BOOL_TYPE)]
    assert errors(patched) == [(("body", field), *BOOL_TYPE)]


# --- ids in bodies -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "spell", [str, float, lambda _id: True], ids=["string", "float", "boolean"]
)
async def test_a_bulk_delete_id_that_is_not_a_json_integer_is_422_and_deletes_nothing(
    user_client, user, db_session, spell
):
    context = await ContextFactory.acreate(owner=user)

    response = await user_client.post(
        "/api/contexts/bulk-delete", json={"ids": [spell(context.id)]}
    )

    assert errors(response) == [(("body", "ids", 0), *INT_TYPE)]
    assert (await db_session.scalars(select(Context.id))).all() == [context.id]


async def test_a_bulk_update_id_given_as_a_string_is_422_naming_the_item(user_client, user):
    context = await ContextFactory.acreate(owner=user, name="kept")

    response = await user_client.patch(
        "/api/contexts/bulk", json={"items": [{"id": str(context.id), "name": "changed"}]}
    )

    assert errors(response) == [(("body", "items", 0, "id"), *INT_TYPE)]
    assert (await user_client.get(f"/api/contexts/{context.id}")).json()["name"] == "kept"


async def test_a_user_bulk_action_id_given_as_a_string_is_422(admin_client, db_session):
    target = await UserFactory.acreate()

    response = await admin_client.post(
        "/api/admin/users/bulk-action", json={"ids": [str(target.id)], "action": "deactivate"}
    )

    assert errors(response) == [(("body", "ids", 0), *INT_TYPE)]
    assert (await db_session.get(User, target.id)).is_active is True


# --- ids in paths --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "spelling", ["1_0", "+10", "%2010", "10%20", "-10", "0x0a", "\u0661\u0660", "1e1"]
)
async def test_a_context_path_id_that_is_not_plain_digits_is_422(user_client, spelling):
    response = await user_client.get(f"/api/contexts/{spelling}")

    assert errors(response) == [(("path", "context_id"), *ID_DIGITS)]


@pytest.mark.parametrize("method", ["GET", "PATCH", "DELETE"])
async def test_a_user_path_id_that_is_not_plain_digits_is_422(admin_client, method):
    response = await admin_client.request(method, "/api/admin/users/1_0", json={})

    assert errors(response) == [(("path", "user_id"), *ID_DIGITS)]


async def test_a_path_id_with_leading_zeros_is_still_that_id(user_client, user):
    context = await ContextFactory.acreate(owner=user)

    response = await user_client.get(f"/api/contexts/00{context.id}")

    assert response.status_code == 200
    assert response.json()["id"] == context.id


@pytest.mark.parametrize("spelling", ["1_0", "-1", "+1"])
async def test_an_owner_id_filter_that_is_not_plain_digits_is_422(admin_client, spelling):
    response = await admin_client.get("/api/admin/contexts", params={"owner_id": spelling})

    assert errors(response) == [(("query", "owner_id"), *ID_DIGITS)]


# --- unknown fields ------------------------------------------------------------------------


async def test_a_misspelt_field_in_a_context_patch_is_422_naming_it(user_client, user):
    context = await ContextFactory.acreate(owner=user, is_active=True)

    response = await user_client.patch(f"/api/contexts/{context.id}", json={"is_actve": False})
    after = await user_client.get(f"/api/contexts/{context.id}")

    assert errors(response) == [(("body", "is_actve"), *EXTRA)]
    assert after.json()["is_active"] is True


async def test_an_unknown_field_in_a_bulk_item_is_422_naming_the_item_and_field(user_client):
    response = await user_client.post(
        "/api/contexts/bulk", json={"items": [{"name": "a"}, {"name": "b", "colour": "red"}]}
    )

    assert errors(response) == [(("body", "items", 1, "colour"), *EXTRA)]


async def test_an_unknown_field_next_to_the_batch_is_422_naming_it(user_client):
    response = await user_client.post("/api/contexts/bulk-delete", json={"ids": [1], "all": True})

    assert errors(response) == [(("body", "all"), *EXTRA)]


async def test_a_misspelt_field_in_a_user_patch_is_422_naming_it(admin_client, db_session):
    target = await UserFactory.acreate(is_staff=False)

    response = await admin_client.patch(f"/api/admin/users/{target.id}", json={"is_staf": True})

    assert errors(response) == [(("body", "is_staf"), *EXTRA)]
    assert (await db_session.get(User, target.id)).is_staff is False


async def test_an_unknown_field_in_a_login_is_422_naming_it(client):
    response = await client.post(
        "/api/auth/login", json={"username": "a", "password": "b", "remember": True}
    )

    assert errors(response) == [(("body", "remember"), *EXTRA)]


async def test_an_unknown_field_in_the_oauth2_form_is_422_naming_it(client):
    response = await client.post(
        "/api/auth/token", data={"username": "a", "password": "b", "remember": "yes"}
    )

    assert errors(response) == [(("body", "remember"), *EXTRA)]


async def test_the_oauth2_form_takes_what_the_docs_authorize_button_sends(client, user):
    response = await client.post(
        "/api/auth/token",
        data={
            "grant_type": "password",
            "username": "alice",
            "password": DEFAULT_PASSWORD,
            "scope": "",
            "client_id": "docs",
            "client_secret": "",
        },
    )

    assert response.status_code == 200, response.text
    assert response.json()["token_type"] == "bearer"


async def test_an_oauth2_form_with_another_grant_type_is_422(client, user):
    response = await client.post(
        "/api/auth/token",
        data={"grant_type": "client_credentials", "username": "alice", "password": "x"},
    )

    assert [(loc, kind) for loc, kind, _msg in errors(response)] == [
        (("body", "grant_type"), "string_pattern_mismatch")
    ]
