"""fastsuite: a fast, rollback-isolated pytest harness for FastAPI + SQLAlchemy 2 async apps.

Everything public is here: the helpers and types below, and the plugin's two public modules,
`fastsuite.plugin` (the pytest11 entry point) and `fastsuite.fixtures` (the fixtures a project
may wrap or replace). Every other module is private (`fastsuite._name`).

The names are imported on first use: the `fastsuite-warm` client runs from this package and
must start without importing pytest, SQLAlchemy or factory_boy.

PYTEST_DONT_REWRITE: this module has no assert to rewrite, and pytest's rewriting of a
plugin's modules would add its helper modules to the package's names.
"""

# typing's TYPE_CHECKING (mypy knows the name), without importing typing: the client imports
# this package on every run, before its first result.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from fastsuite import fixtures, plugin
    from fastsuite._background import CapturedCallbacks
    from fastsuite._current import current_session
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
    "current_session",
    "fixtures",
    "plugin",
]

# Where each public name lives; a module's name means the module itself.
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
    "current_session": "fastsuite._current",
    "fixtures": "fastsuite.fixtures",
    "plugin": "fastsuite.plugin",
}


del TYPE_CHECKING


def __getattr__(name: str) -> "Any":
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'fastsuite' has no attribute {name!r}")
    from importlib import import_module

    module = import_module(home)
    value = module if home == f"fastsuite.{name}" else getattr(module, name)
    if home != "fastsuite._factories":
        # Not AsyncFactory: a pytest run inside another (pytester) may drop factory_boy from
        # sys.modules when it ends, and the next run's factories must subclass the new one.
        globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
