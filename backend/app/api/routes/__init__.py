"""One router per resource, each mounted under `/api` by the app (see `app.main`)."""

from __future__ import annotations

from app.api.routes import admin, auth, contexts, health

API_PREFIX = "/api"

# Included one by one, not through an `/api` router of their own: FastAPI matches a request
# through every level of nested routers again to handle it, so each level costs every request.
routers = (health.router, auth.router, contexts.router, admin.router)

__all__ = ["API_PREFIX", "routers"]
