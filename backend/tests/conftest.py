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
)

from collections.abc import Callable, Iterator

import httpx
import pytest
from app.core.security import create_access_token
from app.models import User
from fastapi import FastAPI

from tests.factories import UserFactory


@pytest.fixture(autouse=True)
def _fresh_login_throttle(app: FastAPI) -> Iterator[None]:
    # The throttle lives in the app, which the whole process shares: each test starts clean.
    yield
    app.state.login_throttle.clear()


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
