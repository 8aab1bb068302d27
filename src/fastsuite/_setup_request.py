"""The `request` of the fixture being set up, for the harness's fixtures that do not name it.

pytest builds a new definition of the `request` fixture (reading a lambda's signature: about
20 µs) each time it meets a fixture naming `request` in a test's closure, a cached session
fixture included, for every test. The harness's fixtures that run for every test take theirs
from pytest_fixture_setup instead (plugin.py), which pytest calls with it for every fixture it
sets up, around the fixture's own code: whenever that runs, in whatever run (pytester's
in-process runs, an xdist worker), the innermost fixture being set up is the caller.

PYTEST_DONT_REWRITE: fastsuite-warm preloads this module (see fastsuite._warm.learning).
"""

from __future__ import annotations

import pytest

# The requests of the fixtures being set up, innermost last: a fixture's setup may set up
# others (getfixturevalue), each pushed and popped around its own.
_setting_up: list[pytest.FixtureRequest] = []


def push(request: pytest.FixtureRequest) -> None:
    _setting_up.append(request)


def pop() -> None:
    _setting_up.pop()


def current() -> pytest.FixtureRequest:
    """The request of the fixture being set up: call it from the fixture, before it yields."""
    return _setting_up[-1]
