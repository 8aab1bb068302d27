"""Error responses: always JSON with `detail`, the bad field named, never a 500 for bad input,
and a real 500 without a traceback."""

from __future__ import annotations

import json
import logging

import httpx
import pytest
from app.api.deps import get_current_user
from app.core.config import get_settings
from app.main import create_app

LIMIT = 16 * 1024 * 1024  # MAX_REQUEST_BODY_BYTES's default
TOO_LARGE = {"detail": f"Request body too large: the limit is {LIMIT} bytes"}
JSON_HEADERS = {"Content-Type": "application/json"}


def _error_locs(response) -> list[list]:
    return [error["loc"] for error in response.json()["detail"]]


def _nested(depth: int, leaf: str = "1") -> str:
    return '{"a":' * depth + leaf + "}" * depth


# --- routing ---------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/api/nope", "/nope", "/api/contexts/1/extra"])
async def test_unknown_route_is_404_with_a_json_detail(user_client, path):
    response = await user_client.get(path)

    assert response.status_code == 404
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"detail": "Not Found"}


async def test_wrong_method_is_405_with_a_json_detail(client):
    response = await client.delete("/api/health")

    assert response.status_code == 405
    assert response.json() == {"detail": "Method Not Allowed"}


# --- malformed bodies ------------------------------------------------------------------------


async def test_malformed_json_is_422_locating_the_error(user_client):
    response = await user_client.post(
        "/api/contexts", content=b'{"name": "x"', headers=JSON_HEADERS
    )

    assert response.status_code == 422
    (error,) = response.json()["detail"]
    assert error["type"] == "json_invalid"
    assert error["loc"] == ["body", 12]
    assert error["msg"] == "JSON decode error"


async def test_body_that_is_not_utf8_is_422(user_client):
    response = await user_client.post("/api/contexts", content=b"\xff\xfe{}", headers=JSON_HEADERS)

    assert response.status_code == 422
    assert response.json()["detail"][0]["type"] == "json_invalid"


async def test_missing_body_is_422_naming_the_body(user_client):
    response = await user_client.post("/api/contexts")

    assert response.status_code == 422
    assert response.json()["detail"][0]["type"] == "missing"
    assert _error_locs(response) == [["body"]]


@pytest.mark.parametrize("body", [b"[1, 2]", b'"text"', b"null", b"42"])
async def test_json_that_is_not_an_object_is_422_naming_the_body(user_client, body):
    response = await user_client.post("/api/contexts", content=body, headers=JSON_HEADERS)

    assert response.status_code == 422
    assert _error_locs(response) == [["body"]]


async def test_a_form_body_is_422_not_a_crash(user_client):
    response = await user_client.post("/api/contexts", data={"name": "x"})

    assert response.status_code == 422
    assert _error_locs(response) == [["body"]]


async def test_validation_errors_do_not_echo_the_input(user_client):
    secret = "s3cret-value-" * 10

    response = await user_client.post(
        "/api/contexts", json={"name": "x", "description": secret * 100}
    )

    assert response.status_code == 422
    assert secret not in response.text
    assert "input" not in response.json()["detail"][0]


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e999"])
async def test_non_finite_numbers_in_data_are_422_naming_data(user_client, literal):
    body = f'{{"name": "x", "data": {{"n": {literal}}}}}'.encode()

    response = await user_client.post("/api/contexts", content=body, headers=JSON_HEADERS)

    assert response.status_code == 422
    assert _error_locs(response) == [["body", "data"]]
    assert response.json()["detail"][0]["type"] == "json_number"


@pytest.mark.parametrize(
    "payload",
    [{"name": "x", "data": {"k\x00": 1}}, {"name": "x", "data": {"k": "v\x00"}}],
    ids=["key", "value"],
)
async def test_nul_characters_in_data_are_422_naming_data(user_client, payload):
    response = await user_client.post("/api/contexts", json=payload)

    assert response.status_code == 422
    assert _error_locs(response) == [["body", "data"]]


@pytest.mark.parametrize(
    ("path", "payload", "loc"),
    [
        ("/api/contexts", {"name": "\ud800"}, ["body", "name"]),
        ("/api/contexts", {"name": "x", "description": "\udfff"}, ["body", "description"]),
        ("/api/contexts", {"name": "x", "data": {"\ud800": 1}}, ["body", "data"]),
        ("/api/contexts", {"name": "x", "data": {"k": ["\ud800"]}}, ["body", "data"]),
        ("/api/contexts/bulk", {"items": [{"name": "ok"}, {"name": "\ud800"}]}, None),
    ],
    ids=["name", "description", "data-key", "data-value", "bulk-name"],
)
async def test_lone_surrogates_are_422_naming_the_field(user_client, path, payload, loc):
    # json.dumps writes them as \\ud800 escapes, which any JSON parser turns back into them.
    response = await user_client.post(path, content=json.dumps(payload), headers=JSON_HEADERS)

    assert response.status_code == 422
    (error,) = response.json()["detail"]
    assert error["type"] == "string_unicode"
    assert error["loc"] == (loc or ["body", "items", 1, "name"])
    assert (await user_client.get("/api/contexts")).json()["total"] == 0


# --- sizes and depths ------------------------------------------------------------------------


async def test_data_nested_32_levels_is_accepted(user_client):
    # The object itself is level 1: 31 more nested objects make 32.
    body = f'{{"name": "deep", "data": {_nested(31)}}}'.encode()

    response = await user_client.post("/api/contexts", content=body, headers=JSON_HEADERS)

    assert response.status_code == 201
    assert response.json()["name"] == "deep"


@pytest.mark.parametrize("depth", [32, 500])
async def test_data_nested_deeper_than_32_levels_is_422_naming_data(user_client, depth):
    body = f'{{"name": "deep", "data": {_nested(depth)}}}'.encode()

    response = await user_client.post("/api/contexts", content=body, headers=JSON_HEADERS)

    assert response.status_code == 422
    (error,) = response.json()["detail"]
    assert (error["type"], error["loc"]) == ("json_too_deep", ["body", "data"])


async def test_deep_lists_in_data_count_as_nesting(user_client):
    body = '{"name": "deep", "data": {"a": ' + "[" * 40 + "]" * 40 + "}}"

    response = await user_client.post("/api/contexts", content=body, headers=JSON_HEADERS)

    assert response.status_code == 422
    assert _error_locs(response) == [["body", "data"]]


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/contexts", '{"name": "x", "data": ' + _nested(100_000) + "}"),
        ("/api/contexts", "[" * 200_000 + "]" * 200_000),
        ("/api/contexts/bulk", '{"items": [{"name": "x", "data": ' + _nested(100_000) + "}]}"),
    ],
    ids=["object-in-data", "bare-lists", "bulk-item"],
)
async def test_json_too_deep_for_the_parser_is_422_naming_the_body(user_client, path, body):
    assert len(body) < LIMIT

    response = await user_client.post(path, content=body, headers=JSON_HEADERS)

    assert response.status_code == 422
    (error,) = response.json()["detail"]
    assert (error["type"], error["loc"]) == ("json_too_deep", ["body"])


async def test_data_over_64_kib_is_422_naming_data(user_client, db_session):
    response = await user_client.post(
        "/api/contexts", json={"name": "big", "data": {"blob": "x" * (64 * 1024)}}
    )

    assert response.status_code == 422
    (error,) = response.json()["detail"]
    assert (error["type"], error["loc"]) == ("json_too_large", ["body", "data"])


async def test_data_too_large_in_a_bulk_item_names_the_item(user_client):
    items = [{"name": "small"}, {"name": "big", "data": {"blob": "x" * (64 * 1024)}}]

    response = await user_client.post("/api/contexts/bulk", json={"items": items})

    assert response.status_code == 422
    assert _error_locs(response) == [["body", "items", 1, "data"]]


async def test_body_over_16_mib_is_413(user_client, db_session):
    payload = {"name": "huge", "data": {"blob": "x" * LIMIT}}

    response = await user_client.post("/api/contexts", json=payload)

    assert response.status_code == 413
    assert response.json() == TOO_LARGE


async def test_body_over_16_mib_is_refused_before_parsing_or_authentication(client):
    # Not JSON at all and no credentials: a parser would answer 422, authentication 401.
    response = await client.post("/api/contexts", content=b"{" * (LIMIT + 1), headers=JSON_HEADERS)

    assert response.status_code == 413
    assert response.json() == TOO_LARGE


async def test_streamed_body_without_a_length_over_16_mib_is_413(user_client):
    async def chunks():
        for _ in range(LIMIT // (64 * 1024) + 1):
            yield b" " * (64 * 1024)

    response = await user_client.post("/api/contexts", content=chunks(), headers=JSON_HEADERS)

    assert "content-length" not in response.request.headers
    assert response.status_code == 413
    assert response.json() == TOO_LARGE


async def test_body_of_exactly_16_mib_is_parsed(user_client):
    prefix, suffix = b'{"name": "x", "description": "', b'"}'
    body = prefix + b"d" * (LIMIT - len(prefix) - len(suffix)) + suffix
    assert len(body) == LIMIT

    response = await user_client.post("/api/contexts", content=body, headers=JSON_HEADERS)

    # Parsed and validated: the description is too long, but the body was not refused.
    assert response.status_code == 422
    assert _error_locs(response) == [["body", "description"]]


def test_the_default_limit_is_stated_in_the_openapi_description(app):
    description = app.openapi()["info"]["description"]

    assert get_settings().MAX_REQUEST_BODY_BYTES == LIMIT
    assert f"at most {LIMIT} bytes" in description
    assert "1000 contexts with\n  100-character names and 10,000-character descriptions" in (
        description
    )


@pytest.mark.slow  # 10 MB written
async def test_a_full_batch_at_the_text_field_limits_fits_in_the_body_limit(user_client):
    # 1000 items, 100-character names, 10,000-character descriptions: the schema's largest
    # batch of plain text is accepted (about 10.2 MB).
    items = [{"name": f"{n:03d}" + "n" * 97, "description": "d" * 10_000} for n in range(1000)]
    body = json.dumps({"items": items}).encode()

    response = await user_client.post("/api/contexts/bulk", content=body, headers=JSON_HEADERS)

    assert len(body) < LIMIT
    assert response.status_code == 201, response.text[:200]
    assert len(response.json()["items"]) == 1000


async def test_a_full_batch_of_escaped_long_text_is_validated_not_refused(user_client):
    # 1000 items whose 1,000-character names and descriptions are all \uXXXX escapes (the
    # widest way to write them): within the body limit, so the names' length is what fails.
    items = [{"name": "\u00e9" * 1000, "description": "\u00e9" * 1000} for _ in range(1000)]
    body = json.dumps({"items": items}, ensure_ascii=True).encode()

    response = await user_client.post("/api/contexts/bulk", content=body, headers=JSON_HEADERS)

    assert len(body) > 12_000_000
    assert response.status_code == 422
    assert _error_locs(response) == [["body", "items", index, "name"] for index in range(1000)]
    assert {error["msg"] for error in response.json()["detail"]} == {
        "Name must have at most 100 characters"
    }


@pytest.fixture
def small_body_app(monkeypatch):
    """An app built with MAX_REQUEST_BODY_BYTES=100 (the settings cache cleared around it)."""
    monkeypatch.setenv("MAX_REQUEST_BODY_BYTES", "100")
    get_settings.cache_clear()
    try:
        yield create_app()
    finally:
        get_settings.cache_clear()  # the next read, in the next test, sees the restored env


async def test_the_body_size_limit_comes_from_the_settings(small_body_app):
    transport = httpx.ASGITransport(app=small_body_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as small:
        response = await small.post("/api/contexts", content=b"x" * 101, headers=JSON_HEADERS)

    assert response.status_code == 413
    assert response.json() == {"detail": "Request body too large: the limit is 100 bytes"}


# --- the last resort -------------------------------------------------------------------------


async def test_an_unexpected_error_is_a_json_500_without_traceback(client, app, caplog):
    def broken_dependency():
        raise RuntimeError("database password is hunter2")

    app.dependency_overrides[get_current_user] = broken_dependency
    try:
        with caplog.at_level(logging.ERROR, logger="app"):
            response = await client.get("/api/contexts")
    finally:
        del app.dependency_overrides[get_current_user]

    assert response.status_code == 500
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"detail": "Internal server error"}
    assert "Traceback" not in response.text
    assert "hunter2" not in response.text
    # The traceback goes to the log instead, for whoever runs the service.
    assert any(record.exc_info for record in caplog.records)
    assert get_current_user not in app.dependency_overrides
    assert (await client.get("/api/contexts")).status_code == 401


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/api/contexts", b"\x00\x01\x02"),
        ("POST", "/api/contexts", json.dumps({"name": "\ud800"}).encode()),
        ("PATCH", "/api/contexts/1", b"{"),
        ("POST", "/api/contexts/bulk", b'{"items": "nope"}'),
        ("PATCH", "/api/contexts/bulk", b'{"items": [null]}'),
        ("POST", "/api/contexts/bulk-delete", b'{"ids": [1e400]}'),
        ("POST", "/api/auth/login", b'{"username": ["x"], "password": {}}'),
    ],
)
async def test_bad_input_never_causes_a_500(user_client, method, path, body):
    response = await user_client.request(method, path, content=body, headers=JSON_HEADERS)

    assert 400 <= response.status_code < 500
    assert "detail" in response.json()
