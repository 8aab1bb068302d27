"""/api/contexts one at a time: list, create, get, patch, delete, each owner seeing only theirs."""

from __future__ import annotations

import unicodedata
from datetime import datetime

import pytest
from app.models import Context
from sqlalchemy import func, select

from tests.conftest import bearer
from tests.factories import ContextFactory, UserFactory

NOT_FOUND = {"detail": "Context not found"}


async def _count_contexts(db_session, owner) -> int:
    return await db_session.scalar(
        select(func.count()).select_from(Context).where(Context.owner_id == owner.id)
    )


def _error_locs(response) -> list[list]:
    return [error["loc"] for error in response.json()["detail"]]


# --- anonymous -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/api/contexts", None),
        ("POST", "/api/contexts", {"name": "x"}),
        ("GET", "/api/contexts/1", None),
        ("PATCH", "/api/contexts/1", {"name": "x"}),
        ("DELETE", "/api/contexts/1", None),
    ],
)
async def test_anonymous_request_is_refused_with_401(client, method, path, body):
    response = await client.request(method, path, json=body)

    assert response.status_code == 401
    assert response.json() == {"detail": "Not authenticated"}
    assert response.headers["www-authenticate"] == "Bearer"


async def test_anonymous_create_writes_nothing(client, db_session):
    await client.post("/api/contexts", json={"name": "x"})

    assert await db_session.scalar(select(func.count()).select_from(Context)) == 0


# --- list ------------------------------------------------------------------------------------


async def test_list_returns_own_contexts_ordered_by_id_in_the_page_shape(user_client, user):
    other = await UserFactory.acreate()
    await ContextFactory.acreate(owner=other, name="not mine")
    # Names in reverse alphabetical order, so ordering by name would show.
    mine = [
        await ContextFactory.acreate(owner=user, name=name) for name in ("zeta", "mid", "alpha")
    ]

    response = await user_client.get("/api/contexts")

    assert response.status_code == 200
    body = response.json()
    assert body["total"] == 3
    assert body["limit"] == 50
    assert body["offset"] == 0
    assert [item["id"] for item in body["items"]] == [context.id for context in mine]
    assert [item["name"] for item in body["items"]] == ["zeta", "mid", "alpha"]
    assert {item["owner_id"] for item in body["items"]} == {user.id}


async def test_list_items_carry_every_context_field(user_client, user):
    context = await ContextFactory.acreate(
        owner=user, name="full", description="about", data={"k": [1, 2]}, is_active=False
    )

    response = await user_client.get("/api/contexts")

    (item,) = response.json()["items"]
    assert set(item) == {
        "id",
        "owner_id",
        "name",
        "description",
        "data",
        "is_active",
        "created_at",
        "updated_at",
    }
    assert item["id"] == context.id
    assert item["owner_id"] == user.id
    assert item["name"] == "full"
    assert item["description"] == "about"
    assert item["data"] == {"k": [1, 2]}
    assert item["is_active"] is False


async def test_list_without_contexts_is_an_empty_page(user_client):
    response = await user_client.get("/api/contexts")

    assert response.status_code == 200
    assert response.json() == {"items": [], "total": 0, "limit": 50, "offset": 0}


async def test_list_default_limit_is_50_and_total_counts_all(user_client, user):
    await ContextFactory.acreate_batch(55, owner=user)

    response = await user_client.get("/api/contexts")

    body = response.json()
    assert len(body["items"]) == 50
    assert body["total"] == 55


async def test_list_limit_and_offset_select_a_window_ordered_by_id(user_client, user):
    contexts = await ContextFactory.acreate_batch(5, owner=user)
    ids = sorted(context.id for context in contexts)

    response = await user_client.get("/api/contexts", params={"limit": 2, "offset": 1})

    assert response.status_code == 200
    body = response.json()
    assert [item["id"] for item in body["items"]] == ids[1:3]
    assert (body["total"], body["limit"], body["offset"]) == (5, 2, 1)


async def test_list_offset_past_the_end_gives_no_items_but_the_total(user_client, user):
    await ContextFactory.acreate_batch(3, owner=user)

    response = await user_client.get("/api/contexts", params={"offset": 10})

    assert response.status_code == 200
    assert response.json() == {"items": [], "total": 3, "limit": 50, "offset": 10}


@pytest.mark.parametrize("limit", [1, 500])
async def test_list_accepts_limit_at_its_bounds(user_client, user, limit):
    await ContextFactory.acreate_batch(2, owner=user)

    response = await user_client.get("/api/contexts", params={"limit": limit})

    assert response.status_code == 200
    assert response.json()["limit"] == limit
    assert len(response.json()["items"]) == min(limit, 2)


@pytest.mark.parametrize("limit", ["0", "501", "-1", "ten", "1.5"])
async def test_list_refuses_limit_outside_1_to_500_with_422(user_client, limit):
    response = await user_client.get("/api/contexts", params={"limit": limit})

    assert response.status_code == 422
    assert _error_locs(response) == [["query", "limit"]]


@pytest.mark.parametrize("offset", ["-1", "x"])
async def test_list_refuses_negative_or_non_integer_offset_with_422(user_client, offset):
    response = await user_client.get("/api/contexts", params={"offset": offset})

    assert response.status_code == 422
    assert _error_locs(response) == [["query", "offset"]]


async def test_list_search_matches_a_substring_ignoring_case(user_client, user):
    for name in ("Alpha project", "beta", "the ALPHABET", "alp"):
        await ContextFactory.acreate(owner=user, name=name)

    response = await user_client.get("/api/contexts", params={"search": "aLpHa"})

    body = response.json()
    assert [item["name"] for item in body["items"]] == ["Alpha project", "the ALPHABET"]
    assert body["total"] == 2


@pytest.mark.parametrize(
    ("search", "expected"),
    [("%", ["100% done"]), ("_", ["a_b"]), ("\\", ["back\\slash"])],
)
async def test_list_search_takes_like_wildcards_literally(user_client, user, search, expected):
    for name in ("100% done", "100 done", "a_b", "axb", "back\\slash", "backslash"):
        await ContextFactory.acreate(owner=user, name=name)

    response = await user_client.get("/api/contexts", params={"search": search})

    assert response.status_code == 200
    assert [item["name"] for item in response.json()["items"]] == expected


async def test_list_search_finds_a_name_typed_in_decomposed_unicode(user_client, user):
    await ContextFactory.acreate(owner=user, name="Café")  # stored NFC, as the API stores it

    response = await user_client.get("/api/contexts", params={"search": "Cafe\u0301"})

    assert [item["name"] for item in response.json()["items"]] == ["Café"]


async def test_list_search_never_shows_other_users_contexts(user_client, user):
    other = await UserFactory.acreate()
    await ContextFactory.acreate(owner=other, name="shared word")
    await ContextFactory.acreate(owner=user, name="my word")

    response = await user_client.get("/api/contexts", params={"search": "word"})

    assert [item["name"] for item in response.json()["items"]] == ["my word"]
    assert response.json()["total"] == 1


async def test_list_empty_search_matches_everything(user_client, user):
    await ContextFactory.acreate_batch(3, owner=user)

    response = await user_client.get("/api/contexts", params={"search": ""})

    assert response.json()["total"] == 3


@pytest.mark.parametrize(("is_active", "expected"), [("true", ["on"]), ("false", ["off"])])
async def test_list_filters_on_is_active(user_client, user, is_active, expected):
    await ContextFactory.acreate(owner=user, name="on", is_active=True)
    await ContextFactory.acreate(owner=user, name="off", is_active=False)

    response = await user_client.get("/api/contexts", params={"is_active": is_active})

    assert response.status_code == 200
    assert [item["name"] for item in response.json()["items"]] == expected
    assert response.json()["total"] == 1


async def test_list_refuses_a_non_boolean_is_active_with_422(user_client):
    response = await user_client.get("/api/contexts", params={"is_active": "maybe"})

    assert response.status_code == 422
    assert _error_locs(response) == [["query", "is_active"]]


async def test_list_combines_search_filter_and_paging(user_client, user):
    names = ["log a", "log b", "log c", "other", "log d"]
    for index, name in enumerate(names):
        await ContextFactory.acreate(owner=user, name=name, is_active=index != 1)

    response = await user_client.get(
        "/api/contexts", params={"search": "LOG", "is_active": "true", "limit": 2, "offset": 1}
    )

    body = response.json()
    assert [item["name"] for item in body["items"]] == ["log c", "log d"]
    assert body["total"] == 3


# --- create ----------------------------------------------------------------------------------


async def test_create_returns_201_with_defaults(user_client, user):
    response = await user_client.post("/api/contexts", json={"name": "first"})

    assert response.status_code == 201
    body = response.json()
    assert isinstance(body["id"], int)
    assert body["owner_id"] == user.id
    assert body["name"] == "first"
    assert body["description"] == ""
    assert body["data"] == {}
    assert body["is_active"] is True
    created_at = datetime.fromisoformat(body["created_at"])
    assert created_at.utcoffset() is not None
    assert datetime.fromisoformat(body["updated_at"]) == created_at


async def test_create_stores_every_given_field(user_client, user, db_session):
    payload = {
        "name": "full",
        "description": "a description",
        "data": {"nested": {"list": [1, "two", None, True, 2.5]}},
        "is_active": False,
    }

    response = await user_client.post("/api/contexts", json=payload)

    assert response.status_code == 201
    assert {key: response.json()[key] for key in payload} == payload
    stored = await db_session.get(Context, response.json()["id"])
    assert (stored.owner_id, stored.name, stored.description, stored.data, stored.is_active) == (
        user.id,
        "full",
        "a description",
        payload["data"],
        False,
    )


async def test_create_refuses_owner_id_and_id_in_the_body_naming_them(user_client, db_session):
    other = await UserFactory.acreate()

    response = await user_client.post(
        "/api/contexts", json={"name": "mine", "owner_id": other.id, "id": 424242}
    )

    assert response.status_code == 422
    assert [(error["loc"], error["type"]) for error in response.json()["detail"]] == [
        (["body", "owner_id"], "extra_forbidden"),
        (["body", "id"], "extra_forbidden"),
    ]
    assert (await db_session.scalars(select(Context))).all() == []


async def test_created_context_is_returned_by_get(user_client):
    created = (await user_client.post("/api/contexts", json={"name": "roundtrip"})).json()

    response = await user_client.get(f"/api/contexts/{created['id']}")

    assert response.status_code == 200
    assert response.json() == created


async def test_create_trims_surrounding_whitespace_from_the_name(user_client):
    response = await user_client.post("/api/contexts", json={"name": "  \t spaced out \n "})

    assert response.status_code == 201
    assert response.json()["name"] == "spaced out"


async def test_create_stores_the_name_nfc_normalised(user_client, db_session):
    decomposed = "Cafe\u0301"

    response = await user_client.post("/api/contexts", json={"name": decomposed})

    assert response.status_code == 201
    assert response.json()["name"] == "Caf\u00e9"
    stored = await db_session.get(Context, response.json()["id"])
    assert stored.name == unicodedata.normalize("NFC", decomposed)


@pytest.mark.parametrize("name", ["x", "n" * 100, "  " + "n" * 100 + "  "])
async def test_create_accepts_names_of_1_to_100_characters_after_trimming(user_client, name):
    response = await user_client.post("/api/contexts", json={"name": name})

    assert response.status_code == 201
    assert response.json()["name"] == name.strip()


@pytest.mark.parametrize("name", ["", "   ", "\t\n", "n" * 101, 42, None, "nul\x00byte"])
async def test_create_refuses_an_invalid_name_with_422_naming_it(
    user_client, db_session, user, name
):
    response = await user_client.post("/api/contexts", json={"name": name})

    assert response.status_code == 422
    assert _error_locs(response) == [["body", "name"]]
    assert await _count_contexts(db_session, user) == 0


async def test_create_refuses_a_missing_name_with_422(user_client):
    response = await user_client.post("/api/contexts", json={"description": "no name"})

    assert response.status_code == 422
    assert response.json()["detail"][0]["type"] == "missing"
    assert _error_locs(response) == [["body", "name"]]


async def test_create_accepts_a_description_of_10000_characters(user_client):
    response = await user_client.post(
        "/api/contexts", json={"name": "long", "description": "d" * 10_000}
    )

    assert response.status_code == 201
    assert len(response.json()["description"]) == 10_000


async def test_create_refuses_a_description_over_10000_characters(user_client):
    response = await user_client.post(
        "/api/contexts", json={"name": "long", "description": "d" * 10_001}
    )

    assert response.status_code == 422
    assert _error_locs(response) == [["body", "description"]]
    assert response.json()["detail"][0]["type"] == "string_too_long"


@pytest.mark.parametrize("data", [[1, 2], "text", 3, True, None])
async def test_create_refuses_data_that_is_not_a_json_object(user_client, data):
    response = await user_client.post("/api/contexts", json={"name": "d", "data": data})

    assert response.status_code == 422
    assert _error_locs(response) == [["body", "data"]]


async def test_create_refuses_a_non_boolean_is_active(user_client):
    response = await user_client.post("/api/contexts", json={"name": "b", "is_active": "perhaps"})

    assert response.status_code == 422
    assert _error_locs(response) == [["body", "is_active"]]


async def test_create_reports_every_invalid_field_at_once(user_client):
    response = await user_client.post(
        "/api/contexts", json={"name": "", "description": "d" * 10_001, "data": []}
    )

    assert response.status_code == 422
    assert sorted(_error_locs(response)) == [
        ["body", "data"],
        ["body", "description"],
        ["body", "name"],
    ]


async def test_create_refuses_a_duplicate_name_of_the_same_owner_with_409(
    user_client, user, db_session
):
    await ContextFactory.acreate(owner=user, name="taken")

    response = await user_client.post("/api/contexts", json={"name": "taken"})

    assert response.status_code == 409
    assert response.json() == {"detail": "A context named 'taken' already exists"}
    assert await _count_contexts(db_session, user) == 1


@pytest.mark.parametrize("spelling", ["  taken  ", "Cafe\u0301"])
async def test_create_detects_duplicates_after_trimming_and_normalising(
    user_client, user, spelling
):
    await ContextFactory.acreate(owner=user, name=unicodedata.normalize("NFC", spelling.strip()))

    response = await user_client.post("/api/contexts", json={"name": spelling})

    assert response.status_code == 409


async def test_create_names_are_case_sensitive(user_client, user):
    await ContextFactory.acreate(owner=user, name="Report")

    response = await user_client.post("/api/contexts", json={"name": "report"})

    assert response.status_code == 201


async def test_the_same_name_may_belong_to_two_owners(user_client, user):
    other = await UserFactory.acreate()
    await ContextFactory.acreate(owner=other, name="common")

    response = await user_client.post("/api/contexts", json={"name": "common"})

    assert response.status_code == 201
    assert response.json()["owner_id"] == user.id


# --- get -------------------------------------------------------------------------------------


async def test_get_returns_the_owners_context(user_client, user):
    context = await ContextFactory.acreate(owner=user, name="mine", data={"a": 1})

    response = await user_client.get(f"/api/contexts/{context.id}")

    assert response.status_code == 200
    body = response.json()
    assert (body["id"], body["owner_id"], body["name"], body["data"]) == (
        context.id,
        user.id,
        "mine",
        {"a": 1},
    )


async def test_get_someone_elses_context_is_404_like_a_missing_one(user_client):
    other = await UserFactory.acreate()
    theirs = await ContextFactory.acreate(owner=other)

    response = await user_client.get(f"/api/contexts/{theirs.id}")
    missing = await user_client.get(f"/api/contexts/{theirs.id + 1000}")

    assert response.status_code == 404
    assert response.json() == NOT_FOUND
    assert (missing.status_code, missing.json()) == (404, NOT_FOUND)


@pytest.mark.parametrize("context_id", ["0", "2147483648", "99999999999999999999"])
async def test_get_an_id_that_cannot_exist_is_404(user_client, context_id):
    response = await user_client.get(f"/api/contexts/{context_id}")

    assert response.status_code == 404
    assert response.json() == NOT_FOUND


async def test_get_a_non_integer_id_is_422(user_client):
    response = await user_client.get("/api/contexts/abc")

    assert response.status_code == 422
    assert _error_locs(response) == [["path", "context_id"]]


# --- patch -----------------------------------------------------------------------------------


async def test_patch_changes_only_the_given_fields(user_client, user, db_session):
    context = await ContextFactory.acreate(
        owner=user, name="keep", description="old", data={"k": 1}, is_active=True
    )
    before = (await user_client.get(f"/api/contexts/{context.id}")).json()

    response = await user_client.patch(f"/api/contexts/{context.id}", json={"description": "new"})

    assert response.status_code == 200
    body = response.json()
    assert body["description"] == "new"
    assert {key: body[key] for key in ("id", "owner_id", "name", "data", "is_active")} == {
        key: before[key] for key in ("id", "owner_id", "name", "data", "is_active")
    }
    assert body["created_at"] == before["created_at"]
    assert datetime.fromisoformat(body["updated_at"]) >= datetime.fromisoformat(
        before["updated_at"]
    )
    await db_session.refresh(context)
    assert (context.name, context.description, context.data) == ("keep", "new", {"k": 1})


async def test_patch_can_set_every_field(user_client, user):
    context = await ContextFactory.acreate(owner=user, name="before")
    payload = {"name": "after", "description": "d", "data": {"x": [True]}, "is_active": False}

    response = await user_client.patch(f"/api/contexts/{context.id}", json=payload)

    assert response.status_code == 200
    assert {key: response.json()[key] for key in payload} == payload


async def test_patch_with_an_empty_body_changes_nothing(user_client, user):
    context = await ContextFactory.acreate(owner=user, name="still")
    before = (await user_client.get(f"/api/contexts/{context.id}")).json()

    response = await user_client.patch(f"/api/contexts/{context.id}", json={})

    assert response.status_code == 200
    assert response.json() == before


async def test_patch_trims_and_normalises_the_new_name(user_client, user):
    context = await ContextFactory.acreate(owner=user, name="old")

    response = await user_client.patch(
        f"/api/contexts/{context.id}", json={"name": "  Cafe\u0301  "}
    )

    assert response.status_code == 200
    assert response.json()["name"] == "Caf\u00e9"


async def test_patch_to_another_contexts_name_is_409_and_changes_nothing(
    user_client, user, db_session
):
    await ContextFactory.acreate(owner=user, name="taken")
    context = await ContextFactory.acreate(owner=user, name="mine")

    response = await user_client.patch(
        f"/api/contexts/{context.id}", json={"name": " taken ", "description": "changed"}
    )

    assert response.status_code == 409
    assert response.json() == {"detail": "A context named 'taken' already exists"}
    await db_session.refresh(context)
    assert (context.name, context.description) == ("mine", "")


async def test_patch_keeping_its_own_name_is_not_a_conflict(user_client, user):
    context = await ContextFactory.acreate(owner=user, name="same")

    response = await user_client.patch(
        f"/api/contexts/{context.id}", json={"name": "same", "description": "x"}
    )

    assert response.status_code == 200
    assert response.json()["name"] == "same"


async def test_patch_to_a_name_another_owner_uses_is_allowed(user_client, user):
    other = await UserFactory.acreate()
    await ContextFactory.acreate(owner=other, name="theirs")
    context = await ContextFactory.acreate(owner=user, name="mine")

    response = await user_client.patch(f"/api/contexts/{context.id}", json={"name": "theirs"})

    assert response.status_code == 200
    assert response.json()["name"] == "theirs"


@pytest.mark.parametrize(
    ("payload", "loc"),
    [
        ({"name": ""}, ["body", "name"]),
        ({"name": "   "}, ["body", "name"]),
        ({"name": "n" * 101}, ["body", "name"]),
        ({"name": None}, ["body", "name"]),
        ({"description": "d" * 10_001}, ["body", "description"]),
        ({"description": None}, ["body", "description"]),
        ({"data": [1]}, ["body", "data"]),
        ({"data": None}, ["body", "data"]),
        ({"is_active": None}, ["body", "is_active"]),
        ({"is_active": "maybe"}, ["body", "is_active"]),
    ],
)
async def test_patch_refuses_invalid_fields_with_422_and_changes_nothing(
    user_client, user, db_session, payload, loc
):
    context = await ContextFactory.acreate(owner=user, name="intact", description="kept")

    response = await user_client.patch(f"/api/contexts/{context.id}", json=payload)

    assert response.status_code == 422
    assert loc in _error_locs(response)
    await db_session.refresh(context)
    assert (context.name, context.description, context.is_active) == ("intact", "kept", True)


async def test_patch_someone_elses_context_is_404_and_leaves_it_alone(user_client, db_session):
    other = await UserFactory.acreate()
    theirs = await ContextFactory.acreate(owner=other, name="theirs")

    response = await user_client.patch(f"/api/contexts/{theirs.id}", json={"name": "hijacked"})

    assert response.status_code == 404
    assert response.json() == NOT_FOUND
    await db_session.refresh(theirs)
    assert theirs.name == "theirs"


async def test_patch_a_missing_context_is_404(user_client):
    response = await user_client.patch("/api/contexts/999999", json={"name": "ghost"})

    assert response.status_code == 404
    assert response.json() == NOT_FOUND


async def test_patch_someone_elses_context_is_404_even_with_an_invalid_name_of_theirs(
    user_client, user
):
    # A name the other owner uses must not reveal itself as a 409 either.
    other = await UserFactory.acreate()
    theirs = await ContextFactory.acreate(owner=other, name="theirs")
    await ContextFactory.acreate(owner=other, name="also theirs")

    response = await user_client.patch(f"/api/contexts/{theirs.id}", json={"name": "also theirs"})

    assert response.status_code == 404


# --- delete ----------------------------------------------------------------------------------


async def test_delete_returns_204_then_the_context_is_gone(user_client, user, db_session):
    context = await ContextFactory.acreate(owner=user)
    keep = await ContextFactory.acreate(owner=user)

    response = await user_client.delete(f"/api/contexts/{context.id}")

    assert response.status_code == 204
    assert response.content == b""
    assert (await user_client.get(f"/api/contexts/{context.id}")).status_code == 404
    listed = (await user_client.get("/api/contexts")).json()
    assert [item["id"] for item in listed["items"]] == [keep.id]
    assert await db_session.get(Context, context.id, populate_existing=True) is None


async def test_delete_twice_is_404_the_second_time(user_client, user):
    context = await ContextFactory.acreate(owner=user)
    await user_client.delete(f"/api/contexts/{context.id}")

    response = await user_client.delete(f"/api/contexts/{context.id}")

    assert response.status_code == 404
    assert response.json() == NOT_FOUND


async def test_delete_someone_elses_context_is_404_and_keeps_it(user_client, db_session):
    other = await UserFactory.acreate()
    theirs = await ContextFactory.acreate(owner=other)

    response = await user_client.delete(f"/api/contexts/{theirs.id}")

    assert response.status_code == 404
    assert response.json() == NOT_FOUND
    assert await _count_contexts(db_session, other) == 1


async def test_the_owner_can_still_use_a_context_another_user_failed_to_touch(
    client_factory, user_client, user
):
    mine = await ContextFactory.acreate(owner=user, name="mine")
    intruder = await UserFactory.acreate()
    intruder_client = client_factory(headers=bearer(intruder))

    statuses = [
        (await intruder_client.get(f"/api/contexts/{mine.id}")).status_code,
        (await intruder_client.patch(f"/api/contexts/{mine.id}", json={"name": "x"})).status_code,
        (await intruder_client.delete(f"/api/contexts/{mine.id}")).status_code,
    ]
    listed = (await intruder_client.get("/api/contexts")).json()

    assert statuses == [404, 404, 404]
    assert listed["total"] == 0
    response = await user_client.get(f"/api/contexts/{mine.id}")
    assert (response.status_code, response.json()["name"]) == (200, "mine")
