"""The app under test: built once per process, lifespan run, session dependency redirected.

PYTEST_DONT_REWRITE: fastsuite-warm preloads this module (see fastsuite._warm.learning).
"""

# No `from __future__ import annotations` here: FastAPI reads the overrides' signatures at run
# time, and their Depends() refer to closures that string annotations could not resolve.

import asyncio
import inspect
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from typing import Any

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from fastsuite._blocker import ConnectionRefused
from fastsuite._freshness import FreshObjects
from fastsuite._isolation import IsolationScope
from fastsuite._sessions import AppSessions

APP_FACTORY_FAILED = (
    "fastsuite: {where} is a factory, and calling it failed: {error!r}. "
    "It must return a FastAPI app when called without arguments."
)
APP_FACTORY_RETURNED = "fastsuite: {where} is a factory, and it returned {kind}, not a FastAPI app."
OVERRIDE_LEAK = (
    "fastsuite: this test left app.dependency_overrides changed for {names}. "
    "Undo what the test or its fixtures set (or use the `client` fixture, which restores "
    "overrides after each test); fastsuite has restored them so the next test starts clean."
)


class AppFactoryError(Exception):
    """The configured app factory failed, or returned something else than an app."""


def build_app(target: Any, where: str) -> FastAPI:
    """The app, from the configured object: an app, or a factory returning one."""
    if isinstance(target, FastAPI):
        return target
    try:
        app = target()
    except Exception as error:
        raise AppFactoryError(APP_FACTORY_FAILED.format(where=where, error=error)) from error
    if not isinstance(app, FastAPI):
        kind = type(app).__name__
        raise AppFactoryError(APP_FACTORY_RETURNED.format(where=where, kind=kind))
    return app


class TakingTurns:
    """ASGI wrapper: the app's HTTP requests take turns, one at a time, and the test's session
    sees what each wrote (see _freshness).

    A test's sessions share one connection, where their SAVEPOINTs must nest; requests sent
    concurrently (asyncio.gather) would interleave them. Waiting for the previous request
    (its background tasks included) keeps them nested, so such a test works.
    """

    def __init__(self, app: Any) -> None:
        self.app = app
        self.lock: asyncio.Lock | None = None
        # The running test's session, kept in step with what its requests write.
        self.fresh: FreshObjects | None = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        try:
            await self._take_turn(scope, receive, send)
        except BaseExceptionGroup as group:
            # A middleware on a task group (Starlette's BaseHTTPMiddleware) wraps what the route
            # raised: a refused connection is the test's failure, not one of a group.
            refusal = _first_refusal(group)
            if refusal is None:
                raise
            raise refusal from None

    async def _take_turn(self, scope: Any, receive: Any, send: Any) -> None:
        if self.lock is None or scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        async with self.lock:
            fresh = self.fresh
            if fresh is None:
                await self.app(scope, receive, send)
                return
            async with fresh.around_request():
                await self.app(scope, receive, send)


def _first_refusal(group: BaseExceptionGroup[BaseException]) -> ConnectionRefused | None:
    found = group.subgroup(ConnectionRefused)
    while isinstance(found, BaseExceptionGroup):
        found = found.exceptions[0]
    return found


def session_override(
    scope: IsolationScope, app_sessions: AppSessions, commits: bool
) -> Callable[[], AsyncIterator[AsyncSession]]:
    """What serves the app's session dependency (a session of the app's class and options in
    the test's transaction) when the app's session factory is unknown; `commits`: commit it
    after the route, as the dependency's own code does (an error rolls it back instead).

    When the factory is known (fastsuite_sessionmaker, or the one the dependency opens) no
    override is needed: the app's own dependency opens its session from the factory,
    redirected into the test's transaction, so whatever the dependency does around the
    session is tested too.
    """
    sessions = scope.sessionmaker(app_sessions)

    async def serve_test_session() -> AsyncIterator[AsyncSession]:
        async with sessions() as session:
            yield session  # what the route raises comes out here: closing rolls it back
            if commits:
                await session.commit()

    return serve_test_session


@contextmanager
def overrides_restored(app: FastAPI) -> Iterator[None]:
    """Snapshot `app.dependency_overrides` and put the snapshot back afterwards."""
    snapshot = dict(app.dependency_overrides)
    try:
        yield
    finally:
        app.dependency_overrides.clear()
        app.dependency_overrides.update(snapshot)


def changed_overrides(app: FastAPI, snapshot: dict[Any, Any]) -> list[str]:
    """Names of the dependencies whose override differs from the snapshot."""
    current = app.dependency_overrides
    keys = set(snapshot) | set(current)
    changed = [key for key in keys if snapshot.get(key) is not current.get(key)]
    return sorted(_name_of(key) for key in changed)


def _name_of(dependency: Any) -> str:
    module = inspect.getmodule(dependency)
    name = getattr(dependency, "__qualname__", None) or repr(dependency)
    return f"{module.__name__}.{name}" if module else name
