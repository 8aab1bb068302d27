"""User request and response bodies (admin routes and /auth/me)."""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime
from typing import Annotated, Any

from email_validator import EmailNotValidError, validate_email
from pydantic import AfterValidator, BeforeValidator, Field, StrictBool, field_validator
from pydantic_core import PydanticCustomError

from app.schemas.common import (
    RequestModel,
    ResponseModel,
    has_visible_character,
    no_nul,
    reject_null,
)

_USERNAME_RE = re.compile(r"[\w.@+-]+")


def normalise_username(value: str) -> str:
    """NFKC, as Django does: "alice" in fullwidth letters and "alice" are one name.

    Case is kept: "Bob" and "bob" are two users."""
    return unicodedata.normalize("NFKC", value)


def _check_username(value: str) -> str:
    value = normalise_username(value)
    if not 1 <= len(value) <= 150:
        raise PydanticCustomError(
            "username_length",
            "Username must have 1 to 150 characters, got {length}",
            {"length": len(value)},
        )
    if not _USERNAME_RE.fullmatch(value):
        raise PydanticCustomError(
            "username_characters",
            "Username may contain only letters, digits and @/./+/-/_ characters",
        )
    if not has_visible_character(value):  # a Hangul filler is a "letter" that shows nothing
        raise PydanticCustomError(
            "username_invisible", "Username must contain at least one visible character"
        )
    return value


def _check_password(value: str) -> str:
    if not has_visible_character(value):
        raise PydanticCustomError(
            "password_blank", "Password must not be only whitespace or invisible characters"
        )
    return value


def _check_email(value: str) -> str:
    if value == "":
        return value
    try:
        return validate_email(value, check_deliverability=False).normalized
    except EmailNotValidError as error:
        raise PydanticCustomError(
            "value_error", "Value is not a valid email address: {reason}", {"reason": str(error)}
        ) from None


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


Username = Annotated[str, AfterValidator(_check_username)]
Password = Annotated[str, Field(min_length=8, max_length=4096), AfterValidator(_check_password)]
Email = Annotated[str, BeforeValidator(_strip), Field(max_length=254), AfterValidator(_check_email)]
PersonName = Annotated[str, Field(max_length=150), AfterValidator(no_nul)]


class UserBase(RequestModel):
    username: Username
    email: Email = ""
    first_name: PersonName = ""
    last_name: PersonName = ""
    is_active: StrictBool = True
    is_staff: StrictBool = False
    is_superuser: StrictBool = False


class UserCreate(UserBase):
    password: Password


class UserUpdate(RequestModel):
    """Partial update (admin): omitted fields are left alone; null is refused."""

    username: Username | None = None
    password: Password | None = None
    email: Email | None = None
    first_name: PersonName | None = None
    last_name: PersonName | None = None
    is_active: StrictBool | None = None
    is_staff: StrictBool | None = None
    is_superuser: StrictBool | None = None

    @field_validator(
        "username",
        "password",
        "email",
        "first_name",
        "last_name",
        "is_active",
        "is_staff",
        "is_superuser",
        mode="before",
    )
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        return reject_null(value)


class UserPublic(ResponseModel):
    id: int
    username: str
    email: str
    first_name: str
    last_name: str
    is_active: bool
    is_staff: bool
    is_superuser: bool
    date_joined: datetime
    last_login: datetime | None


class UsersPublic(ResponseModel):
    items: list[UserPublic]
    total: int
    limit: int
    offset: int
