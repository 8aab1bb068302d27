"""The application factory. Importing this module builds nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from app.api.errors import install_exception_handlers
from app.api.routes import API_PREFIX, routers
from app.core.config import Settings, get_settings
from app.core.db import engine_created, get_engine
from app.core.middleware import BodySizeLimitMiddleware, InternalErrorMiddleware
from app.core.throttle import TRUSTED_ADDRESS_SECONDS, LoginThrottle
from app.schemas.common import MAX_BATCH


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    yield
    # Migrations are the CLI's job; here there is only the pool to close, if one was opened.
    if engine_created():
        await get_engine().dispose()


def _description(settings: Settings) -> str:
    """The OpenAPI description: the limits a client must know, with this app's values."""
    window_minutes = settings.LOGIN_THROTTLE_WINDOW_SECONDS // 60
    trusted_days = TRUSTED_ADDRESS_SECONDS // (24 * 3600)
    return f"""\
## Limits

- **Request bodies**: at most {settings.MAX_REQUEST_BODY_BYTES} bytes
  (`MAX_REQUEST_BODY_BYTES`); a larger body gets 413 before it is parsed. The default,
  16 MiB, admits every batch of plain text within the field limits: 1000 contexts with
  100-character names and 10,000-character descriptions. A batch whose items carry large
  `data` objects (up to 64 KiB each) may have to be split.
- **Batches**: 1 to {MAX_BATCH} items; all or nothing.
- **Login throttling**: after {settings.LOGIN_THROTTLE_ATTEMPTS} failed logins for one username
  from one client address within {window_minutes} minutes, that pair gets 429 with
  `Retry-After` (seconds until the oldest counted failure leaves the window), whatever the
  password; a successful login resets the pair. Failures from other addresses do not count
  against yours. Across all addresses, {settings.LOGIN_THROTTLE_USERNAME_ATTEMPTS} failures for
  one username within the window close it the same way, except from addresses the user
  logged in from successfully in the last {trusted_days} days.
- **Strict JSON**: booleans are `true`/`false`, ids are JSON integers, path ids plain digits;
  an unknown field is a 422 naming it.
- **Names**: usernames are NFKC-normalised, context names NFC-normalised, before they are
  stored or compared; either must contain a visible character. Passwords must not be only
  whitespace.
- **Ids** are never reused.
"""


def create_app() -> FastAPI:
    """Build the app from the current settings (raises `ConfigurationError` when invalid).

    Each app has its own login throttle, on `app.state.login_throttle`.
    """
    settings = get_settings()
    app = FastAPI(
        title="Reference backend",
        summary="Users and their contexts: the FastAPI + SQLAlchemy app fastsuite is proven on.",
        description=_description(settings),
        version="0.1.0",
        lifespan=lifespan,
    )
    app.state.login_throttle = LoginThrottle(
        attempts=settings.LOGIN_THROTTLE_ATTEMPTS,
        username_attempts=settings.LOGIN_THROTTLE_USERNAME_ATTEMPTS,
        window_seconds=settings.LOGIN_THROTTLE_WINDOW_SECONDS,
    )
    install_exception_handlers(app)
    for router in routers:
        app.include_router(router, prefix=API_PREFIX)
    app.add_middleware(BodySizeLimitMiddleware, max_body_bytes=settings.MAX_REQUEST_BODY_BYTES)
    app.add_middleware(InternalErrorMiddleware)  # added last: the outermost
    return app
