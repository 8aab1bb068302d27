"""fastsuite: a fast, rollback-isolated pytest harness for FastAPI + SQLAlchemy 2 async apps."""

from __future__ import annotations

from fastsuite.factories import AsyncFactory
from fastsuite.queries import CapturedQueries, Query, assert_max_queries, assert_num_queries

__all__ = [
    "AsyncFactory",
    "CapturedQueries",
    "Query",
    "assert_max_queries",
    "assert_num_queries",
]
