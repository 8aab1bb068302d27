"""fastsuite: a fast, rollback-isolated pytest harness for FastAPI + SQLAlchemy 2 async apps."""

from fastsuite._background import CapturedCallbacks
from fastsuite._factories import AsyncFactory
from fastsuite._protocols import (
    AssertMaxQueries,
    AssertNumQueries,
    CaptureOnCommitCallbacks,
    ClientFactory,
)
from fastsuite._queries import CapturedQueries, Query, assert_max_queries, assert_num_queries

__all__ = [
    "AssertMaxQueries",
    "AssertNumQueries",
    "AsyncFactory",
    "CaptureOnCommitCallbacks",
    "CapturedCallbacks",
    "CapturedQueries",
    "ClientFactory",
    "Query",
    "assert_max_queries",
    "assert_num_queries",
]
