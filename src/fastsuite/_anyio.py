"""`@pytest.mark.anyio` tests (FastAPI's documented style) next to pytest-asyncio's.

anyio's pytest plugin runs every async fixture of a test marked `anyio` in a runner of its own,
with its own event loop, as a dependant of its module-scoped `anyio_backend` fixture. For the
harness's session-scoped fixtures that is a ScopeMismatch; for the others, an engine, a
connection or an app lifespan started in pytest-asyncio's loop then used in anyio's ("attached
to a different loop"). Where pytest-asyncio already runs the test (asyncio_mode = auto takes
every async test, anyio-marked ones included, into the session's loop), its async fixtures are
left to pytest-asyncio too, so test and fixtures share one loop; the harness's own fixtures are
always left to it.

PYTEST_DONT_REWRITE: fastsuite-warm preloads this module (see fastsuite._warm.learning).
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from contextlib import contextmanager
from inspect import isasyncgenfunction, iscoroutinefunction
from typing import Any

import pytest

_BACKEND_FIXTURE = "anyio_backend"


def is_harness_fixture(fixturedef: Any) -> bool:
    return str(getattr(fixturedef.func, "__module__", "")).split(".")[0] == "fastsuite"


def left_to_pytest_asyncio(fixturedef: Any, request: pytest.FixtureRequest) -> bool:
    """Whether anyio's plugin must not take this fixture's setup (see the module's doc)."""
    func = fixturedef.func
    if not (isasyncgenfunction(func) or iscoroutinefunction(func)):
        return False
    if _BACKEND_FIXTURE not in request.fixturenames:
        return False
    if is_harness_fixture(fixturedef):
        return True
    return str(request.config.getini("asyncio_mode")) == "auto" and _backend_is_asyncio(request)


def _backend_is_asyncio(request: pytest.FixtureRequest) -> bool:
    callspec = getattr(request.node, "callspec", None)
    backend = getattr(callspec, "params", {}).get(_BACKEND_FIXTURE, "asyncio")
    name = backend[0] if isinstance(backend, tuple) else backend
    return bool(name == "asyncio")


@contextmanager
def anyio_backend_hidden(request: pytest.FixtureRequest) -> Iterator[None]:
    """While a fixture is set up, requests do not list anyio_backend: anyio's plugin, which
    decides on that list whether to run the fixture itself, leaves it to pytest-asyncio."""
    request_class = type(request)
    listed = request_class.fixturenames

    def without_backend(self: Any) -> list[str]:
        names: list[str] = listed.__get__(self, request_class)
        return [name for name in names if name != _BACKEND_FIXTURE]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(request_class, "fixturenames", property(without_backend))
        yield


def setup_outside_anyio(
    fixturedef: Any, request: pytest.FixtureRequest
) -> Generator[None, object, object]:
    """The body of the pytest_fixture_setup wrapper (plugin.py)."""
    if not left_to_pytest_asyncio(fixturedef, request):
        return (yield)
    with anyio_backend_hidden(request):
        return (yield)
