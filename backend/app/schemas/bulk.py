"""Bodies of the bulk routes: 1 to 1000 items, errors located by item index."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, StrictInt

from app.schemas.common import MAX_BATCH, RequestModel
from app.schemas.context import ContextCreate, ContextPublic, ContextUpdate


class ContextsBulkCreate(RequestModel):
    items: list[ContextCreate] = Field(min_length=1, max_length=MAX_BATCH)


class ContextBulkUpdateItem(ContextUpdate):
    id: StrictInt


class ContextsBulkUpdate(RequestModel):
    items: list[ContextBulkUpdateItem] = Field(min_length=1, max_length=MAX_BATCH)


class ContextsBulkDelete(RequestModel):
    ids: list[StrictInt] = Field(min_length=1, max_length=MAX_BATCH)


class ContextsBulkPublic(BaseModel):
    items: list[ContextPublic]


class BulkDeleted(BaseModel):
    deleted: int


class UsersBulkAction(RequestModel):
    ids: list[StrictInt] = Field(min_length=1, max_length=MAX_BATCH)
    action: Literal["activate", "deactivate", "delete"]


class BulkActionResult(BaseModel):
    affected: int
