"""`@pytest.mark.anyio` tests (FastAPI's documented style) next to pytest-asyncio's.

anyio's pytest plugin runs every async fixture of a test marked `anyio` in a runner of its own,
with its own event loop, as a dependant of its module-scoped `anyio_backend` fixture. For the
harness's session-scoped fixtures that is a ScopeMismatch; for the others, an engine, a
connection or an app lifespan started in pytest-asyncio's loop then used in anyio's ("attached
to a different loop"). Where pytest-asyncio already runs the test (asyncio_mode = auto takes
every async test, anyio-marked ones included, into the session's loop), its async fixtures are
left to pytest-asyncio too, so test and fixtures share one loop; the harness's own fixtures are
always left to it.

So such a test runs on pytest-asyncio's loop, not on one anyio's runner would make: options an
`anyio_backend` fixture gives (`("asyncio", {"use_uvloop": True})`) do not reach it. Where the
loop does not already do what they ask, the test says so with a warning naming the options
and the fix (shown in pytest's warnings summary, never turned into an error).

PYTEST_DONT_REWRITE: fastsuite-warm preloads this module (see fastsuite._warm.learning).
"""

from __future__ import annotations

import asyncio
import warnings
from collections.abc import Generator, Iterator
from contextlib import contextmanager
from inspect import isasyncgenfunction, iscoroutinefunction
from typing import Any

import pytest

_BACKEND_FIXTURE = "anyio_backend"

OPTIONS_NOT_APPLIED = (
    "fastsuite: the anyio_backend options {options} are not applied: with asyncio_mode = auto, "
    "pytest-asyncio runs this anyio-marked test on its own event loop ({loop}), the one the "
    "app and fastsuite's fixtures share, which anyio's options do not reach. Give anyio_backend "
    'as plain "asyncio", or set the loop up on pytest-asyncio\'s side: for uvloop, a '
    'pytest_asyncio_loop_factories hook returning {{"uvloop": uvloop.new_event_loop}} '
    "(pytest-asyncio 1.4+; before it, an event_loop_policy fixture returning "
    "uvloop.EventLoopPolicy())."
)


class AnyioBackendOptionsNotApplied(pytest.PytestWarning):
    """An anyio_backend's options that the loop running the test does not apply."""


# Added to the run's filterwarnings: a notice, never an error (even under `filterwarnings =
# error`): the test itself is sound, only the loop it asked for is not the one it got.
WARNING_FILTER = f"always::{__name__}.{AnyioBackendOptionsNotApplied.__name__}"


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
    """The body of the pytest_fixture_setup wrapper (_hooks.py)."""
    if not left_to_pytest_asyncio(fixturedef, request):
        return (yield)
    with anyio_backend_hidden(request):
        return (yield)


def warn_of_unapplied_backend_options(item: pytest.Item, loop: Any) -> None:
    """Once the test's fixtures are set up: warn when its anyio_backend gives options that
    `loop` (the one pytest-asyncio runs it on; None if unknown) does not apply."""
    backend = getattr(item, "funcargs", {}).get(_BACKEND_FIXTURE)
    if not (isinstance(backend, tuple) and len(backend) == 2 and backend[0] == "asyncio"):
        return
    if not isinstance(backend[1], dict) or _asyncio_mode(item.config) != "auto":
        return  # in strict mode anyio's plugin runs the test, options applied
    unapplied = {
        name: value for name, value in backend[1].items() if not _applied(name, value, loop)
    }
    if unapplied:
        options = ", ".join(f"{name}={value!r}" for name, value in unapplied.items())
        shown = type(loop).__module__ + "." + type(loop).__qualname__ if loop else "asyncio"
        warnings.warn(
            AnyioBackendOptionsNotApplied(OPTIONS_NOT_APPLIED.format(options=options, loop=shown)),
            stacklevel=1,
        )


def _applied(name: str, value: Any, loop: asyncio.AbstractEventLoop | None) -> bool:
    """Whether the loop already does what anyio's asyncio option asks."""
    if name == "use_uvloop":
        maker = loop if loop is not None else asyncio.get_event_loop_policy()
        return bool(value) == type(maker).__module__.startswith("uvloop")
    if name == "debug" and loop is not None:
        return bool(value) == loop.get_debug()
    return False  # loop_factory, and whatever else: not something the loop can tell


def _asyncio_mode(config: pytest.Config) -> str:
    return str(config.getoption("asyncio_mode", None) or config.getini("asyncio_mode"))
