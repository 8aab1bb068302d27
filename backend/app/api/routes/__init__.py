"""One router per resource, all mounted under `/api` by `api_router`."""

from __future__ import annotations

from fastapi import APIRouter

from app.api.routes import admin, auth, contexts, health

api_router = APIRouter(prefix="/api")
api_router.include_router(health.router)
api_router.include_router(auth.router)
api_router.include_router(contexts.router)
api_router.include_router(admin.router)

__all__ = ["api_router"]
