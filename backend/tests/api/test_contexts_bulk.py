"""The bulk context routes: request order, all-or-nothing, failing items named, query budgets."""

from __future__ import annotations

import pytest
from app.models import Context
from sqlalchemy import select

from tests.factories import ContextFactory, UserFactory

BULK_CREATE = "/api/contexts/bulk"
BULK_UPDATE = "/api/contexts/bulk"
BULK_DELETE = "/api/contexts/bulk-delete"


async def _snapshot(db_session) -> list[tuple]:
    """Every context row as it is in the database now (objects in the session refreshed)."""
    rows = await db_session.scalars(
        select(Context).order_by(Context.id).execution_options(populate_existing=True)
    )
    return [
        (row.id, row.owner_id, row.name, row.description, row.data, row.is_active, row.updated_at)
        for row in rows
    ]


def _names(n: int, prefix: str = "item") -> list[dict]:
    return [{"name": f"{prefix} {index}"} for index in range(n)]


def _error_locs(response) -> list[list]:
    return [error["loc"] for error in response.json()["detail"]]


# --- anonymous -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", BULK_CREATE, {"items": [{"name": "x"}]}),
        ("PATCH", BULK_UPDATE, {"items": [{"id": 1, "name": "x"}]}),
        ("POST", BULK_DELETE, {"ids": [1]}),
    ],
)
async def test_anonymous_bulk_request_is_refused_with_401(client, method, path, body):
    response = await client.request(method, path, json=body)

    assert response.status_code == 401
    assert response.json() == {"detail": "Not authenticated"}


# --- bulk create -----------------------------------------------------------------------------


async def test_bulk_create_returns_201_with_the_contexts_in_request_order(
    user_client, user, db_session
):
    names = ["zulu", "alpha", "mike", "bravo"]

    response = await user_client.post(
        BULK_CREATE, json={"items": [{"name": name} for name in names]}
    )

    assert response.status_code == 201
    items = response.json()["items"]
    assert [item["name"] for item in items] == names
    assert {item["owner_id"] for item in items} == {user.id}
    assert all(
        (item["description"], item["data"], item["is_active"]) == ("", {}, True) for item in items
    )
    stored = {row[2]: row[0] for row in await _snapshot(db_session)}
    assert [stored[name] for name in names] == [item["id"] for item in items]


async def test_bulk_create_stores_every_field_and_normalises_names(user_client):
    items = [
        {"name": "  padded  ", "description": "d", "data": {"k": [1]}, "is_active": False},
        {"name": "Cafe\u0301"},
    ]

    response = await user_client.post(BULK_CREATE, json={"items": items})

    assert response.status_code == 201
    first, second = response.json()["items"]
    assert (first["name"], first["description"], first["data"], first["is_active"]) == (
        "padded",
        "d",
        {"k": [1]},
        False,
    )
    assert second["name"] == "Caf\u00e9"
    listed = (await user_client.get("/api/contexts")).json()
    assert [item["name"] for item in listed["items"]] == ["padded", "Caf\u00e9"]


@pytest.mark.parametrize(
    ("bad_item", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "n" * 101}, "name"),
        ({"name": "ok", "description": "d" * 10_001}, "description"),
        ({"name": "ok", "data": ["not", "an", "object"]}, "data"),
        ({"name": "ok", "is_active": "sometimes"}, "is_active"),
    ],
)
async def test_bulk_create_with_one_invalid_item_writes_nothing_and_names_it(
    user_client, user, db_session, bad_item, field
):
    await ContextFactory.acreate(owner=user, name="existing")
    before = await _snapshot(db_session)
    items = _names(5)
    items[3] = bad_item

    response = await user_client.post(BULK_CREATE, json={"items": items})

    assert response.status_code == 422
    assert _error_locs(response) == [["body", "items", 3, field]]
    assert await _snapshot(db_session) == before


async def test_bulk_create_names_every_invalid_item(user_client):
    items = _names(6)
    items[1] = {"name": " "}
    items[4] = {"description": "no name"}

    response = await user_client.post(BULK_CREATE, json={"items": items})

    assert response.status_code == 422
    assert _error_locs(response) == [["body", "items", 1, "name"], ["body", "items", 4, "name"]]


async def test_bulk_create_with_a_name_repeated_in_the_batch_is_409_naming_both_items(
    user_client, db_session
):
    items = _names(6)
    items[4] = {"name": "item 1"}

    response = await user_client.post(BULK_CREATE, json={"items": items})

    assert response.status_code == 409
    body = response.json()
    assert body["indexes"] == [1, 4]
    assert "items 1, 4" in body["detail"]
    assert "nothing was written" in body["detail"]
    assert await _snapshot(db_session) == []


async def test_bulk_create_detects_repeats_after_trimming_and_normalising(user_client, db_session):
    items = [{"name": "Caf\u00e9"}, {"name": "other"}, {"name": "  Cafe\u0301 "}]

    response = await user_client.post(BULK_CREATE, json={"items": items})

    assert response.status_code == 409
    assert response.json()["indexes"] == [0, 2]
    assert await _snapshot(db_session) == []


async def test_bulk_create_with_a_name_that_already_exists_is_409_naming_the_item(
    user_client, user, db_session
):
    await ContextFactory.acreate(owner=user, name="existing")
    before = await _snapshot(db_session)
    items = _names(4)
    items[2] = {"name": "existing"}

    response = await user_client.post(BULK_CREATE, json={"items": items})

    assert response.status_code == 409
    body = response.json()
    assert body["indexes"] == [2]
    assert "item 2" in body["detail"]
    assert await _snapshot(db_session) == before


async def test_bulk_create_409_names_repeats_and_existing_names_together(user_client, user):
    await ContextFactory.acreate(owner=user, name="existing")
    items = [{"name": "a"}, {"name": "existing"}, {"name": "b"}, {"name": "a"}]

    response = await user_client.post(BULK_CREATE, json={"items": items})

    assert response.status_code == 409
    assert response.json()["indexes"] == [0, 1, 3]


async def test_bulk_create_may_reuse_names_another_owner_has(user_client, user):
    other = await UserFactory.acreate()
    await ContextFactory.acreate(owner=other, name="common")

    response = await user_client.post(BULK_CREATE, json={"items": [{"name": "common"}]})

    assert response.status_code == 201
    assert response.json()["items"][0]["owner_id"] == user.id


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({"items": []}, ["body", "items"]),
        ({"items": _names(1001)}, ["body", "items"]),
        ({}, ["body", "items"]),
        ({"items": {"name": "x"}}, ["body", "items"]),
    ],
    ids=["empty", "1001-items", "missing", "not-a-list"],
)
async def test_bulk_create_refuses_a_batch_outside_1_to_1000_items(
    user_client, db_session, body, loc
):
    response = await user_client.post(BULK_CREATE, json=body)

    assert response.status_code == 422
    assert _error_locs(response) == [loc]
    assert await _snapshot(db_session) == []


async def test_bulk_create_accepts_1000_items(user_client, db_session):
    response = await user_client.post(BULK_CREATE, json={"items": _names(1000)})

    assert response.status_code == 201
    items = response.json()["items"]
    assert [item["name"] for item in items] == [f"item {index}" for index in range(1000)]
    assert len(await _snapshot(db_session)) == 1000


# --- bulk update -----------------------------------------------------------------------------


async def test_bulk_update_applies_partial_updates_and_answers_in_request_order(
    user_client, user, db_session
):
    first, second, third = await ContextFactory.acreate_batch(3, owner=user, description="old")

    response = await user_client.patch(
        BULK_UPDATE,
        json={
            "items": [
                {"id": third.id, "name": "third renamed"},
                {"id": first.id, "data": {"k": 1}, "is_active": False},
                {"id": second.id, "description": "new"},
            ]
        },
    )

    assert response.status_code == 200
    items = response.json()["items"]
    assert [item["id"] for item in items] == [third.id, first.id, second.id]
    assert [(item["name"], item["description"]) for item in items] == [
        ("third renamed", "old"),
        (first.name, "old"),
        (second.name, "new"),
    ]
    assert (items[1]["data"], items[1]["is_active"]) == ({"k": 1}, False)
    for context in (first, second, third):
        await db_session.refresh(context)
    assert (third.name, first.data, first.is_active, second.description) == (
        "third renamed",
        {"k": 1},
        False,
        "new",
    )


async def test_bulk_update_trims_and_normalises_names(user_client, user):
    context = await ContextFactory.acreate(owner=user, name="before")

    response = await user_client.patch(
        BULK_UPDATE, json={"items": [{"id": context.id, "name": "  Cafe\u0301 "}]}
    )

    assert response.status_code == 200
    assert response.json()["items"][0]["name"] == "Caf\u00e9"


async def test_bulk_update_can_swap_two_names_in_one_batch(user_client, user):
    left = await ContextFactory.acreate(owner=user, name="left")
    right = await ContextFactory.acreate(owner=user, name="right")

    response = await user_client.patch(
        BULK_UPDATE,
        json={"items": [{"id": left.id, "name": "right"}, {"id": right.id, "name": "left"}]},
    )

    assert response.status_code == 200
    assert [item["name"] for item in response.json()["items"]] == ["right", "left"]
    listed = (await user_client.get("/api/contexts")).json()
    assert [(item["id"], item["name"]) for item in listed["items"]] == [
        (left.id, "right"),
        (right.id, "left"),
    ]


async def test_bulk_update_may_take_a_name_freed_in_the_same_batch(user_client, user):
    old = await ContextFactory.acreate(owner=user, name="wanted")
    new = await ContextFactory.acreate(owner=user, name="newcomer")

    response = await user_client.patch(
        BULK_UPDATE,
        json={"items": [{"id": new.id, "name": "wanted"}, {"id": old.id, "name": "retired"}]},
    )

    assert response.status_code == 200
    assert [item["name"] for item in response.json()["items"]] == ["wanted", "retired"]


async def test_bulk_update_with_someone_elses_id_is_404_naming_it_and_writes_nothing(
    user_client, user, db_session
):
    mine = await ContextFactory.acreate_batch(3, owner=user)
    other = await UserFactory.acreate()
    theirs = await ContextFactory.acreate(owner=other, name="theirs")
    before = await _snapshot(db_session)
    items = [{"id": context.id, "description": "changed"} for context in mine]
    items.insert(2, {"id": theirs.id, "name": "stolen"})

    response = await user_client.patch(BULK_UPDATE, json={"items": items})

    assert response.status_code == 404
    body = response.json()
    assert body["ids"] == [theirs.id]
    assert body["indexes"] == [2]
    assert str(theirs.id) in body["detail"]
    assert "item 2" in body["detail"]
    assert await _snapshot(db_session) == before


async def test_bulk_update_with_missing_ids_is_404_naming_each(user_client, user, db_session):
    context = await ContextFactory.acreate(owner=user)
    before = await _snapshot(db_session)

    response = await user_client.patch(
        BULK_UPDATE,
        json={
            "items": [
                {"id": 999_998, "name": "a"},
                {"id": context.id, "name": "b"},
                {"id": 999_999, "name": "c"},
            ]
        },
    )

    assert response.status_code == 404
    assert response.json()["ids"] == [999_998, 999_999]
    assert response.json()["indexes"] == [0, 2]
    assert await _snapshot(db_session) == before


async def test_bulk_update_giving_two_items_one_name_is_409_and_writes_nothing(
    user_client, user, db_session
):
    contexts = await ContextFactory.acreate_batch(4, owner=user)
    before = await _snapshot(db_session)
    items = [{"id": context.id, "description": "changed"} for context in contexts]
    items[1]["name"] = "same"
    items[3]["name"] = "same"

    response = await user_client.patch(BULK_UPDATE, json={"items": items})

    assert response.status_code == 409
    assert response.json()["indexes"] == [1, 3]
    assert "items 1, 3" in response.json()["detail"]
    assert await _snapshot(db_session) == before


async def test_bulk_update_to_a_name_kept_by_a_row_outside_the_batch_is_409(
    user_client, user, db_session
):
    await ContextFactory.acreate(owner=user, name="kept")
    first, second = await ContextFactory.acreate_batch(2, owner=user)
    before = await _snapshot(db_session)

    response = await user_client.patch(
        BULK_UPDATE,
        json={"items": [{"id": first.id, "description": "x"}, {"id": second.id, "name": "kept"}]},
    )

    assert response.status_code == 409
    assert response.json()["indexes"] == [1]
    assert await _snapshot(db_session) == before


async def test_bulk_update_to_a_name_kept_by_an_unrenamed_row_in_the_batch_is_409(
    user_client, user
):
    first = await ContextFactory.acreate(owner=user, name="first")
    second = await ContextFactory.acreate(owner=user, name="second")

    response = await user_client.patch(
        BULK_UPDATE,
        json={"items": [{"id": first.id, "description": "x"}, {"id": second.id, "name": "first"}]},
    )

    assert response.status_code == 409
    assert response.json()["indexes"] == [0, 1]


async def test_bulk_update_may_use_a_name_another_owner_has(user_client, user):
    other = await UserFactory.acreate()
    await ContextFactory.acreate(owner=other, name="common")
    mine = await ContextFactory.acreate(owner=user)

    response = await user_client.patch(
        BULK_UPDATE, json={"items": [{"id": mine.id, "name": "common"}]}
    )

    assert response.status_code == 200
    assert response.json()["items"][0]["name"] == "common"


@pytest.mark.parametrize(
    ("bad_fields", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": None}, "name"),
        ({"description": "d" * 10_001}, "description"),
        ({"data": [1]}, "data"),
        ({"is_active": None}, "is_active"),
        ({"id": "x"}, "id"),
    ],
)
async def test_bulk_update_with_one_invalid_item_writes_nothing_and_names_it(
    user_client, user, db_session, bad_fields, field
):
    contexts = await ContextFactory.acreate_batch(5, owner=user)
    before = await _snapshot(db_session)
    items = [{"id": context.id, "description": "changed"} for context in contexts]
    items[3] = {"id": contexts[3].id, **bad_fields}

    response = await user_client.patch(BULK_UPDATE, json={"items": items})

    assert response.status_code == 422
    assert _error_locs(response) == [["body", "items", 3, field]]
    assert await _snapshot(db_session) == before


async def test_bulk_update_item_without_id_is_422(user_client, user):
    context = await ContextFactory.acreate(owner=user)

    response = await user_client.patch(
        BULK_UPDATE, json={"items": [{"id": context.id}, {"name": "no id"}]}
    )

    assert response.status_code == 422
    assert _error_locs(response) == [["body", "items", 1, "id"]]


async def test_bulk_update_with_an_id_twice_is_422_naming_the_repeat(user_client, user, db_session):
    first, second = await ContextFactory.acreate_batch(2, owner=user)
    before = await _snapshot(db_session)

    response = await user_client.patch(
        BULK_UPDATE,
        json={
            "items": [
                {"id": first.id, "name": "a"},
                {"id": second.id, "name": "b"},
                {"id": first.id, "name": "c"},
            ]
        },
    )

    assert response.status_code == 422
    assert _error_locs(response) == [["body", "items", 2, "id"]]
    assert await _snapshot(db_session) == before


@pytest.mark.parametrize(
    "body",
    [{"items": []}, {"items": [{"id": index + 1} for index in range(1001)]}, {}],
    ids=["empty", "1001-items", "missing"],
)
async def test_bulk_update_refuses_a_batch_outside_1_to_1000_items(user_client, body):
    response = await user_client.patch(BULK_UPDATE, json=body)

    assert response.status_code == 422
    assert _error_locs(response) == [["body", "items"]]


async def test_bulk_update_accepts_1000_items(user_client, user, db_session):
    contexts = await ContextFactory.acreate_batch(1000, owner=user)

    response = await user_client.patch(
        BULK_UPDATE,
        json={"items": [{"id": context.id, "description": "all"} for context in contexts]},
    )

    assert response.status_code == 200
    assert [item["id"] for item in response.json()["items"]] == [c.id for c in contexts]
    assert {row[3] for row in await _snapshot(db_session)} == {"all"}


async def test_bulk_update_with_nothing_to_change_answers_the_rows_unchanged(user_client, user):
    context = await ContextFactory.acreate(owner=user, name="same")
    before = (await user_client.get(f"/api/contexts/{context.id}")).json()

    response = await user_client.patch(
        BULK_UPDATE, json={"items": [{"id": context.id, "name": "same"}]}
    )

    assert response.status_code == 200
    assert response.json()["items"] == [before]


# --- bulk delete -----------------------------------------------------------------------------


async def test_bulk_delete_deletes_the_listed_contexts_and_counts_them(
    user_client, user, db_session
):
    contexts = await ContextFactory.acreate_batch(4, owner=user)

    response = await user_client.post(
        BULK_DELETE, json={"ids": [contexts[2].id, contexts[0].id, contexts[3].id]}
    )

    assert response.status_code == 200
    assert response.json() == {"deleted": 3}
    assert [row[0] for row in await _snapshot(db_session)] == [contexts[1].id]


async def test_bulk_delete_counts_a_repeated_id_once(user_client, user, db_session):
    first, second = await ContextFactory.acreate_batch(2, owner=user)

    response = await user_client.post(BULK_DELETE, json={"ids": [first.id, first.id]})

    assert response.status_code == 200
    assert response.json() == {"deleted": 1}
    assert [row[0] for row in await _snapshot(db_session)] == [second.id]


async def test_bulk_delete_with_someone_elses_id_is_404_naming_it_and_deletes_nothing(
    user_client, user, db_session
):
    mine = await ContextFactory.acreate_batch(3, owner=user)
    other = await UserFactory.acreate()
    theirs = await ContextFactory.acreate(owner=other)
    before = await _snapshot(db_session)
    ids = [context.id for context in mine]
    ids.insert(1, theirs.id)

    response = await user_client.post(BULK_DELETE, json={"ids": ids})

    assert response.status_code == 404
    body = response.json()
    assert body["ids"] == [theirs.id]
    assert body["indexes"] == [1]
    assert str(theirs.id) in body["detail"]
    assert await _snapshot(db_session) == before


async def test_bulk_delete_with_a_missing_id_is_404_and_deletes_nothing(
    user_client, user, db_session
):
    mine = await ContextFactory.acreate_batch(2, owner=user)
    before = await _snapshot(db_session)

    response = await user_client.post(BULK_DELETE, json={"ids": [mine[0].id, mine[1].id, 0, 2**40]})

    assert response.status_code == 404
    assert response.json()["ids"] == [0, 2**40]
    assert response.json()["indexes"] == [2, 3]
    assert await _snapshot(db_session) == before


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({"ids": []}, ["body", "ids"]),
        ({"ids": list(range(1, 1002))}, ["body", "ids"]),
        ({}, ["body", "ids"]),
        ({"ids": [1, "two", 3]}, ["body", "ids", 1]),
    ],
    ids=["empty", "1001-ids", "missing", "not-an-int"],
)
async def test_bulk_delete_refuses_an_invalid_batch_with_422(user_client, body, loc):
    response = await user_client.post(BULK_DELETE, json=body)

    assert response.status_code == 422
    assert _error_locs(response) == [loc]


async def test_bulk_delete_accepts_1000_ids(user_client, user, db_session):
    contexts = await ContextFactory.acreate_batch(1000, owner=user)

    response = await user_client.post(BULK_DELETE, json={"ids": [c.id for c in contexts]})

    assert response.status_code == 200
    assert response.json() == {"deleted": 1000}
    assert await _snapshot(db_session) == []


# --- query budgets: one statement per batch, not per row ------------------------------------
# Each budget counts the statements of the request (transaction control aside): the current
# user's SELECT, then the operation's own. It is the same for 1, 10 and 200 items.

BATCH_SIZES = [1, 10, 200]

BULK_CREATE_QUERIES = 2  # user; one multi-row INSERT ... ON CONFLICT DO NOTHING RETURNING
BULK_UPDATE_QUERIES = 4  # user; SELECT rows and names; one executemany UPDATE; SELECT result
BULK_DELETE_QUERIES = 3  # user; SELECT ids found; one DELETE ... WHERE id IN


@pytest.mark.parametrize("size", BATCH_SIZES)
async def test_bulk_create_runs_a_fixed_number_of_queries(
    user_client, user, assert_num_queries, size
):
    await ContextFactory.acreate(owner=user, name="existing")

    with assert_num_queries(BULK_CREATE_QUERIES):
        response = await user_client.post(BULK_CREATE, json={"items": _names(size)})

    assert response.status_code == 201
    assert len(response.json()["items"]) == size


@pytest.mark.parametrize("size", BATCH_SIZES)
async def test_bulk_update_runs_a_fixed_number_of_queries(
    user_client, user, assert_num_queries, size
):
    contexts = await ContextFactory.acreate_batch(size, owner=user)
    items = [
        {"id": context.id, "name": f"renamed {index}", "description": "d", "data": {"i": index}}
        for index, context in enumerate(contexts)
    ]

    with assert_num_queries(BULK_UPDATE_QUERIES):
        response = await user_client.patch(BULK_UPDATE, json={"items": items})

    assert response.status_code == 200
    assert [item["name"] for item in response.json()["items"]] == [i["name"] for i in items]


@pytest.mark.parametrize("size", BATCH_SIZES)
async def test_bulk_delete_runs_a_fixed_number_of_queries(
    user_client, user, assert_num_queries, size
):
    contexts = await ContextFactory.acreate_batch(size, owner=user)

    with assert_num_queries(BULK_DELETE_QUERIES):
        response = await user_client.post(BULK_DELETE, json={"ids": [c.id for c in contexts]})

    assert response.json() == {"deleted": size}


@pytest.mark.parametrize("size", BATCH_SIZES)
async def test_failed_bulk_create_runs_a_fixed_number_of_queries(
    user_client, user, assert_num_queries, size
):
    await ContextFactory.acreate(owner=user, name="item 0")

    # The INSERT skips the taken name; the DELETE takes back the rows it did insert.
    with assert_num_queries(BULK_CREATE_QUERIES + 1):
        response = await user_client.post(BULK_CREATE, json={"items": _names(size)})

    assert response.status_code == 409
