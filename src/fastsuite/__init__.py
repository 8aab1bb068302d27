"""fastsuite: a fast, rollback-isolated pytest harness for FastAPI + SQLAlchemy 2 async apps.

Everything public is here: the helpers and types below, and the plugin's two public modules,
`fastsuite.plugin` (the pytest11 entry point) and `fastsuite.fixtures` (the fixtures a project
may wrap or replace). Every other module is private (`fastsuite._name`).

PYTEST_DONT_REWRITE: this module has no assert to rewrite, and pytest's rewriting of a
plugin's modules would add its helper modules to the package's names.
"""

from fastsuite import fixtures, plugin
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
    "fixtures",
    "plugin",
]
