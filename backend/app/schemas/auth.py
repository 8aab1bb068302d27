"""Login request and token response."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from app.schemas.common import RequestModel


class LoginRequest(RequestModel):
    # No format rules here: a name that cannot exist is simply an unknown user (401).
    username: str = Field(max_length=1024)
    password: str = Field(max_length=4096)


class Token(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105
    expires_in: int
