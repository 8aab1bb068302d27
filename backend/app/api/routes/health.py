"""GET /api/health: the service and its database answer."""

from __future__ import annotations

import logging

from fastapi import APIRouter, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from app.api.deps import SessionDep

logger = logging.getLogger("app")

router = APIRouter(prefix="/health", tags=["health"])


class HealthPublic(BaseModel):
    status: str
    database: str


@router.get(
    "",
    response_model=HealthPublic,
    responses={503: {"description": "The database does not answer"}},
)
async def health(session: SessionDep) -> HealthPublic | JSONResponse:
    try:
        await session.execute(text("SELECT 1"))
    except (SQLAlchemyError, OSError):
        logger.exception("Health check: the database does not answer")
        return JSONResponse(
            status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
            content={"detail": "Database unavailable", "status": "error", "database": "error"},
        )
    return HealthPublic(status="ok", database="ok")
