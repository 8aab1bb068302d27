"""Login request and token response."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from app.schemas.common import RequestModel


class LoginRequest(RequestModel):
    # No format rules here: a name that cannot exist is simply an unknown user (401).
    username: str = Field(max_length=1024)
    password: str = Field(max_length=4096)


class TokenForm(RequestModel):
    """OAuth2's password grant as a form (RFC 6749 4.3), what the docs' Authorize button sends;
    like every request body, an unknown field is a 422 naming it."""

    grant_type: str | None = Field(default=None, pattern="^password$")
    username: str = Field(max_length=1024)
    password: str = Field(max_length=4096)
    scope: str = ""
    client_id: str | None = None
    client_secret: str | None = None


class Token(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105
    expires_in: int
