"""The app under test: built once per process, lifespan run, session dependency redirected."""

# No `from __future__ import annotations` here: FastAPI reads the overrides' signatures at run
# time, and their Depends() refer to closures that string annotations could not resolve.

import functools
import inspect
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, Any

from fastapi import Depends, FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fastsuite.isolation import IsolationScope

__all__ = [
    "OVERRIDE_LEAK",
    "build_app",
    "changed_overrides",
    "overrides_restored",
    "session_override",
]

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


def build_app(target: Any, where: str) -> FastAPI:
    """The app, from the configured object: an app, or a factory returning one."""
    if isinstance(target, FastAPI):
        return target
    try:
        app = target()
    except Exception as error:
        raise RuntimeError(APP_FACTORY_FAILED.format(where=where, error=error)) from error
    if not isinstance(app, FastAPI):
        kind = type(app).__name__
        raise TypeError(APP_FACTORY_RETURNED.format(where=where, kind=kind))
    return app


def session_override(
    dependency: Callable[..., Any],
    scope: IsolationScope,
    app_sessionmaker: async_sessionmaker[Any] | None,
) -> Callable[..., Any]:
    """The override that serves the app's session dependency from the test's transaction.

    When the app's session factory is known (and already redirected to the test's connection),
    the app's own dependency still runs, so whatever it does around the session (commit at the
    end of the request, say) is tested too; otherwise the test's own sessions stand in for it.
    Either way requests take the test's request lock, so concurrent requests take turns.
    """

    async def hold_request_lock() -> AsyncIterator[None]:
        async with scope.request_lock:
            yield

    if app_sessionmaker is not None:
        # A partial is a different dependency key, so the override does not resolve to itself.
        original = functools.partial(dependency)

        async def through_app_dependency(
            _turn: Annotated[None, Depends(hold_request_lock)],
            session: Annotated[Any, Depends(original)],
        ) -> AsyncIterator[Any]:
            yield session

        return through_app_dependency

    sessions = scope.sessionmaker()

    async def serve_test_session(
        _turn: Annotated[None, Depends(hold_request_lock)],
    ) -> AsyncIterator[AsyncSession]:
        async with sessions() as session:
            yield session

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
