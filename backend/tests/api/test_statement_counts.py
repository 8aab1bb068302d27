"""How many statements the hot routes send: one per page (the total rides along), no SELECT
before an INSERT that the unique constraint guards. Each authenticated request also loads
its user (1)."""

from __future__ import annotations

import pytest

from tests.factories import ContextFactory, UserFactory


async def test_a_page_is_one_statement(user_client, user, assert_num_queries):
    await ContextFactory.acreate_batch(3, owner=user)

    with assert_num_queries(2):  # the user, the page with its total
        response = await user_client.get("/api/contexts", params={"limit": 2})

    assert (len(response.json()["items"]), response.json()["total"]) == (2, 3)


async def test_a_page_past_the_end_counts_once_more(user_client, user, assert_num_queries):
    await ContextFactory.acreate_batch(3, owner=user)

    with assert_num_queries(3):  # the user, the empty page, the COUNT
        response = await user_client.get("/api/contexts", params={"offset": 5})

    assert response.json() == {"items": [], "total": 3, "limit": 50, "offset": 5}


async def test_an_empty_first_page_needs_no_count(user_client, assert_num_queries):
    with assert_num_queries(2):
        response = await user_client.get("/api/contexts")

    assert response.json() == {"items": [], "total": 0, "limit": 50, "offset": 0}


async def test_a_searched_page_totals_the_matches_only(user_client, user):
    for name in ("apple", "apricot", "banana", "grape"):
        await ContextFactory.acreate(owner=user, name=name)

    response = await user_client.get("/api/contexts", params={"search": "ap", "limit": 1})

    assert [item["name"] for item in response.json()["items"]] == ["apple"]
    assert response.json()["total"] == 3  # apple, apricot, grape


async def test_a_users_page_is_one_statement(admin_client, assert_num_queries):
    await UserFactory.acreate_batch(3)

    with assert_num_queries(2):
        response = await admin_client.get("/api/admin/users", params={"limit": 1, "offset": 1})

    assert response.json()["total"] == 4


@pytest.mark.parametrize("name", ["fresh", "taken"])
async def test_creating_a_context_sends_no_select_before_the_insert(
    user_client, user, assert_num_queries, name
):
    await ContextFactory.acreate(owner=user, name="taken")

    with assert_num_queries(2) as captured:  # the user, the INSERT (which may fail)
        response = await user_client.post("/api/contexts", json={"name": name})

    assert response.status_code == (201 if name == "fresh" else 409)
    assert captured.statements[-1].startswith("INSERT INTO context")


async def test_creating_a_user_sends_no_select_before_the_insert(admin_client, assert_num_queries):
    with assert_num_queries(2) as captured:
        response = await admin_client.post(
            "/api/admin/users", json={"username": "new", "password": "a good password"}
        )

    assert response.status_code == 201
    assert captured.statements[-1].startswith("INSERT INTO auth_user")
