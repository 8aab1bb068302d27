"""fastsuite: a fast, rollback-isolated pytest harness for FastAPI + SQLAlchemy 2 async apps.

Everything public is here: the helpers and types below, and the plugin's two public modules,
`fastsuite.plugin` (the pytest11 entry point) and `fastsuite.fixtures` (the fixtures a project
may wrap or replace). Every other module is private (`fastsuite._name`).

PYTEST_DONT_REWRITE: this module has no assert to rewrite, and pytest's rewriting of a
plugin's modules would add its helper modules to the package's names.
"""

from typing import TYPE_CHECKING as _TYPE_CHECKING
from typing import Any as _Any

from fastsuite import fixtures, plugin
from fastsuite._background import CapturedCallbacks
from fastsuite._protocols import (
    AssertMaxQueries,
    AssertNumQueries,
    CaptureOnCommitCallbacks,
    ClientFactory,
)
from fastsuite._queries import CapturedQueries, Query, assert_max_queries, assert_num_queries

if _TYPE_CHECKING:
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
    "fixtures",
    "plugin",
]


def __getattr__(name: str) -> _Any:
    # AsyncFactory imports factory_boy, and factory_boy imports Faker: a second or so per test
    # process, paid only by the projects that use factories (and never by an xdist controller).
    if name == "AsyncFactory":
        from fastsuite._factories import AsyncFactory

        globals()[name] = AsyncFactory
        return AsyncFactory
    raise AttributeError(f"module 'fastsuite' has no attribute {name!r}")
