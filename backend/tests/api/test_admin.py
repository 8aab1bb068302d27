"""/api/admin: user management (list, create, get, patch, delete, bulk-action) and contexts.

Every response the admin clients of this module receive is scanned for password material.
"""

from __future__ import annotations

import unicodedata

import pytest
from app.core.security import verify_password
from app.models import Context, User
from sqlalchemy import func, select

from tests.api import USER_PUBLIC_FIELDS
from tests.conftest import bearer
from tests.factories import DEFAULT_PASSWORD, ContextFactory, UserFactory

USERS = "/api/admin/users"
BULK = "/api/admin/users/bulk-action"
CONTEXTS = "/api/admin/contexts"
ME = "/api/auth/me"

NEW_PASSWORD = "fresh-password-123"
OTHER_PASSWORD = "another-password-456"
PLAINTEXTS = (DEFAULT_PASSWORD, NEW_PASSWORD, OTHER_PASSWORD)
HASH_MARKERS = ("$argon2", "pbkdf2_sha256$")

NOT_FOUND = {"detail": "User not found"}


def _keys(value):
    if isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _keys(item)
    elif isinstance(value, list):
        for item in value:
            yield from _keys(item)


async def _no_password_material(response) -> None:
    """httpx response hook: no password, hash or `password` field in any response."""
    await response.aread()
    text = response.text
    for secret in (*PLAINTEXTS, *HASH_MARKERS):
        assert secret not in text, f"{response.request.url} answered with {secret!r}: {text}"
    if response.content and response.headers["content-type"].startswith("application/json"):
        assert "password" not in set(_keys(response.json())), text


@pytest.fixture
def admin_client(client_factory, admin_user):
    """Logged in as the staff superuser `admin`; every response scanned for passwords."""
    return client_factory(
        headers=bearer(admin_user), event_hooks={"response": [_no_password_material]}
    )


@pytest.fixture
async def staff_user(db_session) -> User:
    """Staff, not a superuser."""
    return await UserFactory.acreate(staff=True, username="staffer")


@pytest.fixture
def staff_client(client_factory, staff_user):
    return client_factory(
        headers=bearer(staff_user), event_hooks={"response": [_no_password_material]}
    )


async def _count(db_session, model, *where) -> int:
    return await db_session.scalar(select(func.count()).select_from(model).where(*where))


async def _user_exists(db_session, user_id: int) -> bool:
    return await _count(db_session, User, User.id == user_id) == 1


async def _is_active(db_session, user_id: int) -> bool:
    return await db_session.scalar(select(User.is_active).where(User.id == user_id))


# List -------------------------------------------------------------------------------------


async def test_list_users_is_a_page_of_every_user_ordered_by_id(admin_client, admin_user, user):
    extra = await UserFactory.acreate_batch(3)

    response = await admin_client.get(USERS)

    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"items", "total", "limit", "offset"}
    expected_ids = sorted([admin_user.id, user.id, *(u.id for u in extra)])
    assert [item["id"] for item in body["items"]] == expected_ids
    assert (body["total"], body["limit"], body["offset"]) == (5, 50, 0)
    assert all(set(item) == USER_PUBLIC_FIELDS for item in body["items"])


async def test_list_users_pages_with_limit_and_offset(admin_client, admin_user):
    await UserFactory.acreate_batch(5)
    everyone = [item["id"] for item in (await admin_client.get(USERS)).json()["items"]]

    response = await admin_client.get(USERS, params={"limit": 2, "offset": 1})

    assert response.status_code == 200, response.text
    body = response.json()
    assert [item["id"] for item in body["items"]] == everyone[1:3]
    assert (body["total"], body["limit"], body["offset"]) == (6, 2, 1)


async def test_list_users_offset_past_the_end_is_an_empty_page_with_the_total(admin_client):
    response = await admin_client.get(USERS, params={"offset": 10})

    assert response.status_code == 200, response.text
    assert response.json() == {"items": [], "total": 1, "limit": 50, "offset": 10}


async def test_list_users_accepts_the_largest_limit(admin_client):
    response = await admin_client.get(USERS, params={"limit": 500})

    assert response.status_code == 200, response.text
    assert response.json()["limit"] == 500


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 501}, "limit"),
        ({"limit": "many"}, "limit"),
        ({"offset": -1}, "offset"),
        ({"is_active": "maybe"}, "is_active"),
        ({"is_staff": "maybe"}, "is_staff"),
    ],
)
async def test_list_users_with_a_bad_query_parameter_is_422_naming_it(admin_client, params, field):
    response = await admin_client.get(USERS, params=params)

    assert response.status_code == 422, response.text
    assert [error["loc"] for error in response.json()["detail"]] == [["query", field]]


async def test_list_users_search_matches_username_or_email_ignoring_case(admin_client):
    bob = await UserFactory.acreate(username="Bob.Smith", email="bsmith@example.com")
    carol = await UserFactory.acreate(username="carol", email="carol@BOBCAT.io")
    await UserFactory.acreate(username="dave", email="dave@example.com")

    response = await admin_client.get(USERS, params={"search": "bOb"})

    assert response.status_code == 200, response.text
    assert [item["id"] for item in response.json()["items"]] == [bob.id, carol.id]
    assert response.json()["total"] == 2


async def test_list_users_search_takes_like_wildcards_literally(admin_client):
    underscored = await UserFactory.acreate(username="under_score")
    await UserFactory.acreate(username="underxscore")

    underscore = await admin_client.get(USERS, params={"search": "r_s"})
    percent = await admin_client.get(USERS, params={"search": "%"})

    assert [item["id"] for item in underscore.json()["items"]] == [underscored.id]
    assert percent.json()["items"] == []


async def test_list_users_filters_by_active_and_staff(admin_client, admin_user, user, staff_user):
    sleeper = await UserFactory.acreate(inactive=True)

    inactive = await admin_client.get(USERS, params={"is_active": "false"})
    staff = await admin_client.get(USERS, params={"is_staff": "true"})
    active_plain = await admin_client.get(USERS, params={"is_active": True, "is_staff": False})

    assert [item["id"] for item in inactive.json()["items"]] == [sleeper.id]
    assert [item["id"] for item in staff.json()["items"]] == [admin_user.id, staff_user.id]
    assert [item["id"] for item in active_plain.json()["items"]] == [user.id]


# Create -----------------------------------------------------------------------------------


async def test_create_user_returns_201_with_the_defaults(admin_client, db_session):
    response = await admin_client.post(USERS, json={"username": "newbie", "password": NEW_PASSWORD})

    assert response.status_code == 201, response.text
    body = response.json()
    assert set(body) == USER_PUBLIC_FIELDS
    assert body["username"] == "newbie"
    assert (body["email"], body["first_name"], body["last_name"]) == ("", "", "")
    assert (body["is_active"], body["is_staff"], body["is_superuser"]) == (True, False, False)
    assert body["last_login"] is None
    assert body["date_joined"]
    stored = await db_session.get(User, body["id"])
    assert stored.password.startswith("$argon2id$")
    assert verify_password(NEW_PASSWORD, stored.password)[0] is True


async def test_create_user_stores_every_given_field(admin_client):
    body = {
        "username": "full",
        "password": NEW_PASSWORD,
        "email": "full@example.com",
        "first_name": "Full",
        "last_name": "Name",
        "is_active": False,
        "is_staff": True,
        "is_superuser": True,
    }

    response = await admin_client.post(USERS, json=body)

    assert response.status_code == 201, response.text
    created = response.json()
    for field in ("username", "email", "first_name", "last_name"):
        assert created[field] == body[field]
    assert (created["is_active"], created["is_staff"], created["is_superuser"]) == (
        False,
        True,
        True,
    )
    fetched = await admin_client.get(f"{USERS}/{created['id']}")
    assert fetched.json() == created


async def test_created_user_can_log_in_with_the_given_password(admin_client, client):
    await admin_client.post(USERS, json={"username": "newbie", "password": NEW_PASSWORD})

    response = await client.post(
        "/api/auth/login", json={"username": "newbie", "password": NEW_PASSWORD}
    )

    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"username": ""}, "username"),
        ({"username": "u" * 151}, "username"),
        ({"username": "has space"}, "username"),
        ({"username": "slash/name"}, "username"),
        ({"username": "colon:name"}, "username"),
        ({"username": None}, "username"),
        ({"password": "seven77"}, "password"),
        ({"password": ""}, "password"),
        ({"password": 12345678}, "password"),
        ({"email": "not-an-email"}, "email"),
        ({"first_name": "f" * 151}, "first_name"),
        ({"is_staff": "maybe"}, "is_staff"),
    ],
    ids=lambda value: str(value)[:30] if isinstance(value, dict) else None,
)
async def test_create_user_with_an_invalid_field_is_422_naming_it(
    admin_client, db_session, changes, field
):
    before = await _count(db_session, User)

    response = await admin_client.post(
        USERS, json={"username": "newbie", "password": NEW_PASSWORD, **changes}
    )

    assert response.status_code == 422, response.text
    assert ["body", field] in [error["loc"] for error in response.json()["detail"]]
    assert await _count(db_session, User) == before


@pytest.mark.parametrize("missing", ["username", "password"])
async def test_create_user_without_a_required_field_is_422(admin_client, missing):
    body = {"username": "newbie", "password": NEW_PASSWORD}
    del body[missing]

    response = await admin_client.post(USERS, json=body)

    assert response.status_code == 422, response.text
    assert [error["loc"] for error in response.json()["detail"]] == [["body", missing]]


@pytest.mark.parametrize(
    "username", ["u" * 150, "a.b@c+d-e_f", "Zoë", "7"], ids=["150-chars", "symbols", "unicode", "1"]
)
async def test_create_user_accepts_every_allowed_username(admin_client, username):
    response = await admin_client.post(USERS, json={"username": username, "password": "8charsok"})

    assert response.status_code == 201, response.text
    assert response.json()["username"] == username


async def test_create_user_with_a_taken_username_is_409(admin_client, db_session, user):
    before = await _count(db_session, User)

    response = await admin_client.post(USERS, json={"username": "alice", "password": NEW_PASSWORD})

    assert response.status_code == 409, response.text
    assert "alice" in response.json()["detail"]
    assert await _count(db_session, User) == before


async def test_create_user_with_another_unicode_spelling_of_a_taken_username_is_409(
    admin_client, db_session
):
    await UserFactory.acreate(username="josé")

    response = await admin_client.post(
        USERS,
        json={"username": unicodedata.normalize("NFD", "josé"), "password": NEW_PASSWORD},
    )

    assert response.status_code == 409, response.text
    assert await _count(db_session, User, User.username.like("jos%")) == 1


async def test_staff_may_create_a_plain_user(staff_client):
    response = await staff_client.post(USERS, json={"username": "newbie", "password": NEW_PASSWORD})

    assert response.status_code == 201, response.text
    assert response.json()["is_staff"] is False


@pytest.mark.parametrize("grant", ["is_staff", "is_superuser"])
async def test_staff_who_is_not_superuser_cannot_create_staff_or_superusers(
    staff_client, db_session, grant
):
    before = await _count(db_session, User)

    response = await staff_client.post(
        USERS, json={"username": "climber", "password": NEW_PASSWORD, grant: True}
    )

    assert response.status_code == 403, response.text
    assert "superuser" in response.json()["detail"]
    assert await _count(db_session, User) == before


@pytest.mark.parametrize("grant", ["is_staff", "is_superuser"])
async def test_superuser_may_create_staff_and_superusers(admin_client, grant):
    response = await admin_client.post(
        USERS, json={"username": "promoted", "password": NEW_PASSWORD, grant: True}
    )

    assert response.status_code == 201, response.text
    assert response.json()[grant] is True


# Get --------------------------------------------------------------------------------------


async def test_get_user_returns_the_user_public(admin_client, user):
    response = await admin_client.get(f"{USERS}/{user.id}")

    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == USER_PUBLIC_FIELDS
    assert (body["id"], body["username"], body["email"]) == (user.id, "alice", user.email)


@pytest.mark.parametrize("user_id", ["999999", "0", str(2**63), str(10**30)])
async def test_get_unknown_user_is_404(admin_client, user_id):
    response = await admin_client.get(f"{USERS}/{user_id}")

    assert response.status_code == 404, response.text
    assert response.json() == NOT_FOUND


async def test_get_user_with_a_non_integer_id_is_422(admin_client):
    response = await admin_client.get(f"{USERS}/alice")

    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"] == ["path", "user_id"]


# Patch ------------------------------------------------------------------------------------


async def test_patch_user_changes_only_the_given_fields(admin_client, user):
    before = (await admin_client.get(f"{USERS}/{user.id}")).json()

    response = await admin_client.patch(f"{USERS}/{user.id}", json={"first_name": "Alicia"})

    assert response.status_code == 200, response.text
    assert response.json() == {**before, "first_name": "Alicia"}


async def test_patch_user_with_an_empty_body_changes_nothing(admin_client, user):
    before = (await admin_client.get(f"{USERS}/{user.id}")).json()

    response = await admin_client.patch(f"{USERS}/{user.id}", json={})

    assert response.status_code == 200, response.text
    assert response.json() == before


async def test_patch_password_revokes_the_users_tokens_and_sets_the_new_one(
    admin_client, client, db_session, user
):
    old_headers = bearer(user)
    old_hash = user.password

    response = await admin_client.patch(f"{USERS}/{user.id}", json={"password": NEW_PASSWORD})

    assert response.status_code == 200, response.text
    revoked = await client.get(ME, headers=old_headers)
    assert revoked.status_code == 401
    assert revoked.headers["www-authenticate"] == "Bearer"
    await db_session.refresh(user)
    assert user.password != old_hash
    old_login = await client.post(
        "/api/auth/login", json={"username": "alice", "password": DEFAULT_PASSWORD}
    )
    new_login = await client.post(
        "/api/auth/login", json={"username": "alice", "password": NEW_PASSWORD}
    )
    assert old_login.status_code == 401
    assert new_login.status_code == 200, new_login.text


async def test_patch_other_fields_keeps_the_users_tokens(admin_client, client, user):
    headers = bearer(user)

    await admin_client.patch(f"{USERS}/{user.id}", json={"email": "new@example.com"})

    assert (await client.get(ME, headers=headers)).status_code == 200


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"password": "seven77"}, "password"),
        ({"password": None}, "password"),
        ({"username": "has space"}, "username"),
        ({"username": None}, "username"),
        ({"email": "nope"}, "email"),
        ({"is_active": None}, "is_active"),
    ],
    ids=lambda value: str(value)[:30] if isinstance(value, dict) else None,
)
async def test_patch_user_with_an_invalid_field_is_422_and_changes_nothing(
    admin_client, db_session, user, changes, field
):
    old_hash, old_username = user.password, user.username

    response = await admin_client.patch(f"{USERS}/{user.id}", json=changes)

    assert response.status_code == 422, response.text
    assert ["body", field] in [error["loc"] for error in response.json()["detail"]]
    await db_session.refresh(user)
    assert (user.password, user.username, user.is_active) == (old_hash, old_username, True)


async def test_patch_username_to_a_taken_one_is_409(admin_client, db_session, user):
    await UserFactory.acreate(username="bob")

    response = await admin_client.patch(f"{USERS}/{user.id}", json={"username": "bob"})

    assert response.status_code == 409, response.text
    assert "bob" in response.json()["detail"]
    await db_session.refresh(user)
    assert user.username == "alice"


async def test_patch_username_to_its_own_value_is_fine(admin_client, user):
    response = await admin_client.patch(f"{USERS}/{user.id}", json={"username": "alice"})

    assert response.status_code == 200, response.text


async def test_patch_unknown_user_is_404(admin_client):
    response = await admin_client.patch(f"{USERS}/999999", json={"first_name": "Ghost"})

    assert response.status_code == 404, response.text
    assert response.json() == NOT_FOUND


@pytest.mark.parametrize("grant", ["is_staff", "is_superuser"])
async def test_staff_who_is_not_superuser_cannot_grant_staff_or_superuser(
    staff_client, db_session, user, grant
):
    response = await staff_client.patch(f"{USERS}/{user.id}", json={grant: True})

    assert response.status_code == 403, response.text
    assert "superuser" in response.json()["detail"]
    await db_session.refresh(user)
    assert (user.is_staff, user.is_superuser) == (False, False)


async def test_staff_may_edit_a_plain_user(staff_client, user):
    response = await staff_client.patch(f"{USERS}/{user.id}", json={"last_name": "Edited"})

    assert response.status_code == 200, response.text
    assert response.json()["last_name"] == "Edited"


async def test_staff_who_is_not_superuser_cannot_edit_a_superuser(
    staff_client, db_session, admin_user
):
    response = await staff_client.patch(f"{USERS}/{admin_user.id}", json={"password": NEW_PASSWORD})

    assert response.status_code == 403, response.text
    old_hash = admin_user.password
    await db_session.refresh(admin_user)
    assert admin_user.password == old_hash


async def test_superuser_grants_staff_and_the_user_can_use_the_admin_api_at_once(
    admin_client, client, user
):
    headers = bearer(user)
    assert (await client.get(USERS, headers=headers)).status_code == 403

    response = await admin_client.patch(f"{USERS}/{user.id}", json={"is_staff": True})

    assert response.status_code == 200, response.text
    assert response.json()["is_staff"] is True
    assert (await client.get(USERS, headers=headers)).status_code == 200


async def test_revoking_staff_closes_the_admin_api_at_once(admin_client, client, staff_user):
    headers = bearer(staff_user)

    response = await admin_client.patch(f"{USERS}/{staff_user.id}", json={"is_staff": False})

    assert response.status_code == 200, response.text
    refused = await client.get(USERS, headers=headers)
    assert refused.status_code == 403
    assert refused.json()["detail"]


async def test_deactivating_a_user_by_patch_revokes_their_tokens(admin_client, client, user):
    headers = bearer(user)

    response = await admin_client.patch(f"{USERS}/{user.id}", json={"is_active": False})

    assert response.status_code == 200, response.text
    assert response.json()["is_active"] is False
    assert (await client.get(ME, headers=headers)).status_code == 401


async def test_admin_cannot_deactivate_themself_by_patch(admin_client, db_session, admin_user):
    response = await admin_client.patch(f"{USERS}/{admin_user.id}", json={"is_active": False})

    assert response.status_code == 409, response.text
    assert response.json()["detail"]
    assert await _is_active(db_session, admin_user.id) is True


# Delete -----------------------------------------------------------------------------------


async def test_delete_user_deletes_their_contexts_too(admin_client, client, db_session, user):
    await ContextFactory.acreate_batch(3, owner=user)
    bystander = await UserFactory.acreate(username="bystander")
    kept = await ContextFactory.acreate(owner=bystander)
    headers = bearer(user)

    response = await admin_client.delete(f"{USERS}/{user.id}")

    assert response.status_code == 204, response.text
    assert response.content == b""
    assert not await _user_exists(db_session, user.id)
    assert await _count(db_session, Context, Context.owner_id == user.id) == 0
    assert await _count(db_session, Context, Context.id == kept.id) == 1
    assert (await admin_client.get(f"{USERS}/{user.id}")).status_code == 404
    assert (await client.get(ME, headers=headers)).status_code == 401


async def test_delete_user_twice_is_404_the_second_time(admin_client, user):
    assert (await admin_client.delete(f"{USERS}/{user.id}")).status_code == 204

    response = await admin_client.delete(f"{USERS}/{user.id}")

    assert response.status_code == 404, response.text
    assert response.json() == NOT_FOUND


async def test_admin_cannot_delete_themself(admin_client, db_session, admin_user):
    response = await admin_client.delete(f"{USERS}/{admin_user.id}")

    assert response.status_code == 409, response.text
    assert "yourself" in response.json()["detail"]
    assert await _user_exists(db_session, admin_user.id)


async def test_staff_who_is_not_superuser_cannot_delete_a_superuser(
    staff_client, db_session, admin_user
):
    response = await staff_client.delete(f"{USERS}/{admin_user.id}")

    assert response.status_code == 403, response.text
    assert await _user_exists(db_session, admin_user.id)


async def test_staff_may_delete_a_plain_user(staff_client, db_session, user):
    response = await staff_client.delete(f"{USERS}/{user.id}")

    assert response.status_code == 204, response.text
    assert not await _user_exists(db_session, user.id)


# Bulk action ------------------------------------------------------------------------------


async def test_bulk_deactivate_deactivates_every_listed_user_and_revokes_their_tokens(
    admin_client, client, db_session, user
):
    bob = await UserFactory.acreate(username="bob")
    bystander = await UserFactory.acreate(username="bystander")
    headers = bearer(bob)

    response = await admin_client.post(
        BULK, json={"ids": [user.id, bob.id], "action": "deactivate"}
    )

    assert response.status_code == 200, response.text
    assert response.json() == {"affected": 2}
    assert await _is_active(db_session, user.id) is False
    assert await _is_active(db_session, bob.id) is False
    assert await _is_active(db_session, bystander.id) is True
    assert (await client.get(ME, headers=headers)).status_code == 401


async def test_bulk_activate_activates_every_listed_user(admin_client, db_session):
    sleepers = await UserFactory.acreate_batch(3, inactive=True)

    response = await admin_client.post(
        BULK, json={"ids": [sleeper.id for sleeper in sleepers], "action": "activate"}
    )

    assert response.status_code == 200, response.text
    assert response.json() == {"affected": 3}
    for sleeper in sleepers:
        assert await _is_active(db_session, sleeper.id) is True


async def test_bulk_activate_may_include_the_admin_themself(admin_client, admin_user, user):
    response = await admin_client.post(
        BULK, json={"ids": [admin_user.id, user.id], "action": "activate"}
    )

    assert response.status_code == 200, response.text
    assert response.json() == {"affected": 2}


async def test_bulk_delete_deletes_the_users_and_their_contexts(admin_client, db_session, user):
    bob = await UserFactory.acreate(username="bob")
    await ContextFactory.acreate_batch(2, owner=user)
    await ContextFactory.acreate_batch(2, owner=bob)
    kept = await ContextFactory.acreate()

    response = await admin_client.post(BULK, json={"ids": [user.id, bob.id], "action": "delete"})

    assert response.status_code == 200, response.text
    assert response.json() == {"affected": 2}
    assert await _count(db_session, User, User.id.in_([user.id, bob.id])) == 0
    assert await _count(db_session, Context, Context.owner_id.in_([user.id, bob.id])) == 0
    assert await _count(db_session, Context, Context.id == kept.id) == 1


async def test_bulk_action_counts_a_repeated_id_once(admin_client, user):
    response = await admin_client.post(
        BULK, json={"ids": [user.id, user.id, user.id], "action": "deactivate"}
    )

    assert response.status_code == 200, response.text
    assert response.json() == {"affected": 1}


@pytest.mark.parametrize("action", ["activate", "deactivate", "delete"])
async def test_bulk_action_with_an_unknown_id_is_404_and_changes_nothing(
    admin_client, db_session, user, action
):
    sleeper = await UserFactory.acreate(inactive=True)

    response = await admin_client.post(
        BULK, json={"ids": [user.id, 999999, sleeper.id], "action": action}
    )

    assert response.status_code == 404, response.text
    body = response.json()
    assert "999999" in body["detail"]
    assert body["ids"] == [999999]
    assert body["indexes"] == [1]
    assert await _is_active(db_session, user.id) is True
    assert await _is_active(db_session, sleeper.id) is False


@pytest.mark.parametrize("action", ["deactivate", "delete"])
async def test_admin_cannot_deactivate_or_delete_themself_in_bulk_and_nothing_changes(
    admin_client, db_session, admin_user, user, action
):
    response = await admin_client.post(
        BULK, json={"ids": [user.id, admin_user.id], "action": action}
    )

    assert response.status_code == 409, response.text
    body = response.json()
    assert "yourself" in body["detail"]
    assert body["ids"] == [admin_user.id]
    assert await _is_active(db_session, user.id) is True
    assert await _is_active(db_session, admin_user.id) is True


async def test_staff_who_is_not_superuser_cannot_bulk_act_on_a_superuser(
    staff_client, db_session, admin_user, user
):
    response = await staff_client.post(
        BULK, json={"ids": [user.id, admin_user.id], "action": "deactivate"}
    )

    assert response.status_code == 403, response.text
    assert await _is_active(db_session, user.id) is True
    assert await _is_active(db_session, admin_user.id) is True


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"ids": [], "action": "deactivate"}, "ids"),
        ({"ids": list(range(1, 1002)), "action": "deactivate"}, "ids"),
        ({"ids": ["one"], "action": "deactivate"}, "ids"),
        ({"action": "deactivate"}, "ids"),
        ({"ids": [1], "action": "promote"}, "action"),
        ({"ids": [1]}, "action"),
    ],
    ids=["empty", "1001-ids", "not-ints", "no-ids", "unknown-action", "no-action"],
)
async def test_bulk_action_with_an_invalid_body_is_422(admin_client, db_session, user, body, field):
    response = await admin_client.post(BULK, json=body)

    assert response.status_code == 422, response.text
    locations = [error["loc"] for error in response.json()["detail"]]
    assert any(loc[:2] == ["body", field] for loc in locations), locations
    assert await _is_active(db_session, user.id) is True


async def test_bulk_action_accepts_a_thousand_ids(admin_client):
    # Unknown ids, so a 404: the size itself is accepted.
    response = await admin_client.post(
        BULK, json={"ids": list(range(10**6, 10**6 + 1000)), "action": "deactivate"}
    )

    assert response.status_code == 404, response.text


# Every user's contexts --------------------------------------------------------------------


async def test_admin_lists_every_users_contexts_ordered_by_id(admin_client, user):
    bob = await UserFactory.acreate(username="bob")
    mine = await ContextFactory.acreate_batch(2, owner=user)
    bobs = await ContextFactory.acreate_batch(2, owner=bob)

    response = await admin_client.get(CONTEXTS)

    assert response.status_code == 200, response.text
    body = response.json()
    assert [item["id"] for item in body["items"]] == sorted(c.id for c in [*mine, *bobs])
    assert (body["total"], body["limit"], body["offset"]) == (4, 50, 0)
    assert set(body["items"][0]) == {
        "id",
        "owner_id",
        "name",
        "description",
        "data",
        "is_active",
        "created_at",
        "updated_at",
    }


async def test_admin_contexts_filter_by_owner(admin_client, user):
    bob = await UserFactory.acreate(username="bob")
    await ContextFactory.acreate_batch(2, owner=user)
    bobs = await ContextFactory.acreate_batch(3, owner=bob)

    response = await admin_client.get(CONTEXTS, params={"owner_id": bob.id})

    assert response.status_code == 200, response.text
    assert [item["id"] for item in response.json()["items"]] == [c.id for c in bobs]
    assert {item["owner_id"] for item in response.json()["items"]} == {bob.id}
    assert response.json()["total"] == 3


@pytest.mark.parametrize("owner_id", [999999, 0, 2**63])
async def test_admin_contexts_of_an_unknown_owner_is_an_empty_page(admin_client, user, owner_id):
    await ContextFactory.acreate(owner=user)

    response = await admin_client.get(CONTEXTS, params={"owner_id": owner_id})

    assert response.status_code == 200, response.text
    assert response.json()["items"] == []
    assert response.json()["total"] == 0


async def test_admin_contexts_search_pages_and_active_filter(admin_client, user):
    bob = await UserFactory.acreate(username="bob")
    first = await ContextFactory.acreate(owner=user, name="Project Alpha")
    second = await ContextFactory.acreate(owner=bob, name="alphabet soup")
    await ContextFactory.acreate(owner=bob, name="beta")
    hidden = await ContextFactory.acreate(owner=user, name="ALPHA archived", is_active=False)

    found = await admin_client.get(CONTEXTS, params={"search": "ALPHA"})
    paged = await admin_client.get(CONTEXTS, params={"search": "alpha", "limit": 1, "offset": 1})
    inactive = await admin_client.get(CONTEXTS, params={"is_active": False})

    assert [item["id"] for item in found.json()["items"]] == [first.id, second.id, hidden.id]
    assert [item["id"] for item in paged.json()["items"]] == [second.id]
    assert paged.json()["total"] == 3
    assert [item["id"] for item in inactive.json()["items"]] == [hidden.id]


@pytest.mark.parametrize(
    ("params", "field"),
    [({"limit": 0}, "limit"), ({"limit": 501}, "limit"), ({"offset": -1}, "offset")],
)
async def test_admin_contexts_with_a_bad_page_is_422(admin_client, params, field):
    response = await admin_client.get(CONTEXTS, params=params)

    assert response.status_code == 422, response.text
    assert [error["loc"] for error in response.json()["detail"]] == [["query", field]]


# No password material ---------------------------------------------------------------------


async def test_no_admin_response_carries_a_password_or_its_hash(admin_client, user):
    # The response hook scans each of these; this test makes sure every kind is exercised.
    created = await admin_client.post(USERS, json={"username": "newbie", "password": NEW_PASSWORD})
    user_id = created.json()["id"]
    responses = [
        created,
        await admin_client.get(USERS),
        await admin_client.get(f"{USERS}/{user_id}"),
        await admin_client.patch(f"{USERS}/{user_id}", json={"password": OTHER_PASSWORD}),
        await admin_client.post(USERS, json={"username": "newbie", "password": NEW_PASSWORD}),
        await admin_client.post(USERS, json={"username": "x y", "password": OTHER_PASSWORD}),
        await admin_client.patch(f"{USERS}/{user_id}", json={"password": "short"}),
        await admin_client.post(BULK, json={"ids": [user_id], "action": "deactivate"}),
    ]

    assert [r.status_code for r in responses] == [201, 200, 200, 200, 409, 422, 422, 200]
    for response in responses:
        assert "password" not in set(_keys(response.json()))
        assert not any(marker in response.text for marker in (*PLAINTEXTS, *HASH_MARKERS))
