"""A/B, inside one process, of the reference backend's fast-app patterns (issue 12).

Each pattern is a parametrized test whose runs alternate between variant A (the code before,
kept here) and B (the backend's code now), in pairs whose order flips every pair (A B B A ...),
on the harness's in-memory SQLite, through the real app where the pattern lives in a request.
Only the part the pattern changes is timed (one request, or one call), in CPU time of the
process (all its threads: the worker thread of a sync dependency included) and in wall time;
on a loaded machine CPU time is the steadier of the two, as other processes' time slices do
not count. The report gives medians per variant and their difference. From the repository root:

    uv run pytest -q -p no:randomly bench/backend_patterns/ab_patterns.py

`AB_ROUNDS` (default 400) sets how many tests each pattern runs. Nothing here asserts a timing.
"""

from __future__ import annotations

import os
import re
import statistics
import time
from collections import defaultdict

import pytest
from app.api import deps
from app.core.security import decode_access_token, fingerprint_matches
from app.models import Context, User
from app.models.base import utcnow
from app.services import context_bulk
from app.services import contexts as contexts_service
from app.services.common import Page, PageRequest
from app.services.contexts import _name_taken
from fastapi import HTTPException, Request
from sqlalchemy import func, insert, select
from tests import conftest as suite
from tests.conftest import bearer
from tests.factories import DEFAULT_PASSWORD, ContextFactory, UserFactory

ROUNDS = int(os.environ.get("AB_ROUNDS", "400"))
_samples: defaultdict[tuple[str, str, str], list[float]] = defaultdict(list)

# Per test of the bench's workload: how often each pattern runs (3 authenticated requests,
# 1 login, 1 single create, 1 list, 1 bulk create, 4 responses checked by the suite's hook).
PER_WORKLOAD_TEST = {
    "auth lookup": 3,
    "throttle dependency": 1,
    "pre-check": 1,
    "page": 1,
    "bulk statements": 1,
    "password scan": 4,
}


def _variant(i: int) -> str:
    return "A" if i % 4 in (0, 3) else "B"


class _Timer:
    """Times a block in process CPU time and in wall time, recording both for `pattern`."""

    def __init__(self, pattern: str, variant: str, calls: int = 1) -> None:
        self.key = (pattern, variant)
        self.calls = calls

    def __enter__(self) -> None:
        self.cpu = time.process_time()
        self.wall = time.perf_counter()

    def __exit__(self, *_exc: object) -> None:
        cpu = (time.process_time() - self.cpu) / self.calls
        wall = (time.perf_counter() - self.wall) / self.calls
        _samples[(*self.key, "cpu")].append(cpu)
        _samples[(*self.key, "wall")].append(wall)


def report() -> list[str]:
    if not _samples:
        return []
    lines = [
        "",
        "pattern [clock]: median A (before) / B (now) µs; saved per call; per workload test",
    ]
    for pattern in dict.fromkeys(key[0] for key in _samples):
        for clock in ("cpu", "wall"):
            a_samples = _samples[(pattern, "A", clock)]
            b_samples = _samples[(pattern, "B", clock)]
            a = statistics.median(a_samples) * 1e6
            b = statistics.median(b_samples) * 1e6
            per_test = PER_WORKLOAD_TEST[pattern]
            lines.append(
                f"{pattern} [{clock}]: {a:,.1f} / {b:,.1f} µs (B/A {b / a:.2f});"
                f" saved {a - b:,.1f} µs per call; x{per_test} = {(a - b) * per_test:,.0f} µs"
                f" per workload test ({len(a_samples) + len(b_samples)} samples)"
            )
    return lines


# --- A: the code before ---------------------------------------------------------------------


async def _current_user_built_each_time(session: deps.SessionDep, token: deps.TokenDep) -> User:
    if not token:
        raise HTTPException(401)
    claims = decode_access_token(token)
    user = await session.scalar(
        select(User).where(User.id == claims.user_id).execution_options(populate_existing=True)
    )
    if user is None or not user.is_active or not fingerprint_matches(claims, user.password):
        raise HTTPException(401)
    return user


async def _current_user_prebuilt(session: deps.SessionDep, token: deps.TokenDep) -> User:
    # B through the same override machinery as A: FastAPI resolves overrides on every request,
    # so both variants pay for that alike.
    return await deps.get_current_user(session, token)


def _sync_throttle(request: Request):
    return request.app.state.login_throttle


async def _async_throttle(request: Request):
    return request.app.state.login_throttle


_create_context = contexts_service.create_context  # B, kept before A replaces it


async def _create_with_pre_check(*, session, owner, data):
    exists = await session.scalar(
        select(Context.id).where(Context.owner_id == owner.id, Context.name == data.name).limit(1)
    )
    if exists is not None:
        raise _name_taken(data.name)
    return await _create_context(session=session, owner=owner, data=data)


async def _page_built_each_time(*, session, owner_id, page: PageRequest, is_active=None):
    # The list as it was: its statement built (and keyed) on every request, and a COUNT of its
    # own next to the page's SELECT.
    statement = select(Context).where(Context.owner_id == owner_id)
    total = await session.scalar(select(func.count()).select_from(statement.subquery()))
    ordered = statement.order_by(Context.id)
    rows = await session.scalars(ordered.limit(page.limit).offset(page.offset))
    return Page(items=rows.all(), total=total or 0, limit=page.limit, offset=page.offset)


async def _bulk_create_built_each_time(*, session, owner, items):
    # The bulk create as it was: its name check and its INSERT built on every request.
    names = [item.name for item in items]
    repeated = context_bulk._repeated(enumerate(names))
    taken = set(
        await session.scalars(
            select(Context.name).where(Context.owner_id == owner.id, Context.name.in_(set(names)))
        )
    )
    existing = [index for index, name in enumerate(names) if name in taken]
    if repeated or existing:
        raise context_bulk._duplicate_names(repeated=repeated, existing=existing)
    now = utcnow()
    rows = [
        {"owner_id": owner.id, "created_at": now, "updated_at": now, **item.model_dump()}
        for item in items
    ]
    result = await session.scalars(insert(Context).returning(Context), rows)
    by_name = {row.name: row for row in result.all()}
    return [by_name[name] for name in names]


_OLD_MARKERS = (b"$argon2", b"pbkdf2_sha256$", DEFAULT_PASSWORD.encode())
_OLD_KEY = re.compile(rb'(?<!\\)"password"\s*:')


def _old_password_material_in(response) -> list[str]:
    found = [
        f"header {name.decode().lower()}: {marker!r}"
        for name, value in response.headers.raw
        for marker in _OLD_MARKERS
        if marker in value
    ]
    body = response.content
    if body:
        found += [f"body: {marker!r}" for marker in _OLD_MARKERS if marker in body]
        if (
            "json" in response.headers.get("content-type", "")
            and response.url.path not in {"/openapi.json"}
            and _OLD_KEY.search(body)
        ):
            found.append('body: a "password" key')
    return found


# --- the measurements -----------------------------------------------------------------------


@pytest.fixture
async def seeded(db_session):
    admin = await UserFactory.acreate(username="ab-admin", admin=True)
    await ContextFactory.acreate_batch(5, owner=admin)
    return admin


@pytest.mark.parametrize("i", range(ROUNDS))
async def test_auth_lookup(app, client, seeded, i):
    variant = _variant(i)
    override = _current_user_built_each_time if variant == "A" else _current_user_prebuilt
    app.dependency_overrides[deps.get_current_user] = override
    headers = bearer(seeded)

    with _Timer("auth lookup", variant):
        response = await client.get("/api/auth/me", headers=headers)

    assert response.status_code == 200


@pytest.mark.parametrize("i", range(ROUNDS))
async def test_throttle_dependency(app, client, seeded, i):
    variant = _variant(i)
    override = _sync_throttle if variant == "A" else _async_throttle
    app.dependency_overrides[deps.get_login_throttle] = override
    credentials = {"username": "ab-admin", "password": DEFAULT_PASSWORD}

    with _Timer("throttle dependency", variant):
        response = await client.post("/api/auth/login", json=credentials)

    assert response.status_code == 200


@pytest.mark.parametrize("i", range(ROUNDS))
async def test_pre_check(client, seeded, monkeypatch, i):
    variant = _variant(i)
    if variant == "A":
        monkeypatch.setattr(contexts_service, "create_context", _create_with_pre_check)
    headers = bearer(seeded)

    with _Timer("pre-check", variant):
        response = await client.post("/api/contexts", json={"name": "new"}, headers=headers)

    assert response.status_code == 201


@pytest.mark.parametrize("i", range(ROUNDS))
async def test_page(client, seeded, monkeypatch, i):
    variant = _variant(i)
    if variant == "A":
        monkeypatch.setattr(contexts_service, "list_contexts", _page_built_each_time)
    headers = bearer(seeded)

    with _Timer("page", variant):
        response = await client.get("/api/contexts", headers=headers)

    assert response.json()["total"] == 5


@pytest.mark.parametrize("i", range(ROUNDS))
async def test_bulk_statements(client, seeded, monkeypatch, i):
    variant = _variant(i)
    if variant == "A":
        monkeypatch.setattr(context_bulk, "bulk_create_contexts", _bulk_create_built_each_time)
    items = [{"name": f"bulk-{k}"} for k in range(3)]

    with _Timer("bulk statements", variant):
        response = await client.post(
            "/api/contexts/bulk", json={"items": items}, headers=bearer(seeded)
        )

    assert response.status_code == 201


@pytest.mark.parametrize("i", range(ROUNDS))
async def test_password_scan(client, seeded, i):
    variant = _variant(i)
    scan = _old_password_material_in if variant == "A" else suite.password_material_in
    login = await client.post(
        "/api/auth/login", json={"username": "ab-admin", "password": DEFAULT_PASSWORD}
    )
    page = await client.get("/api/contexts", headers=bearer(seeded))

    responses = (login, page, login, page)  # the workload's 4 responses, about
    with _Timer("password scan", variant, calls=len(responses)):
        for response in responses:
            assert scan(response) == []
