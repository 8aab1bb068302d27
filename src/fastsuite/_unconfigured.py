"""A project with fastsuite installed that does not use it: the fixtures' names, nothing else.

Importing the harness (FastAPI, SQLAlchemy, httpx, the fixtures) costs a run more than half a
second; a project that never set fastsuite_app must not pay it (a monorepo's other services,
a Django project in the same environment). plugin.py serves this module's fixtures instead of
the harness's there. They have the names and scopes of the harness's: a project's own fixture
of the same name is the project's, and a test that takes one of these stops the run at
collection in one line (fails at setup on an xdist worker, which cannot stop the run).

PYTEST_DONT_REWRITE: fastsuite-warm preloads this module (see fastsuite._warm.learning).
"""

from __future__ import annotations

from typing import Any, NoReturn

import pytest

NOT_CONFIGURED = (
    "fastsuite: {test} uses {what}, but fastsuite is not configured: "
    "set fastsuite_app, fastsuite_metadata and fastsuite_session_dependency in your pytest "
    "configuration ([tool.pytest.ini_options] or pytest.ini)."
)

# The harness's public fixtures and their scopes (tests_fastsuite checks this against
# fastsuite.fixtures.__all__).
PUBLIC_FIXTURES = {
    "app": "function",
    "assert_max_queries": "function",
    "assert_num_queries": "function",
    "class_db_session": "class",
    "client": "function",
    "client_factory": "function",
    "db_engine": "session",
    "db_session": "function",
    "module_db_session": "module",
}


@pytest.fixture(scope="session")
def _fastsuite_not_configured(request: pytest.FixtureRequest) -> NoReturn:
    message = NOT_CONFIGURED.format(test="this test", what="fastsuite's fixtures")
    if hasattr(request.config, "workerinput"):
        pytest.fail(message, pytrace=False)
    pytest.exit(message, returncode=pytest.ExitCode.USAGE_ERROR)


def _refusing(name: str, scope: Any) -> Any:
    def fixture(_fastsuite_not_configured: None) -> None:
        raise RuntimeError("unreachable: _fastsuite_not_configured stops the test first")

    fixture.__name__ = fixture.__qualname__ = name
    return pytest.fixture(fixture, scope=scope, name=name)


for _name, _scope in PUBLIC_FIXTURES.items():
    globals()[_name] = _refusing(_name, _scope)


@pytest.fixture
def capture_on_commit_callbacks() -> Any:
    """Needs nothing of the configuration: the harness's own, as in a configured project."""
    from fastsuite import _background

    return _background.capture_on_commit_callbacks


def refuse_fastsuite_tests(items: list[pytest.Item]) -> None:
    """Stop the run at start if a test uses fastsuite's fixtures (or marker) unconfigured."""
    for item in items:
        fixturenames: list[str] = getattr(item, "fixturenames", [])
        what = None
        if "_fastsuite_not_configured" in fixturenames:
            public = [name for name in fixturenames if name in PUBLIC_FIXTURES]
            what = f"fastsuite's {public[0]} fixture" if public else "fastsuite's fixtures"
        elif item.get_closest_marker("fastsuite_db"):
            what = "the fastsuite_db marker"
        if what is not None:
            raise pytest.UsageError(NOT_CONFIGURED.format(test=item.nodeid, what=what))
