"""Context request and response bodies."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field, StrictBool, field_validator

from app.schemas.common import JsonObject, Name, RequestModel, ResponseModel, Text, reject_null


class ContextBase(RequestModel):
    name: Name
    description: Text = ""
    data: JsonObject = Field(default_factory=dict)
    is_active: StrictBool = True


class ContextCreate(ContextBase):
    pass


class ContextUpdate(RequestModel):
    """Partial update: omitted fields are left alone; null is refused."""

    name: Name | None = None
    description: Text | None = None
    data: JsonObject | None = None
    is_active: StrictBool | None = None

    @field_validator("name", "description", "data", "is_active", mode="before")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        return reject_null(value)


class ContextPublic(ResponseModel):
    id: int
    owner_id: int
    name: str
    description: str
    data: dict[str, Any]
    is_active: bool
    created_at: datetime
    updated_at: datetime


class ContextsPublic(ResponseModel):
    items: list[ContextPublic]
    total: int
    limit: int
    offset: int
