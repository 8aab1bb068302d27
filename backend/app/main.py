"""The application factory. Importing this module builds nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from app.api.errors import install_exception_handlers
from app.api.routes import api_router
from app.core.config import get_settings
from app.core.db import engine_created, get_engine
from app.core.middleware import BodySizeLimitMiddleware, InternalErrorMiddleware
from app.core.throttle import LoginThrottle


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    yield
    # Migrations are the CLI's job; here there is only the pool to close, if one was opened.
    if engine_created():
        await get_engine().dispose()


def create_app() -> FastAPI:
    """Build the app from the current settings (raises `ConfigurationError` when invalid).

    Each app has its own login throttle, on `app.state.login_throttle`.
    """
    settings = get_settings()
    app = FastAPI(
        title="Reference backend",
        summary="Users and their contexts: the FastAPI + SQLAlchemy app fastsuite is proven on.",
        version="0.1.0",
        lifespan=lifespan,
    )
    app.state.login_throttle = LoginThrottle(
        attempts=settings.LOGIN_THROTTLE_ATTEMPTS,
        username_attempts=settings.LOGIN_THROTTLE_USERNAME_ATTEMPTS,
        window_seconds=settings.LOGIN_THROTTLE_WINDOW_SECONDS,
    )
    install_exception_handlers(app)
    app.include_router(api_router)
    app.add_middleware(BodySizeLimitMiddleware, max_body_bytes=settings.MAX_REQUEST_BODY_BYTES)
    app.add_middleware(InternalErrorMiddleware)  # added last: the outermost
    return app
