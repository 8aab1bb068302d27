"""The configured session dependency: one the app's routes use, and what it does around them.

A real callable the app never depends on (another module's `get_db`, a helper) passes the
import check, and the harness's override of it then changes nothing: the routes open sessions
on the app's own database. Checked once the app is built, by walking each route's dependants
(its dependencies, and theirs).

Where fastsuite serves a session in the dependency's place (its sessionmaker unknown), the
session is committed after the route when the dependency's own code commits
(`yield session` then `await session.commit()`, or `async with session.begin()`): else the
route's writes would be rolled back when the request ends, where the app keeps them.

An override of the dependency left from the suite's old recipe (`app.dependency_overrides[get_db]
= override_get_db` in a conftest, on a test database of its own) outlives the port: the app's
requests then open that function's sessions, which the connection blocker refuses; its refusal
names the override, since the code it sees connecting is only the route.

PYTEST_DONT_REWRITE: fastsuite-warm preloads this module (see fastsuite._warm.learning).
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Callable, Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant

from fastsuite._sessions import routes_within

UNUSED_DEPENDENCY = (
    "fastsuite: {where}: no route of the app depends on {name}, so the tests would not reach "
    "the app's database through it. {found}"
)
FOUND = (
    "The app's routes depend on {names}, which yield{s} a session: set "
    "fastsuite_session_dependency to {the_one}."
)
OVERRIDDEN = (
    "the app's session dependency {name} is overridden in app.dependency_overrides by {by}, "
    "so the app's requests use that function's sessions, not the test's: remove that override "
    "(fastsuite serves {name} from the test's transaction)."
)
NONE_FOUND = (
    "Set fastsuite_session_dependency to the dependency (module:attr) that yields the "
    "AsyncSession the app's routes use."
)


def unused_dependency_problem(
    app: FastAPI, dependency: Callable[..., Any], where: str
) -> str | None:
    """The message when no route of `app` depends on `dependency`; None when one does (or
    when the app has no routes with dependencies to look at)."""
    calls = list(_dependency_calls(app.routes))
    if not calls or any(call is dependency for call in calls):
        return None
    yielding = _unique(call for call in calls if _yields_a_session(call))
    if yielding:
        names = ", ".join(_name_of(call) for call in yielding)
        found = FOUND.format(
            names=names,
            s="s" if len(yielding) == 1 else "",
            the_one="it" if len(yielding) == 1 else "the one that serves the database",
        )
    else:
        found = NONE_FOUND
    return UNUSED_DEPENDENCY.format(where=where, name=_name_of(dependency), found=found)


# What a dependency's code calls to commit: `commit()`, or `begin()` whose block commits.
_COMMITTING_NAMES = frozenset({"commit", "begin"})


def commits_after_the_route(dependency: Callable[..., Any]) -> bool:
    """Whether the dependency's own code commits the session it yields (it names `commit` or
    `begin`); a dependency that only closes its session leaves uncommitted writes unsaved."""
    function = inspect.unwrap(dependency)
    function = getattr(function, "__func__", function)  # a bound method
    code = getattr(function, "__code__", None)
    return code is not None and not _COMMITTING_NAMES.isdisjoint(code.co_names)


def describe_serving(dependency: Callable[..., Any] | None, maker_where: str | None) -> str | None:
    """For the report header: how the configured dependency serves the routes in tests
    (`maker_where`: where the sessionmaker fastsuite redirects was found, if one was)."""
    if dependency is None:
        return None
    name = _name_of(dependency)
    if maker_where is not None:
        return f"{name} runs as written; its sessions ({maker_where}) join the test's transaction"
    if commits_after_the_route(dependency):
        return f"{name} replaced by a session in the test's transaction, committed after the route"
    return (
        f"{name} replaced by a session in the test's transaction, not committed after the route "
        "(its code does not commit)"
    )


def overridden_elsewhere(app: FastAPI, dependency: Callable[..., Any]) -> str:
    """For a refused connection: what overrides the session dependency, when it is not
    fastsuite's session (else "")."""
    override = app.dependency_overrides.get(dependency)
    if override is None or str(getattr(override, "__module__", "")).startswith("fastsuite"):
        return ""
    function = inspect.unwrap(override)
    code = getattr(function, "__code__", None)
    by = _name_of(override)
    if code is not None:
        by += f" ({os.path.relpath(code.co_filename)}:{code.co_firstlineno})"
    return OVERRIDDEN.format(name=_name_of(dependency), by=by)


def _dependency_calls(routes: list[Any]) -> Iterator[Callable[..., Any]]:
    # Included routers (kept whole in app.routes by recent FastAPI) and mounted apps too.
    for route in routes_within(routes):
        dependant = getattr(route, "dependant", None)
        if isinstance(dependant, Dependant):
            yield from _calls_of(dependant)


def _calls_of(dependant: Dependant) -> Iterator[Callable[..., Any]]:
    for sub in dependant.dependencies:
        if sub.call is not None:
            yield sub.call
        yield from _calls_of(sub)


def _yields_a_session(call: Callable[..., Any]) -> bool:
    if not (inspect.isasyncgenfunction(call) or inspect.isgeneratorfunction(call)):
        return False
    try:
        annotation = inspect.signature(call).return_annotation
    except (TypeError, ValueError):
        return False
    shown = annotation if isinstance(annotation, str) else repr(annotation)
    return "Session" in shown


def _unique(calls: Iterator[Callable[..., Any]]) -> list[Callable[..., Any]]:
    seen: list[Callable[..., Any]] = []
    for call in calls:
        if all(call is not other for other in seen):
            seen.append(call)
    return seen


def _name_of(call: Callable[..., Any]) -> str:
    module = getattr(call, "__module__", None)
    name = getattr(call, "__qualname__", None) or repr(call)
    return f"{module}:{name}" if module else name
