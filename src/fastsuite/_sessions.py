"""The app's own session class and options, learned once, for every session fastsuite opens.

A test must run the app's sessions, not SQLAlchemy's plain AsyncSession: an app may use
SQLModel's AsyncSession (its `exec()`), a subclass of its own (helpers, events registered on
its class) and options of its own (`expire_on_commit`, `autoflush`, `info`). The first of these
that says wins:

1. `fastsuite_session_class`: an AsyncSession subclass, or an async_sessionmaker whose class and
   options are copied (it is not redirected);
2. `fastsuite_sessionmaker`: the class and options of the app's own factory;
3. the async_sessionmaker the session dependency opens its sessions from, when its code names
   one (`async with SessionLocal() as session: yield session`): its class and options;
4. the session dependency's return annotation (`AsyncIterator[MySession]`);
5. the parameters that receive the dependency in the app's routes and dependencies
   (`SessionDep = Annotated[MySession, Depends(get_session)]`, as FastAPI's tutorial writes);
6. else SQLAlchemy's AsyncSession.

Isolation changes only what it must: the bind (`binds` are dropped: they would lead past the
test's connection) and joining the test's transaction. The app's options win over fastsuite's
own default, `expire_on_commit=False`, which applies only where the options are unknown (4 to
6): async apps nearly always set it, since with SQLAlchemy's default a test (or route) that
reads an attribute after `commit()` fails with MissingGreenlet.

PYTEST_DONT_REWRITE: fastsuite-warm preloads this module (see fastsuite._warm.learning).
"""

from __future__ import annotations

import inspect
from collections.abc import (
    AsyncGenerator,
    AsyncIterable,
    AsyncIterator,
    Awaitable,
    Callable,
    Coroutine,
    Generator,
    Iterable,
    Iterator,
    Mapping,
)
from dataclasses import dataclass
from typing import Annotated, Any, get_args, get_origin

import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import sessionmaker

from fastsuite._config import Settings, import_from_string

# Options the isolation sets itself; the app's values for them are not copied.
ISOLATION_OPTIONS = frozenset({"bind", "binds", "join_transaction_mode"})
# Where the app's options are unknown.
FALLBACK_OPTIONS: Mapping[str, Any] = {"expire_on_commit": False}

DEPENDENCY = "the app's session dependency (a callable)"
NO_DEPENDENCY = (
    "fastsuite: neither fastsuite_session_dependency nor fastsuite_sessionmaker is set; set "
    'fastsuite_session_dependency to "module:attr" of the dependency that yields the app\'s '
    "AsyncSession, or fastsuite_sessionmaker to the app's async_sessionmaker."
)
SESSION_CLASS = (
    "an AsyncSession subclass, or an async_sessionmaker to copy the class and options from"
)
NOT_A_SESSION = (
    "fastsuite: {where} {declares} {kind}, not an AsyncSession, so fastsuite cannot serve the "
    "test's session in its place. If the app gets its sessions from it, set "
    "fastsuite_sessionmaker to the app's async_sessionmaker (the dependency is then left to the "
    "app, and the sessions it opens join the test's transaction)."
)
OTHER_SESSIONMAKER = (
    "fastsuite: {dependency} opens its sessions from {opened}, but {maker} is another "
    "sessionmaker. With fastsuite_sessionmaker set, the session dependency is left to the app, "
    "so its sessions would reach the app's database: set fastsuite_sessionmaker to {opened} (and "
    "route the code that uses the other one through it), or leave fastsuite_sessionmaker out."
)
CONFLICTING_CLASSES = (
    "fastsuite: the app's routes receive {dependency} as unrelated session classes ({classes}); "
    "set fastsuite_session_class to the one the dependency yields."
)
# Annotations that name no class (typing.Any is a class from Python 3.11 on).
_SAYS_NOTHING = (object, Any, inspect.Parameter.empty)
# Wrappers a dependency's return annotation puts around what it yields.
_YIELDING = (
    AsyncGenerator,
    AsyncIterator,
    AsyncIterable,
    Generator,
    Iterator,
    Iterable,
    Coroutine,
    Awaitable,
)


def app_session_dependency(settings: Settings) -> Callable[..., Any] | None:
    """The app's session dependency; None when only fastsuite_sessionmaker is set (the app's
    dependency then opens its sessions from that factory, and is left alone)."""
    if settings["session_dependency"] is None:
        if settings["sessionmaker"] is not None:
            return None
        raise pytest.UsageError(NO_DEPENDENCY)
    dependency: Callable[..., Any] = import_from_string(
        settings, "session_dependency", DEPENDENCY, callable
    )
    return dependency


@dataclass(frozen=True)
class AppSessions:
    """The class and options of the app's sessions, and where fastsuite learned them."""

    class_: type[AsyncSession]
    # The app's options, without those the isolation sets (ISOLATION_OPTIONS).
    options: Mapping[str, Any]
    source: str
    options_known: bool = True

    def describe(self) -> str:
        """For the report header: the class, where it was learned, and the options."""
        options = ", ".join(f"{key}={_shown(value)}" for key, value in sorted(self.options.items()))
        if not self.options_known:
            options = (
                f"unknown, so {options} (fastsuite's default; "
                "fastsuite_session_class can name an async_sessionmaker to copy them from)"
            )
        return f"{_shown(self.class_)} from {self.source}; options: {options}"


# Learned at start; None when only the routes of an app a factory builds can tell (the fixture
# reads them once the app is built).
app_sessions_key = pytest.StashKey[AppSessions | None]()


def _shown(value: Any) -> str:
    if isinstance(value, type):
        return f"{value.__module__}.{value.__qualname__}"
    return repr(value)


def _guessed(class_: type[AsyncSession], source: str) -> AppSessions:
    return AppSessions(class_, FALLBACK_OPTIONS, source, options_known=False)


def _of_sessionmaker(maker: async_sessionmaker[Any], source: str) -> AppSessions:
    options = {key: value for key, value in maker.kw.items() if key not in ISOLATION_OPTIONS}
    return AppSessions(maker.class_, options, source)


SQLALCHEMY_DEFAULT = _guessed(AsyncSession, "SQLAlchemy (nothing in the app names its class)")


def makes_async_sessions(maker: Any) -> bool:
    """An async_sessionmaker, or the ORM's sessionmaker of an AsyncSession class
    (`sessionmaker(engine, class_=AsyncSession)`, as SQLModel's and older tutorials write it):
    both keep their options in `kw` and call `class_(**kw)`."""
    if isinstance(maker, async_sessionmaker):
        return True
    return isinstance(maker, sessionmaker) and _is_session_class(maker.class_)


def _is_session_class(target: Any) -> bool:
    return isinstance(target, type) and issubclass(target, AsyncSession)


def _is_session_class_source(target: Any) -> bool:
    return isinstance(target, async_sessionmaker) or _is_session_class(target)


def learn_app_sessions(
    settings: Settings,
    maker: async_sessionmaker[Any] | None,
    dependency: Callable[..., Any] | None,
    app: FastAPI | None,
) -> AppSessions | None:
    """The app's sessions, from the first source that tells (see the module's docstring);
    None when only the routes can tell and the app is not built yet (`app` None). `maker` is
    the app's factory that fastsuite redirects (see `redirected_sessionmaker`), if any.

    Stops the run when the dependency is declared to yield something other than a session
    and fastsuite would serve one in its place (no sessionmaker to redirect).
    """
    yielded = _yielded_class(dependency) if dependency is not None else None
    by_routes: Mapping[type, str] = {}
    if maker is None:  # else the dependency is left to the app: what it yields is its business
        by_routes = _declared_by_routes(app, dependency) if app and dependency else {}
        _check_declares_sessions(settings, yielded, by_routes)
    learned_maker = _app_sessionmaker(settings, maker, dependency)
    if settings["session_class"] is not None:
        target = import_from_string(
            settings, "session_class", SESSION_CLASS, _is_session_class_source
        )
        where = settings.describe("session_class")
        if isinstance(target, async_sessionmaker):
            return _of_sessionmaker(target, where)
        if learned_maker is not None:  # the class named, the options of the app's factory
            options = _of_sessionmaker(*learned_maker).options
            return AppSessions(target, options, f"{where}, options from {learned_maker[1]}")
        return _guessed(target, where)
    if learned_maker is not None:
        return _of_sessionmaker(*learned_maker)
    if yielded is not None:
        return _guessed(yielded, f"the return annotation of {settings['session_dependency']}")
    if app is None:
        return None
    return _most_derived(settings, by_routes) if by_routes else SQLALCHEMY_DEFAULT


def _app_sessionmaker(
    settings: Settings,
    maker: async_sessionmaker[Any] | None,
    dependency: Callable[..., Any] | None,
) -> tuple[async_sessionmaker[Any], str] | None:
    """The app's own factory, configured or opened by the dependency, and where it was found."""
    if maker is not None and settings["sessionmaker"] is not None:
        _check_dependency_opens(settings, maker, dependency)
        return maker, settings.describe("sessionmaker")
    assert dependency is not None  # app_session_dependency: one of the two is set
    if (named := sessionmaker_opened_by(dependency)) is not None:
        name, named_maker = named
        return named_maker, f"{name}, the async_sessionmaker {settings['session_dependency']} opens"
    return None


def _check_dependency_opens(
    settings: Settings, maker: async_sessionmaker[Any], dependency: Callable[..., Any] | None
) -> None:
    """Both keys set: the dependency, left to the app, must open the configured sessionmaker
    (when its code tells which it opens)."""
    named = sessionmaker_opened_by(dependency) if dependency is not None else None
    if named is None or named[1] is maker:
        return
    raise pytest.UsageError(
        OTHER_SESSIONMAKER.format(
            dependency=settings.describe("session_dependency"),
            opened=qualified_name(dependency, named[0]),
            maker=settings.describe("sessionmaker"),
        )
    )


def _check_declares_sessions(
    settings: Settings, yielded: type | None, by_routes: Mapping[type, str]
) -> None:
    declared = {yielded: "is declared to yield"} if yielded is not None else {}
    declared.update({c: f"is received by {where} as" for c, where in by_routes.items()})
    for class_, declares in declared.items():
        if not _is_session_class(class_):
            where = settings.describe("session_dependency")
            raise pytest.UsageError(
                NOT_A_SESSION.format(where=where, declares=declares, kind=_shown(class_))
            )


def _most_derived(settings: Settings, by_routes: Mapping[type, str]) -> AppSessions:
    # A route may name a base class (AsyncSession) where another names the app's own: the
    # most derived one is what the dependency yields, provided all lie on one line.
    for candidate, where in by_routes.items():
        if all(issubclass(candidate, other) for other in by_routes):
            return _guessed(candidate, where)
    classes = ", ".join(f"{_shown(c)} in {where}" for c, where in by_routes.items())
    raise pytest.UsageError(
        CONFLICTING_CLASSES.format(dependency=settings["session_dependency"], classes=classes)
    )


def _declared_by_routes(app: FastAPI, dependency: Callable[..., Any]) -> dict[type, str]:
    """Each class the app's routes and dependencies declare for the value of `dependency`,
    with the first place that declares it."""
    declared: dict[type, str] = {}
    for route in routes_within(app.routes):
        root = getattr(route, "dependant", None)
        if root is None:
            continue
        pending = [root]
        while pending:
            parent = pending.pop()
            for child in parent.dependencies:
                pending.append(child)
                if child.name is None or not _same_call(child.call, dependency):
                    continue
                class_ = _parameter_class(parent.call, child.name)
                if class_ is not None:
                    where = f"parameter {child.name!r} of {_qualified_name(parent.call)}"
                    declared.setdefault(class_, where)
    return declared


def routes_within(routes: Iterable[Any]) -> Iterator[Any]:
    """Every route, those of included routers and mounted apps too: FastAPI copies an included
    router's routes into its parent's list, or (recent versions) keeps the router there."""
    pending = list(reversed(list(routes)))  # a stack, popped in the order of declaration
    seen: set[int] = set()
    while pending:
        route = pending.pop()
        if id(route) in seen:
            continue
        seen.add(id(route))
        yield route
        # A Mount's routes, a sub-application's, an included router's (FastAPI's _IncludedRouter).
        for holder in (route, getattr(route, "app", None), getattr(route, "original_router", None)):
            inner = getattr(holder, "routes", None)
            if isinstance(inner, list):
                pending.extend(reversed(inner))


def _same_call(call: Any, dependency: Callable[..., Any]) -> bool:
    return call is dependency or inspect.unwrap(call) is inspect.unwrap(dependency)


def _qualified_name(call: Any) -> str:
    return f"{call.__module__}.{getattr(call, '__qualname__', repr(call))}"


def _parameter_class(call: Callable[..., Any], name: str) -> type | None:
    try:
        parameter = inspect.signature(call, eval_str=True).parameters[name]
    except Exception:  # an annotation that does not resolve, a builtin: nothing declared
        return None
    return _class_of(parameter.annotation)


def redirected_sessionmaker(
    settings: Settings,
    configured: async_sessionmaker[Any] | None,
    dependency: Callable[..., Any] | None,
) -> tuple[async_sessionmaker[Any], str] | None:
    """The app's factory that fastsuite sends into each test's transaction, leaving the session
    dependency to run as written, and where it was found: fastsuite_sessionmaker, else the one
    the dependency opens.

    Running the app's own dependency on redirected sessions tests what it does around the
    route (a commit after it, a rollback on error); serving a session in its place (the
    fallback, when no factory is found) cannot.
    """
    if configured is not None:
        return configured, settings.describe("sessionmaker")
    found = sessionmaker_opened_by(dependency) if dependency is not None else None
    if found is None:
        return None
    return found[1], qualified_name(dependency, found[0])


def sessionmaker_opened_by(
    dependency: Callable[..., Any],
) -> tuple[str, async_sessionmaker[Any]] | None:
    """The one async_sessionmaker a generator dependency's code names (a global or a
    closure's), or else the one the functions it calls name (`database.new_session()`, a
    helper returning `SessionLocal()`): the factory its sessions come from, with its name
    (`module:name` when a helper of another module names it). (A function that returns one is
    no session dependency: the routes' declarations tell that apart.)"""
    function = inspect.unwrap(dependency)
    if not (inspect.isasyncgenfunction(function) or inspect.isgeneratorfunction(function)):
        return None
    makers = _makers_named_by(function)
    if not makers:
        for helper in _functions_called_by(function):
            module = getattr(helper, "__module__", None)
            for key, (name, maker) in _makers_named_by(helper).items():
                shown = name if module == function.__module__ else f"{module}:{name}"
                makers.setdefault(key, (shown, maker))
    return next(iter(makers.values())) if len(makers) == 1 else None


def qualified_name(dependency: Callable[..., Any] | None, name: str) -> str:
    """A name sessionmaker_opened_by gave, as `module:name`."""
    return name if ":" in name else f"{getattr(dependency, '__module__', '')}:{name}"


def _makers_named_by(function: Callable[..., Any]) -> dict[int, tuple[str, Any]]:
    names = _closure_names(function)
    if names is None:
        return {}
    return {
        id(value): (name, value)
        for name, value in {**names.globals, **names.nonlocals}.items()
        if makes_async_sessions(value)
    }


def _functions_called_by(function: Callable[..., Any]) -> Iterator[Callable[..., Any]]:
    """The plain functions `function`'s code names: globals and closure variables, and the
    attributes it reads of the modules it names (`database.new_session`)."""
    names = _closure_names(function)
    if names is None:
        return
    code = getattr(inspect.unwrap(function), "__code__", None)
    attributes = code.co_names if code is not None else ()
    for value in {**names.globals, **names.nonlocals}.values():
        if inspect.ismodule(value):
            for attribute in attributes:
                inner = getattr(value, attribute, None)
                if inspect.isfunction(inner):
                    yield inner
        elif inspect.isfunction(value):
            yield value


def _closure_names(function: Callable[..., Any]) -> inspect.ClosureVars | None:
    try:
        return inspect.getclosurevars(inspect.unwrap(function))
    except (TypeError, ValueError):  # a builtin, a callable object: its code is not there to read
        return None


def _yielded_class(dependency: Callable[..., Any]) -> type | None:
    """The class a dependency's return annotation says it yields (or returns), if it says."""
    try:
        annotation = inspect.signature(dependency, eval_str=True).return_annotation
    except Exception:
        return None
    annotation = _without_metadata(annotation)
    if annotation in _YIELDING:  # a bare `-> AsyncGenerator` names nothing it yields
        return None
    if get_origin(annotation) in _YIELDING:
        arguments = get_args(annotation)
        if not arguments:  # typing.AsyncGenerator, unsubscripted
            return None
        annotation = arguments[-1] if get_origin(annotation) is Coroutine else arguments[0]
    return _class_of(annotation)


def _class_of(annotation: Any) -> type | None:
    """The class an annotation names (`async_sessionmaker[X]` names async_sessionmaker)."""
    annotation = _without_metadata(annotation)
    class_ = get_origin(annotation) or annotation
    if not isinstance(class_, type) or class_ in _SAYS_NOTHING:
        return None
    return class_


def _without_metadata(annotation: Any) -> Any:
    while get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    return annotation
