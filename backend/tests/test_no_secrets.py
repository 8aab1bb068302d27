"""No password material leaves the app: not in a response, not in a log.

Every client of the suite checks each response it gets for password material (the hook in
tests/conftest.py). The tests here prove that check can fail (on crafted responses, and on a
real route made to leak through a dependency override), and that logins, validation errors and
database conflicts log neither a password nor its hash.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

import httpx
import pytest
from app.api.deps import SessionDep, get_current_user
from app.core.db import create_engine_for_url
from app.models import User
from fastapi import HTTPException, Response
from sqlalchemy import Column, Integer, MetaData, String, Table, insert
from sqlalchemy.exc import IntegrityError

from tests.conftest import password_material_in
from tests.factories import DEFAULT_PASSWORD, UserFactory

ARGON2_HASH = "$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA"
DJANGO_HASH = "pbkdf2_sha256$1000000$salt$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaA="


def _response(
    body: bytes = b"",
    *,
    content_type: str = "application/json",
    status: int = 200,
    path: str = "/api/contexts",
    headers: dict[str, str] | None = None,
    sent: bytes = b"",
) -> httpx.Response:
    request = httpx.Request("POST" if sent else "GET", f"http://test{path}", content=sent)
    all_headers = {"content-type": content_type, **(headers or {})} if body else headers or {}
    return httpx.Response(status, content=body, headers=all_headers, request=request)


# --- the check, on crafted responses --------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        {"id": 1, "password": "anything"},
        {"items": [{"id": 1}, {"id": 2, "password": None}]},
        {"first_name": ARGON2_HASH},
        {"note": f"legacy hash {DJANGO_HASH}"},
        {"echo": DEFAULT_PASSWORD},
    ],
    ids=["password-key", "nested-password-key", "argon2-hash", "django-hash", "plain-password"],
)
def test_the_check_finds_password_material_in_a_json_body(body):
    response = _response(json.dumps(body).encode())

    assert password_material_in(response)


@pytest.mark.parametrize("value", [ARGON2_HASH, DJANGO_HASH, DEFAULT_PASSWORD])
def test_the_check_finds_password_material_in_a_header(value):
    response = _response(headers={"X-Debug": value}, status=204)

    (finding,) = password_material_in(response)
    assert finding.startswith("header x-debug: ")


@pytest.mark.parametrize("value", [ARGON2_HASH, DJANGO_HASH, DEFAULT_PASSWORD])
def test_the_check_finds_password_material_in_a_body_that_is_not_json(value):
    response = _response(f"<p>{value}</p>".encode(), content_type="text/html")

    assert password_material_in(response)


@pytest.mark.parametrize(
    ("body", "content_type", "path"),
    [
        (b"", "", "/api/contexts/1"),  # 204
        (b"not json at all \xff\xfe", "application/json", "/api/contexts"),
        (b'{"detail": [{"loc": ["body", "password"], "msg": "too short"}]}', "", "/api/x"),
        (b'{"name": "my \\"password\\": list"}', "application/json", "/api/contexts"),
        (b'<label>"password": </label>', "text/html", "/docs"),
        (b'{"properties": {"password": {"type": "string"}}}', "application/json", "/openapi.json"),
    ],
    ids=["empty", "not-json", "password-in-a-loc", "escaped-in-a-string", "html", "schema"],
)
def test_the_check_passes_what_carries_no_password_material(body, content_type, path):
    response = _response(body, content_type=content_type or "application/json", path=path)

    assert password_material_in(response) == []


def test_a_password_key_the_request_sent_may_come_back():
    # A context's `data` is the client's own JSON: echoing its keys leaks nothing (the OpenAPI
    # fuzzing generates such keys); one more "password" key than was sent still fails.
    sent = json.dumps({"name": "c", "data": {"password": "x"}}).encode()
    echoed = json.dumps({"id": 1, "name": "c", "data": {"password": "x"}}).encode()
    one_more = json.dumps({"id": 1, "data": {"password": "x"}, "password": "h"}).encode()

    assert password_material_in(_response(echoed, sent=sent)) == []
    assert password_material_in(_response(one_more, sent=sent)) == ['body: a "password" key']


# --- the check, on the suite's clients ------------------------------------------------------


def _leaking_user(first_name: str) -> User:
    return UserFactory.build(
        id=1, username="leaky", first_name=first_name, date_joined=datetime.now(UTC)
    )


@pytest.fixture
def leaking_me(app):
    """GET /api/auth/me made to leak: the current user's first name is a password hash."""
    app.dependency_overrides[get_current_user] = lambda: _leaking_user(ARGON2_HASH)
    yield
    del app.dependency_overrides[get_current_user]


async def test_the_client_fails_a_test_whose_response_carries_a_hash(client, leaking_me):
    with pytest.raises(pytest.fail.Exception, match=r"GET http://test/api/auth/me \(200\)"):
        await client.get("/api/auth/me")


async def test_clients_from_the_factory_fail_a_test_whose_response_carries_a_hash(
    client_factory, leaking_me
):
    with pytest.raises(pytest.fail.Exception, match=r"\$argon2"):
        await client_factory(headers={"X-Any": "1"}).get("/api/auth/me")


async def test_the_logged_in_clients_fail_a_test_whose_response_carries_a_hash(
    admin_client, user_client, leaking_me
):
    for logged_in in (admin_client, user_client):
        with pytest.raises(pytest.fail.Exception, match="password material"):
            await logged_in.get("/api/auth/me")


async def test_the_client_fails_a_test_whose_response_header_carries_a_hash(client, app):
    def leak_in_a_header(response: Response) -> User:
        response.headers["X-Debug-Hash"] = DJANGO_HASH
        return _leaking_user("Plain")

    app.dependency_overrides[get_current_user] = leak_in_a_header
    try:
        with pytest.raises(pytest.fail.Exception, match="header x-debug-hash"):
            await client.get("/api/auth/me")
    finally:
        del app.dependency_overrides[get_current_user]


async def test_the_client_fails_a_test_whose_error_names_a_password_key(client, app):
    def leak_in_an_error() -> User:
        raise HTTPException(status_code=400, detail={"password": "whatever it was"})

    app.dependency_overrides[get_current_user] = leak_in_an_error
    try:
        with pytest.raises(pytest.fail.Exception, match='a "password" key'):
            await client.get("/api/auth/me")
    finally:
        del app.dependency_overrides[get_current_user]


async def test_the_client_passes_the_apps_own_responses_with_password_fields_in_requests(
    admin_client,
):
    created = await admin_client.post(
        "/api/admin/users", json={"username": "newbie", "password": DEFAULT_PASSWORD}
    )
    too_short = await admin_client.post(
        "/api/admin/users", json={"username": "other", "password": "short"}
    )
    schema = await admin_client.get("/openapi.json")

    assert created.status_code == 201
    assert too_short.status_code == 422
    assert too_short.json()["detail"][0]["loc"] == ["body", "password"]
    assert "password" in schema.json()["components"]["schemas"]["UserCreate"]["properties"]


# --- logs ------------------------------------------------------------------------------------


def _logged(caplog: pytest.LogCaptureFixture) -> str:
    """Everything the app and its libraries logged, tracebacks included.

    SQLAlchemy's own statement log is left out: in the suite it is the harness's engine that
    logs, not the app's (whose parameters are hidden: see the engine test below).
    """
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    return "\n".join(
        formatter.format(record)
        for record in caplog.records
        if not record.name.startswith("sqlalchemy")
    )


def _assert_no_password_material(text: str, *passwords: str) -> None:
    for secret in ("$argon2", "pbkdf2_sha256$", DEFAULT_PASSWORD, *passwords):
        assert secret not in text


async def test_failed_logins_log_no_password_or_hash(client, user, caplog):
    caplog.set_level(logging.INFO)
    wrong = "wrong-password-123"

    attempts = [
        await client.post("/api/auth/login", json={"username": "alice", "password": wrong}),
        await client.post("/api/auth/login", json={"username": "nobody", "password": wrong}),
        await client.post("/api/auth/token", data={"username": "alice", "password": wrong}),
    ]
    attempts += [  # into the throttle
        await client.post("/api/auth/login", json={"username": "alice", "password": wrong})
        for _ in range(3)
    ]
    throttled = await client.post(
        "/api/auth/login", json={"username": "alice", "password": DEFAULT_PASSWORD}
    )

    assert [response.status_code for response in attempts] == [401] * 6
    assert throttled.status_code == 429
    _assert_no_password_material(_logged(caplog), wrong)


async def test_validation_errors_log_no_password(admin_client, caplog):
    caplog.set_level(logging.INFO)
    short, long_one = "short7!", "x" * 4097

    responses = [
        await admin_client.post("/api/admin/users", json={"username": "a b", "password": short}),
        await admin_client.post("/api/admin/users", json={"username": "ok", "password": long_one}),
        await admin_client.post("/api/auth/login", json={"username": ["x"], "password": short}),
        await admin_client.patch(
            "/api/admin/users/1", json={"password": short, "is_active": "maybe"}
        ),
    ]

    assert [response.status_code for response in responses] == [422] * 4
    _assert_no_password_material(_logged(caplog), short, long_one)


async def test_a_database_conflict_logs_neither_the_hash_nor_the_statements_values(
    client, app, admin_user, caplog
):
    # A conflict the services did not foresee reaches the app's IntegrityError handler: here a
    # second user row with the admin's username, inserted as a request resolves its user.
    async def insert_a_duplicate(session: SessionDep) -> User:
        session.add(UserFactory.build(username=admin_user.username))
        await session.flush()
        raise AssertionError("the flush should have failed")

    app.dependency_overrides[get_current_user] = insert_a_duplicate
    caplog.set_level(logging.INFO)
    try:
        response = await client.get("/api/auth/me")
    finally:
        del app.dependency_overrides[get_current_user]

    assert response.status_code == 409
    logged = _logged(caplog)
    assert "UNIQUE" in logged.upper()  # it was logged, for whoever runs the service
    _assert_no_password_material(logged)


async def test_the_apps_engine_keeps_statement_values_out_of_errors_and_logs(caplog):
    # The harness runs the suite on its own engine; this is the one the app builds to serve.
    engine = create_engine_for_url("sqlite+aiosqlite://")
    table = Table(
        "secrets", MetaData(), Column("id", Integer, primary_key=True), Column("v", String)
    )
    caplog.set_level(logging.INFO)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(table.metadata.create_all)
            await connection.execute(insert(table).values(id=1, v=ARGON2_HASH))
            with pytest.raises(IntegrityError) as raised:
                await connection.execute(insert(table).values(id=1, v=ARGON2_HASH))
    finally:
        await engine.dispose()

    assert ARGON2_HASH not in str(raised.value)
    assert ARGON2_HASH not in caplog.text
