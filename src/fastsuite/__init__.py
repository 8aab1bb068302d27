"""fastsuite: a fast, rollback-isolated pytest harness for FastAPI + SQLAlchemy 2 async apps."""

from fastsuite._factories import AsyncFactory
from fastsuite._queries import CapturedQueries, Query, assert_max_queries, assert_num_queries

__all__ = [
    "AsyncFactory",
    "CapturedQueries",
    "Query",
    "assert_max_queries",
    "assert_num_queries",
]
