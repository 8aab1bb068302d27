"""fastsuite: a fast, rollback-isolated pytest harness for FastAPI + SQLAlchemy 2 async apps."""

import typing

from fastsuite._background import CapturedCallbacks
from fastsuite._current import current_session
from fastsuite._protocols import (
    AssertMaxQueries,
    AssertNumQueries,
    CaptureOnCommitCallbacks,
    ClientFactory,
)
from fastsuite._queries import CapturedQueries, Query, assert_max_queries, assert_num_queries

if typing.TYPE_CHECKING:
    from fastsuite._factories import AsyncFactory

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
    "current_session",
]


def __getattr__(name: str) -> typing.Any:
    # AsyncFactory imports factory_boy, which imports Faker: only when a project uses it, not
    # whenever pytest loads the plugin.
    if name == "AsyncFactory":
        try:
            from fastsuite._factories import AsyncFactory
        except AttributeError as error:  # `from fastsuite import` would hide it behind its own
            raise ImportError(f"fastsuite.AsyncFactory cannot be imported: {error}") from error

        # Not kept in this module's globals: a pytest run inside another (pytester) may drop
        # factory_boy from sys.modules afterwards, and the next run must import it afresh.
        return AsyncFactory
    raise AttributeError(f"module 'fastsuite' has no attribute {name!r}")
