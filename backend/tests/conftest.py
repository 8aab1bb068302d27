"""The backend's suite: settings for tests, and users and logged-in clients.

The harness (fastsuite) is wired in the root pyproject.toml; this file only adds what is
specific to this app.
"""

from __future__ import annotations

import os

# Before the app reads its settings (first in the harness's session fixtures): cheap Argon2,
# as Django's docs advise a fast hasher for tests (tests/core/test_security.py runs the
# production parameters once); no way for a test to reach the development database file.
os.environ.update(
    ENVIRONMENT="test",
    SECRET_KEY="test-secret-key-not-for-production-0123456789",
    DATABASE_URL="sqlite+aiosqlite://",
    ARGON2_TIME_COST="1",
    ARGON2_MEMORY_COST="8",
    ARGON2_PARALLELISM="1",
    PASSWORD_HASHING_IN_THREAD="false",
)

import re
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from app.core.security import create_access_token
from app.models import User
from fastapi import FastAPI

from tests.factories import DEFAULT_PASSWORD, UserFactory


@pytest.fixture
def _fresh_login_throttle(app: FastAPI) -> Iterator[None]:
    """The app's login throttle cleared after the test (the clients below do it themselves)."""
    yield
    app.state.login_throttle.clear()


# The throttle lives in the app, which the whole process shares: each test's requests must not
# count against the next test's. Requests reach the app through `client` and `client_factory`
# (below; `client_at` in api/test_login_throttle.py takes `client`), so they clear it when
# the test ends: an autouse fixture would cost every test, those without requests too, a
# fixture of its own (pytest sets up and tears down each one, about 0.05 ms).


@pytest.fixture
def throttle_clock(app: FastAPI, monkeypatch: pytest.MonkeyPatch):
    """The login throttle's clock, frozen at 1000.0; set `.now` to move it (restored after)."""

    class Clock:
        now = 1000.0

        def __call__(self) -> float:
            return self.now

    clock = Clock()
    monkeypatch.setattr(app.state.login_throttle, "clock", clock)
    return clock


@pytest.fixture
async def admin_user(db_session) -> User:
    """A staff superuser, made by the factory (password: tests.factories.DEFAULT_PASSWORD)."""
    return await UserFactory.acreate(admin=True, username="admin")


@pytest.fixture
async def user(db_session) -> User:
    """A plain active user (password: tests.factories.DEFAULT_PASSWORD)."""
    return await UserFactory.acreate(username="alice")


def bearer(user: User) -> dict[str, str]:
    """The Authorization header of a fresh token for `user`."""
    token = create_access_token(user_id=user.id, password_hash=user.password).token
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def admin_client(client_factory: Callable[..., httpx.AsyncClient], admin_user) -> httpx.AsyncClient:
    """A client like `client`, logged in as admin_user, in the same transaction."""
    return client_factory(headers=bearer(admin_user))


@pytest.fixture
def user_client(client_factory: Callable[..., httpx.AsyncClient], user) -> httpx.AsyncClient:
    """A client like `client`, logged in as user, in the same transaction."""
    return client_factory(headers=bearer(user))


# --- no password material in any response -------------------------------------------------
# Every client the suite's tests get (`client`, `client_factory`'s, so `admin_client` and
# `user_client` too) checks every response it receives: a password hash, a JSON key named
# "password" or the factories' plain password anywhere in the headers or body fails the test
# that made the request. One regex pass over the body and one over the headers, in memory
# already (bench/backend_patterns measures it). The OpenAPI document is exempt from the key
# check only: it describes the "password" field of the request bodies, and carries no value.

PASSWORD_MARKERS = (b"$argon2", b"pbkdf2_sha256$", DEFAULT_PASSWORD.encode())
_PASSWORD_KEY = re.compile(rb'(?<!\\)"password"\s*:')  # a key; not the string in a `loc`
_SCHEMA_PATHS = frozenset({"/openapi.json"})


# Substring tests (`in` on bytes: a fast search) answer the common case, "nothing", before any
# regex runs: the key's regex starts with a lookbehind, which costs a check at every byte, about
# ten times the substring tests. The detailed search below runs only when one of these hits.
_QUICK_MARKERS = (*PASSWORD_MARKERS, b'"password"')
# All of them in one search; no marker holds a newline, so header values joined by one neither
# make nor hide a match.
_QUICK = re.compile(b"|".join(re.escape(marker) for marker in _QUICK_MARKERS))


def password_material_in(response: httpx.Response) -> list[str]:
    """Where `response` (read) carries password material, e.g. `["body: b'$argon2'"]`."""
    body = response.content
    headers = b"\n".join([value for _, value in response.headers.raw])
    if _QUICK.search(body) is None and _QUICK.search(headers) is None:
        return []
    found = [
        f"header {name.decode().lower()}: {marker!r}"
        for name, value in response.headers.raw
        for marker in PASSWORD_MARKERS
        if marker in value
    ]
    if body:
        found += [f"body: {marker!r}" for marker in PASSWORD_MARKERS if marker in body]
        if (
            "json" in response.headers.get("content-type", "")
            and response.url.path not in _SCHEMA_PATHS
            and len(_PASSWORD_KEY.findall(body)) > len(_PASSWORD_KEY.findall(_sent(response)))
        ):
            # More "password" keys than the request sent: the client's own JSON echoed back (a
            # context's `data`, as the OpenAPI fuzzing generates it) is no leak.
            found.append('body: a "password" key')
    return found


def _sent(response: httpx.Response) -> bytes:
    try:
        return response.request.content
    except httpx.RequestNotRead:  # a streamed request body: nothing to compare with
        return b""


async def _refuse_password_material(response: httpx.Response) -> None:
    await response.aread()  # response hooks run before the body is read
    found = password_material_in(response)
    if found:
        request = response.request
        pytest.fail(
            f"password material in the response to {request.method} {request.url} "
            f"({response.status_code}): {'; '.join(found)}",
            pytrace=False,
        )


def checked(http_client: httpx.AsyncClient) -> httpx.AsyncClient:
    http_client.event_hooks["response"].append(_refuse_password_material)
    return http_client


@pytest.fixture
def client(client: httpx.AsyncClient, app: FastAPI) -> Iterator[httpx.AsyncClient]:
    """The harness's `client`, refusing any response that carries password material; the app's
    login throttle is cleared after the test."""
    yield checked(client)
    app.state.login_throttle.clear()


@pytest.fixture
def client_factory(
    client_factory: Callable[..., httpx.AsyncClient], app: FastAPI
) -> Iterator[Callable[..., httpx.AsyncClient]]:
    """The harness's `client_factory`; its clients refuse responses with password material.
    The app's login throttle is cleared after the test."""

    def make(**options: Any) -> httpx.AsyncClient:
        return checked(client_factory(**options))

    yield make
    app.state.login_throttle.clear()
