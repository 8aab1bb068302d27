"""Names: context names NFC-normalised, usernames NFKC-normalised (as Django does), both
with at least one visible character; passwords not only whitespace."""

from __future__ import annotations

import pytest
from app.models import Context, User
from sqlalchemy import select

from tests.factories import DEFAULT_PASSWORD, UserFactory

INVISIBLE_NAME = ("string_invisible", "Name must contain at least one visible character")
INVISIBLE_USERNAME = (
    "username_invisible",
    "Username must contain at least one visible character",
)
BLANK_PASSWORD = (
    "password_blank",
    "Password must not be only whitespace or invisible characters",
)
FULLWIDTH_ALICE = "\uff41\uff4c\uff49\uff43\uff45"

# Zero-width space, zero-width joiner, word joiner, a combining accent alone, Hangul filler,
# the blank Braille pattern, a right-to-left mark.
INVISIBLE = ["\u200b", "\u200d\u2060", "\u0301", "\u3164", "\u2800", "\u200f\u200b"]


def errors(response) -> list[tuple]:
    assert response.status_code == 422, response.text
    return [
        (tuple(error["loc"]), error["type"], error["msg"]) for error in response.json()["detail"]
    ]


# --- context names -------------------------------------------------------------------------


@pytest.mark.parametrize("name", INVISIBLE, ids=ascii)
async def test_a_context_name_without_a_visible_character_is_422(user_client, db_session, name):
    response = await user_client.post("/api/contexts", json={"name": name})

    assert errors(response) == [(("body", "name"), *INVISIBLE_NAME)]
    assert (await db_session.scalars(select(Context))).all() == []


async def test_renaming_a_context_to_a_zero_width_space_is_422(user_client):
    created = (await user_client.post("/api/contexts", json={"name": "visible"})).json()

    response = await user_client.patch(f"/api/contexts/{created['id']}", json={"name": "\u200b"})

    assert errors(response) == [(("body", "name"), *INVISIBLE_NAME)]


async def test_an_invisible_name_in_a_batch_is_422_naming_the_item(user_client):
    response = await user_client.post(
        "/api/contexts/bulk", json={"items": [{"name": "ok"}, {"name": "\u200b"}]}
    )

    assert errors(response) == [(("body", "items", 1, "name"), *INVISIBLE_NAME)]


@pytest.mark.parametrize(
    "name",
    ["a\u200bb", "\U0001f469\u200d\U0001f4bb", "e\u0301", "\u3164x"],
    ids=["zero-width inside", "emoji sequence", "letter and accent", "filler and letter"],
)
async def test_a_name_with_a_visible_character_and_invisible_ones_is_accepted(user_client, name):
    response = await user_client.post("/api/contexts", json={"name": name})

    assert response.status_code == 201, response.text


async def test_context_names_are_nfc_so_decomposed_and_composed_collide(user_client):
    composed = await user_client.post("/api/contexts", json={"name": "Caf\u00e9"})
    decomposed = await user_client.post("/api/contexts", json={"name": "Cafe\u0301"})

    assert composed.json()["name"] == "Caf\u00e9"
    assert decomposed.status_code == 409
    assert decomposed.json() == {"detail": "A context named 'Caf\u00e9' already exists"}


# --- usernames -----------------------------------------------------------------------------


async def test_a_fullwidth_username_is_stored_in_its_nfkc_form(admin_client):
    response = await admin_client.post(
        "/api/admin/users", json={"username": FULLWIDTH_ALICE, "password": "a good password"}
    )

    assert response.status_code == 201
    assert response.json()["username"] == "alice"


async def test_a_fullwidth_spelling_of_an_existing_username_is_409(admin_client, db_session):
    await UserFactory.acreate(username="alice")

    response = await admin_client.post(
        "/api/admin/users", json={"username": FULLWIDTH_ALICE, "password": "a good password"}
    )

    assert response.status_code == 409
    assert response.json() == {"detail": "A user named 'alice' already exists"}
    assert (await db_session.scalars(select(User.username))).all().count("alice") == 1


async def test_renaming_a_user_to_a_fullwidth_spelling_of_another_is_409(admin_client):
    await UserFactory.acreate(username="alice")
    bob = await UserFactory.acreate(username="bob")

    response = await admin_client.patch(
        f"/api/admin/users/{bob.id}", json={"username": FULLWIDTH_ALICE}
    )

    assert response.status_code == 409
    assert response.json() == {"detail": "A user named 'alice' already exists"}


@pytest.mark.parametrize("route", ["/api/auth/login", "/api/auth/token"])
async def test_logging_in_with_a_fullwidth_spelling_is_the_same_user(client, route):
    alice = await UserFactory.acreate(username="alice")
    credentials = {"username": FULLWIDTH_ALICE, "password": DEFAULT_PASSWORD}

    if route.endswith("token"):
        response = await client.post(route, data=credentials)
    else:
        response = await client.post(route, json=credentials)
    me = await client.get(
        "/api/auth/me", headers={"Authorization": f"Bearer {response.json()['access_token']}"}
    )

    assert response.status_code == 200
    assert me.json()["id"] == alice.id


async def test_searching_users_with_a_fullwidth_spelling_finds_them(admin_client):
    await UserFactory.acreate(username="alice")

    response = await admin_client.get("/api/admin/users", params={"search": "\uff41\uff4c\uff49"})

    assert [item["username"] for item in response.json()["items"]] == ["alice"]


@pytest.mark.parametrize("username", ["\u3164", "\uffa0\u3164"], ids=ascii)
async def test_a_username_of_blank_letters_is_422(admin_client, username):
    response = await admin_client.post(
        "/api/admin/users", json={"username": username, "password": "a good password"}
    )

    assert errors(response) == [(("body", "username"), *INVISIBLE_USERNAME)]


# --- passwords -----------------------------------------------------------------------------


@pytest.mark.parametrize("password", [" " * 8, "\t \n" * 3, "\u200b" * 8, "\u3000" * 8], ids=ascii)
async def test_a_password_of_only_whitespace_is_422(admin_client, db_session, password):
    response = await admin_client.post(
        "/api/admin/users", json={"username": "blank", "password": password}
    )

    assert errors(response) == [(("body", "password"), *BLANK_PASSWORD)]
    assert await db_session.scalar(select(User).where(User.username == "blank")) is None


async def test_changing_a_password_to_only_whitespace_is_422(admin_client, user):
    response = await admin_client.patch(f"/api/admin/users/{user.id}", json={"password": " " * 12})

    assert errors(response) == [(("body", "password"), *BLANK_PASSWORD)]


async def test_a_password_with_spaces_around_a_visible_character_is_accepted(admin_client):
    response = await admin_client.post(
        "/api/admin/users", json={"username": "spacey", "password": "       x"}
    )

    assert response.status_code == 201
