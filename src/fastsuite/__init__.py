"""fastsuite: a fast, rollback-isolated pytest harness for FastAPI + SQLAlchemy 2 async apps."""

from typing import TYPE_CHECKING as _TYPE_CHECKING
from typing import Any as _Any

from fastsuite._queries import CapturedQueries, Query, assert_max_queries, assert_num_queries

if _TYPE_CHECKING:
    from fastsuite._factories import AsyncFactory

__all__ = [
    "AsyncFactory",
    "CapturedQueries",
    "Query",
    "assert_max_queries",
    "assert_num_queries",
]


def __getattr__(name: str) -> _Any:
    # AsyncFactory imports factory_boy, and factory_boy imports Faker: a second or so per test
    # process, paid only by the projects that use factories.
    if name == "AsyncFactory":
        from fastsuite._factories import AsyncFactory

        globals()[name] = AsyncFactory
        return AsyncFactory
    raise AttributeError(f"module 'fastsuite' has no attribute {name!r}")
