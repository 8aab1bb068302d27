"""The list routes' query parameters, as the OpenAPI document states them and as requests use
them: the route's own filters first, then the paging parameters (`limit`, `offset`, `search`)
shared through `PageQuery`."""

from __future__ import annotations

import pytest

LISTS = {
    "/api/contexts": ["is_active", "limit", "offset", "search"],
    "/api/admin/users": ["is_active", "is_staff", "limit", "offset", "search"],
    "/api/admin/contexts": ["owner_id", "is_active", "limit", "offset", "search"],
}


@pytest.mark.parametrize(("path", "names"), LISTS.items())
def test_a_list_states_its_filters_then_the_paging_parameters(app, path, names):
    parameters = app.openapi()["paths"][path]["get"]["parameters"]

    assert [parameter["name"] for parameter in parameters] == names
    assert all(parameter["in"] == "query" for parameter in parameters)
    assert not any(parameter["required"] for parameter in parameters)
    paging = {parameter["name"]: parameter for parameter in parameters[-3:]}
    assert paging["limit"]["schema"] == {
        "type": "integer",
        "maximum": 500,
        "minimum": 1,
        "default": 50,
        "title": "Limit",
        "description": "Page size (1 to 500)",
    }
    assert paging["search"]["description"] == "Case-insensitive substring"


async def test_paging_parameters_are_validated_with_the_filters(user_client):
    response = await user_client.get(
        "/api/contexts", params={"limit": 0, "search": "a\x00b", "is_active": "maybe"}
    )

    assert response.status_code == 422
    assert sorted(tuple(error["loc"]) for error in response.json()["detail"]) == [
        ("query", "is_active"),
        ("query", "limit"),
        ("query", "search"),
    ]


async def test_repeated_paging_parameters_take_the_last_value(user_client):
    response = await user_client.get("/api/contexts?limit=1&limit=2")

    assert response.status_code == 200
    assert response.json()["limit"] == 2
