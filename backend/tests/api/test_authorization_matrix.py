"""Who may call what: every API route, every kind of caller → the status they get.

The table below is the authorization policy written as data. Each row is one request (a route
and a body that is valid, so only the caller decides the outcome) and the status each caller
gets. `test_every_api_route_has_a_row` fails when a route is added without a row.

Callers:
    anonymous  no Authorization header
    user       a plain active user with nothing of their own in play
    staff      staff, not superuser
    superuser  staff and superuser
    owner      the plain user who owns the context in play, and the target of /admin/users/{id}
    other      another plain user, who owns a context of their own
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi.routing import APIRoute

from tests.conftest import bearer
from tests.factories import DEFAULT_PASSWORD, ContextFactory, UserFactory

API = "/api"
CALLERS = ("anonymous", "user", "staff", "superuser", "owner", "other")


@dataclass(frozen=True)
class World:
    users: dict[str, Any]
    context_id: int

    @property
    def owner_id(self) -> int:
        return self.users["owner"].id


def _login(world: World) -> dict:
    return {"json": {"username": "owner", "password": DEFAULT_PASSWORD}}


def _token_form(world: World) -> dict:
    return {"data": {"username": "owner", "password": DEFAULT_PASSWORD}}


def _json(body) -> Any:
    return lambda world: {"json": body(world) if callable(body) else body}


@dataclass(frozen=True)
class Row:
    method: str
    path: str  # under /api, as the route declares it
    anonymous: int
    user: int
    staff: int
    superuser: int
    owner: int
    other: int
    variant: str = ""  # tells apart two rows of one route
    request: Any = field(default=lambda world: {})

    @property
    def label(self) -> str:
        return " ".join(filter(None, (self.method, self.path, self.variant)))

    def expected(self, caller: str) -> int:
        return getattr(self, caller)


# fmt: off
MATRIX = [
    #   method    path                          anon user staff super owner other
    Row("GET",    "/health",                    200, 200, 200,  200,  200,  200),
    Row("POST",   "/auth/login",                200, 200, 200,  200,  200,  200, "", _login),
    Row("POST",   "/auth/token",                200, 200, 200,  200,  200,  200, "", _token_form),
    Row("GET",    "/auth/me",                   401, 200, 200,  200,  200,  200),
    Row("GET",    "/contexts",                  401, 200, 200,  200,  200,  200),
    Row("POST",   "/contexts",                  401, 201, 201,  201,  201,  201, "",
        _json({"name": "made in the matrix"})),
    Row("POST",   "/contexts/bulk",             401, 201, 201,  201,  201,  201, "",
        _json({"items": [{"name": "made in the matrix"}]})),
    Row("PATCH",  "/contexts/bulk",             401, 404, 404,  404,  200,  404, "",
        _json(lambda w: {"items": [{"id": w.context_id, "description": "changed"}]})),
    Row("POST",   "/contexts/bulk-delete",      401, 404, 404,  404,  200,  404, "",
        _json(lambda w: {"ids": [w.context_id]})),
    Row("GET",    "/contexts/{context_id}",     401, 404, 404,  404,  200,  404),
    Row("PATCH",  "/contexts/{context_id}",     401, 404, 404,  404,  200,  404, "",
        _json({"description": "changed"})),
    Row("DELETE", "/contexts/{context_id}",     401, 404, 404,  404,  204,  404),
    Row("GET",    "/admin/users",               401, 403, 200,  200,  403,  403),
    Row("POST",   "/admin/users",               401, 403, 201,  201,  403,  403, "plain",
        _json({"username": "newbie", "password": "newbie-password"})),
    Row("POST",   "/admin/users",               401, 403, 403,  201,  403,  403, "staff",
        _json({"username": "newbie", "password": "newbie-password", "is_staff": True})),
    Row("POST",   "/admin/users",               401, 403, 403,  201,  403,  403, "superuser",
        _json({"username": "newbie", "password": "newbie-password", "is_superuser": True})),
    Row("POST",   "/admin/users/bulk-action",   401, 403, 200,  200,  403,  403, "",
        _json(lambda w: {"ids": [w.owner_id], "action": "deactivate"})),
    Row("GET",    "/admin/users/{user_id}",     401, 403, 200,  200,  403,  403),
    Row("PATCH",  "/admin/users/{user_id}",     401, 403, 200,  200,  403,  403, "name",
        _json({"first_name": "Renamed"})),
    Row("PATCH",  "/admin/users/{user_id}",     401, 403, 403,  200,  403,  403, "grant-staff",
        _json({"is_staff": True})),
    Row("PATCH",  "/admin/users/{user_id}",     401, 403, 403,  200,  403,  403, "grant-superuser",
        _json({"is_superuser": True})),
    Row("DELETE", "/admin/users/{user_id}",     401, 403, 204,  204,  403,  403),
    Row("GET",    "/admin/contexts",            401, 403, 200,  200,  403,  403),
]
# fmt: on


@pytest.fixture
async def world(db_session) -> World:
    users = {
        "user": await UserFactory.acreate(username="plain"),
        "staff": await UserFactory.acreate(staff=True, username="staff"),
        "superuser": await UserFactory.acreate(admin=True, username="root"),
        "owner": await UserFactory.acreate(username="owner"),
        "other": await UserFactory.acreate(username="other"),
    }
    owned = await ContextFactory.acreate(owner=users["owner"], name="owned")
    await ContextFactory.acreate(owner=users["other"], name="owned")
    return World(users=users, context_id=owned.id)


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("row", MATRIX, ids=lambda row: row.label)
async def test_authorization_matrix(client, world, row, caller):
    headers = {} if caller == "anonymous" else bearer(world.users[caller])
    path = API + row.path.format(context_id=world.context_id, user_id=world.owner_id)

    response = await client.request(row.method, path, headers=headers, **row.request(world))

    expected = row.expected(caller)
    assert response.status_code == expected, (
        f"{caller} {row.method} {path}: expected {expected}, got {response.status_code}: "
        f"{response.text}"
    )
    if expected >= 400:
        assert isinstance(response.json()["detail"], str)
    if expected == 401:
        assert response.headers["www-authenticate"] == "Bearer"


def _api_routes(app) -> set[tuple[str, str]]:
    """(method, path) of every route under /api: walked, and as the OpenAPI schema lists them."""
    try:
        # FastAPI >= 0.16x keeps included routers as lazy entries of app.routes.
        from fastapi.routing import iter_route_contexts
    except ImportError:  # older FastAPI: app.routes is already flat
        walked = [(route, route) for route in app.routes]
    else:
        walked = [(context.original_route, context) for context in iter_route_contexts(app.routes)]
    found = {
        (method, route.path)
        for original, route in walked
        if isinstance(original, APIRoute)
        for method in route.methods
    }
    methods = {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"}
    documented = {
        (method.upper(), path)
        for path, operations in app.openapi()["paths"].items()
        for method in operations
        if method.upper() in methods
    }
    return {(method, path) for method, path in found | documented if path.startswith(API + "/")}


def _rows() -> set[tuple[str, str]]:
    return {(row.method, API + row.path) for row in MATRIX}


def test_route_enumeration_finds_the_api_routes(app):
    # Without this, a walk that found nothing would make the next test pass vacuously.
    routes = _api_routes(app)

    assert ("GET", "/api/health") in routes
    assert ("DELETE", "/api/admin/users/{user_id}") in routes
    assert len(routes) >= 19


def test_every_api_route_has_a_row(app):
    missing = _api_routes(app) - _rows()

    assert not missing, (
        f"routes without a row in MATRIX: {sorted(missing)}; add one row per route with the "
        "status each kind of caller gets"
    )


def test_every_row_names_an_existing_route(app):
    stale = _rows() - _api_routes(app)

    assert not stale, f"rows in MATRIX for routes the app does not have: {sorted(stale)}"


def test_row_labels_are_unique():
    labels = [row.label for row in MATRIX]

    assert len(labels) == len(set(labels))
