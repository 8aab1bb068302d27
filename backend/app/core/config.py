"""Settings, read from the environment and a `.env` file through `get_settings()`.

Nothing is read at import time: the first call to `get_settings()` reads the environment, and
`get_settings.cache_clear()` makes the next call read it again (tests set cheap Argon2 costs this
way before anything hashes a password).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Literal

import argon2
from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

BACKEND_DIR = Path(__file__).resolve().parents[2]
"""The `backend/` directory of the repository (holds `alembic.ini` and `var/`)."""

DEFAULT_SQLITE_PATH = BACKEND_DIR / "var" / "app.db"
DEFAULT_DATABASE_URL = f"sqlite+aiosqlite:///{DEFAULT_SQLITE_PATH.as_posix()}"

DEV_SECRET_KEY = "dev-insecure-secret-key-do-not-use-in-production"  # noqa: S105
MIN_SECRET_KEY_BYTES = 32

UNSAFE_KEY_MESSAGE = (
    "SECRET_KEY is still the development default while ENVIRONMENT={environment!r}; "
    "set SECRET_KEY to a random value of at least 32 characters "
    '(python -c "import secrets; print(secrets.token_urlsafe(48))") '
    "or set ENVIRONMENT=development"
)


SUPPORTED_DATABASES = "use sqlite+aiosqlite:///PATH or postgresql+asyncpg://USER:PASSWORD@HOST/DB"

# Synchronous spellings are accepted and mapped to the async driver the app needs.
_ASYNC_DRIVERS = {
    "sqlite": "sqlite+aiosqlite",
    "sqlite+aiosqlite": "sqlite+aiosqlite",
    "postgres": "postgresql+asyncpg",
    "postgresql": "postgresql+asyncpg",
    "postgresql+asyncpg": "postgresql+asyncpg",
}


class ConfigurationError(RuntimeError):
    """The settings in the environment are invalid; the message says which and how to fix it."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    ENVIRONMENT: Literal["development", "test", "production"] = "development"
    DATABASE_URL: str = DEFAULT_DATABASE_URL
    SECRET_KEY: str = DEV_SECRET_KEY
    ACCESS_TOKEN_EXPIRE_MINUTES: int = Field(default=30, ge=1)
    # 16 MiB: the largest batch of plain text at the field limits fits (1000 contexts with
    # 100-character names and 10,000-character descriptions: about 10.2 MB of JSON), and so
    # does any 1000-item batch of 1,000-character names and descriptions, even with every
    # character written as a \uXXXX escape (about 12.1 MB).
    MAX_REQUEST_BODY_BYTES: int = Field(default=16 * 1024 * 1024, ge=0)

    # Failed logins allowed per (username, client address), and per username from all
    # addresses together, within the window (see app.core.throttle).
    LOGIN_THROTTLE_ATTEMPTS: int = Field(default=5, ge=1)
    LOGIN_THROTTLE_USERNAME_ATTEMPTS: int = Field(default=100, ge=1)
    LOGIN_THROTTLE_WINDOW_SECONDS: int = Field(default=900, ge=1)

    ARGON2_TIME_COST: int = Field(default=argon2.DEFAULT_TIME_COST, ge=1)
    ARGON2_MEMORY_COST: int = Field(default=argon2.DEFAULT_MEMORY_COST, ge=8)
    ARGON2_PARALLELISM: int = Field(default=argon2.DEFAULT_PARALLELISM, ge=1)
    # Argon2 at production cost takes tens of milliseconds: off the event loop, in a worker
    # thread. A test suite with cheap parameters turns this off to save the thread hop.
    PASSWORD_HASHING_IN_THREAD: bool = True

    @field_validator("DATABASE_URL")
    @classmethod
    def _async_driver(cls, value: str) -> str:
        try:
            url = make_url(value)
        except ArgumentError:
            raise ValueError(f"not a database URL; {SUPPORTED_DATABASES}") from None
        driver = _ASYNC_DRIVERS.get(url.drivername, url.drivername)
        if driver not in _ASYNC_DRIVERS.values():
            raise ValueError(
                f"unsupported database driver {url.drivername!r}; {SUPPORTED_DATABASES}"
            )
        return url.set(drivername=driver).render_as_string(hide_password=False)

    @model_validator(mode="after")
    def _check_consistency(self) -> Settings:
        if self.ENVIRONMENT != "development" and self.SECRET_KEY == DEV_SECRET_KEY:
            raise ValueError(UNSAFE_KEY_MESSAGE.format(environment=self.ENVIRONMENT))
        if len(self.SECRET_KEY.encode()) < MIN_SECRET_KEY_BYTES:
            raise ValueError(
                f"SECRET_KEY must be at least {MIN_SECRET_KEY_BYTES} bytes long "
                "(HS256 needs a 256-bit key)"
            )
        if self.ARGON2_MEMORY_COST < 8 * self.ARGON2_PARALLELISM:
            raise ValueError(
                "ARGON2_MEMORY_COST must be at least 8 KiB per lane "
                f"(8 * ARGON2_PARALLELISM = {8 * self.ARGON2_PARALLELISM})"
            )
        return self


def _summarise(error: ValidationError) -> str:
    parts = []
    for item in error.errors(include_url=False):
        field = ".".join(str(part) for part in item["loc"])
        message = item["msg"].removeprefix("Value error, ")
        parts.append(f"{field}: {message}" if field else message)
    return "invalid settings: " + "; ".join(parts)


@cache
def get_settings() -> Settings:
    """The process's settings, read once; raises `ConfigurationError` naming the bad setting."""
    try:
        return Settings()
    except ValidationError as error:
        raise ConfigurationError(_summarise(error)) from None
