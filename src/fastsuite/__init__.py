"""fastsuite: a fast, rollback-isolated pytest harness for FastAPI + SQLAlchemy 2 async apps."""

from __future__ import annotations

import typing

if typing.TYPE_CHECKING:
    from fastsuite._background import CapturedCallbacks
    from fastsuite._factories import AsyncFactory
    from fastsuite._protocols import (
        AssertMaxQueries,
        AssertNumQueries,
        CaptureOnCommitCallbacks,
        ClientFactory,
    )
    from fastsuite._queries import (
        CapturedQueries,
        Query,
        assert_max_queries,
        assert_num_queries,
    )

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

# The public names are imported on first use: the `fastsuite-warm` client runs from this package
# and must start without importing pytest, SQLAlchemy or factory_boy.
_HOMES = {
    "AssertMaxQueries": "fastsuite._protocols",
    "AssertNumQueries": "fastsuite._protocols",
    "AsyncFactory": "fastsuite._factories",
    "CaptureOnCommitCallbacks": "fastsuite._protocols",
    "CapturedCallbacks": "fastsuite._background",
    "CapturedQueries": "fastsuite._queries",
    "ClientFactory": "fastsuite._protocols",
    "Query": "fastsuite._queries",
    "assert_max_queries": "fastsuite._queries",
    "assert_num_queries": "fastsuite._queries",
}


def __getattr__(name: str) -> typing.Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'fastsuite' has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(home), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
