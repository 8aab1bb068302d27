"""ORM models. `Base.metadata` holds every table (Alembic's `target_metadata`)."""

from __future__ import annotations

from app.models.base import Base
from app.models.context import Context
from app.models.user import User

__all__ = ["Base", "Context", "User"]
