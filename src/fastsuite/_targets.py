"""The project's objects the settings name (app, metadata, session dependency, sessionmaker),
imported once per run, in pytest_configure, so a wrong path stops the run before any test.

PYTEST_DONT_REWRITE: fastsuite-warm preloads this module (see fastsuite._warm.learning).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

import pytest
from fastapi import FastAPI
from sqlalchemy import MetaData
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlalchemy.orm import sessionmaker

from fastsuite._config import Settings, import_from_string
from fastsuite._schema import is_metadata_source, metadata_of
from fastsuite._sessions import (
    AppSessions,
    app_session_dependency,
    learn_app_sessions,
    makes_async_sessions,
    redirected_sessionmaker,
)


@dataclass(frozen=True)
class Targets:
    """What the project's settings point at, each resolved once per run."""

    # The app, or a factory returning one (called once per test process, by the fixtures).
    app: FastAPI | Callable[[], Any]
    metadata: MetaData
    # None when only fastsuite_sessionmaker is set: the app's dependency is then left alone.
    session_dependency: Callable[..., Any] | None
    # The app's own session factory, sent into each test's transaction: fastsuite_sessionmaker,
    # else the one the session dependency opens (the dependency then runs as written); None
    # when neither is known (fastsuite then serves a session in the dependency's place).
    sessionmaker: async_sessionmaker[Any] | None
    # Where that factory was found (the setting, or `module:name` in the dependency's code).
    sessionmaker_where: str | None
    # The class and options of the app's sessions; None when only the routes of an app that a
    # factory builds can tell (the fixtures read them once the app is built).
    sessions: AppSessions | None


targets_key = pytest.StashKey[Targets]()


def _is_app_source(target: Any) -> bool:
    return isinstance(target, FastAPI) or callable(target)


def _is_sessionmaker_source(target: Any) -> bool:
    return isinstance(target, async_sessionmaker) or callable(target)


def resolve_targets(settings: Settings) -> Targets:
    """Import every configured target; a wrong one stops the run with a one-line UsageError."""
    app = import_from_string(
        settings, "app", "a FastAPI app or a factory returning one", _is_app_source
    )
    metadata = import_from_string(
        settings,
        "metadata",
        "a SQLAlchemy MetaData or declarative base (or a list of them)",
        is_metadata_source,
    )
    dependency = app_session_dependency(settings)
    redirected = redirected_sessionmaker(settings, _app_sessionmaker(settings), dependency)
    maker, where = redirected if redirected is not None else (None, None)
    built = app if isinstance(app, FastAPI) else None  # a factory is called later, by a fixture
    sessions = learn_app_sessions(settings, maker, dependency, built)
    return Targets(app, metadata_of(metadata), dependency, maker, where, sessions)


def _app_sessionmaker(settings: Settings) -> async_sessionmaker[Any] | None:
    if settings["sessionmaker"] is None:
        return None
    target = import_from_string(
        settings,
        "sessionmaker",
        "an async_sessionmaker or a function returning one",
        _is_sessionmaker_source,
    )
    maker = target if makes_async_sessions(target) else target()
    if isinstance(target, sessionmaker) and not makes_async_sessions(target):
        raise pytest.UsageError(
            f"fastsuite: {settings.describe('sessionmaker')} is a sessionmaker of "
            f"{target.class_.__name__}, not of an AsyncSession: name the app's async one."
        )
    if not makes_async_sessions(maker):
        raise pytest.UsageError(
            f"fastsuite: {settings.describe('sessionmaker')} returned "
            f"{type(maker).__name__}, not an async_sessionmaker."
        )
    return cast("async_sessionmaker[Any]", maker)
