"""SQLAlchemy's asyncio layer without a greenlet, for engines whose driver never waits.

`AsyncSession`, `AsyncConnection` and `AsyncResult` run each sync method in a new greenlet
(`greenlet_spawn`), so that the driver can suspend it to await I/O: about 8 µs a call, a
greenlet made and switched to, however little the method does. The harness's in-memory SQLite
driver (`_sqlite_loop`) never awaits, so for its engines the method can simply be called.

The choice is made per call, from what the method belongs to: a sync `Connection`, `Engine` or
`Transaction` of an engine whose dialect says it never waits, or a sync `Session` whose every
statement goes to such an engine (its bind, no per-mapper binds, `get_bind` not overridden).
Anything else, an app's own aiosqlite or asyncpg engine, `run_sync` with a function of the
user's (which may check `in_greenlet()` or await), takes SQLAlchemy's own `greenlet_spawn`.

SQLAlchemy's asyncio modules import `greenlet_spawn` by name, so the dispatch replaces that name
in those modules (SQLAlchemy 2.0 and 2.1 alike); loading fastsuite changes nothing: only
creating an engine on the harness's dialect installs it.

PYTEST_DONT_REWRITE: fastsuite-warm preloads this module (see fastsuite._warm.learning).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Generator
from types import ModuleType
from typing import Any, TypeVar

from sqlalchemy.engine import Connection, Engine, Transaction
from sqlalchemy.ext.asyncio import engine as _async_engine
from sqlalchemy.ext.asyncio import result as _async_result
from sqlalchemy.ext.asyncio import session as _async_session
from sqlalchemy.orm import Session, SessionTransaction
from sqlalchemy.util import concurrency

# Set on a dialect class (or instance) whose DBAPI calls return without ever awaiting.
NEVER_WAITS = "fastsuite_never_waits"

_MODULES: tuple[ModuleType, ...] = (_async_engine, _async_session, _async_result)
_spawn = concurrency.greenlet_spawn

_Resolver = Callable[[Any], Any]
_T = TypeVar("_T")


def _dialect_of_bind(bind: Any) -> Any:
    return bind.dialect  # Connection and Engine


def _dialect_of_transaction(transaction: Any) -> Any:
    return transaction.connection.dialect


def _dialect_of_session(session: Any) -> Any:
    # SQLAlchemy 2.1 keeps the per-mapper binds in `binds`, 2.0 in a private `__binds`.
    binds = getattr(session, "binds", None) or getattr(session, "_Session__binds", None)
    bind = session.bind
    if binds or bind is None:
        return None
    return bind.dialect


def _dialect_of_session_transaction(transaction: Any) -> Any:
    return _dialect_of_session(transaction.session)


# Resolvers by base class; each concrete type is looked up once (see _resolver_for).
_BASE_RESOLVERS: tuple[tuple[type, _Resolver], ...] = (
    (Connection, _dialect_of_bind),
    (Engine, _dialect_of_bind),
    (Transaction, _dialect_of_transaction),
    (Session, _dialect_of_session),
    (SessionTransaction, _dialect_of_session_transaction),
)
_resolvers: dict[type, _Resolver | None] = {}


def _resolver_for(kind: type) -> _Resolver | None:
    try:
        return _resolvers[kind]
    except KeyError:
        pass
    resolver = None
    for base, candidate in _BASE_RESOLVERS:
        if issubclass(kind, base):
            resolver = candidate
            break
    # A session class that routes statements itself (horizontal sharding, read replicas) may
    # send them anywhere: it always gets a greenlet.
    if resolver is _dialect_of_session and kind.get_bind is not Session.get_bind:  # type: ignore[attr-defined]
        resolver = None
    _resolvers[kind] = resolver
    return resolver


def _never_waits(owner: Any) -> bool:
    resolver = _resolver_for(type(owner))
    if resolver is None:
        return False
    return getattr(resolver(owner), NEVER_WAITS, False) is True


def can_call_directly(
    fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]
) -> bool:
    """Whether `fn(*args, **kwargs)`, as the asyncio layer would spawn it, never awaits."""
    if fn is getattr:
        # `greenlet_spawn(getattr, sync_connection, "connection")`; getattr on an ORM object
        # (awaitable_attrs) may lazy-load through any engine and resolves to nothing here.
        if not args:
            return False
        owner = args[0]
    else:
        owner = getattr(fn, "__self__", None)
    if not _never_waits(owner):
        return False
    bind_arguments = kwargs.get("bind_arguments")
    if bind_arguments and bind_arguments.get("bind") is not None:
        return _never_waits(bind_arguments["bind"])
    return True


async def greenlet_spawn(
    fn: Callable[..., Any], *args: Any, _require_await: bool = False, **kwargs: Any
) -> Any:
    """SQLAlchemy's greenlet_spawn, calling straight through where nothing can wait."""
    if can_call_directly(fn, args, kwargs):
        return fn(*args, **kwargs)
    return await _spawn(fn, *args, _require_await=_require_await, **kwargs)


def install() -> None:
    """Route SQLAlchemy's asyncio layer through the dispatch above (idempotent)."""
    for module in _MODULES:
        if getattr(module, "greenlet_spawn", None) is _spawn:
            module.greenlet_spawn = greenlet_spawn  # type: ignore[attr-defined]


def uninstall() -> None:
    """Give SQLAlchemy's asyncio layer its own greenlet_spawn back."""
    for module in _MODULES:
        if getattr(module, "greenlet_spawn", None) is greenlet_spawn:
            module.greenlet_spawn = _spawn  # type: ignore[attr-defined]


def never_waits_for(owner: Any) -> bool:
    """Whether `owner` (a sync Session, Connection, Engine) sends everything to an engine that
    never waits, so that its sync methods may be called from async code directly."""
    return _never_waits(owner)


def never_waits(dialect: Any) -> bool:
    """Whether statements of `dialect` run without a greenlet (its first connection made)."""
    return getattr(dialect, NEVER_WAITS, False) is True


def run_in_place(loop: asyncio.AbstractEventLoop, coroutine: Coroutine[Any, Any, _T]) -> _T:
    """Run `coroutine` to its end for `loop`'s caller, who is outside the loop (a sync fixture).

    As long as the coroutine does not suspend, which nothing on an engine that never waits
    does, it runs right here, `loop` marked running so that what asks for it finds it: no task,
    no turn of the loop (`run_until_complete` costs about ten times the BEGIN it would run).
    Should it suspend after all, a task on `loop` carries it on from there.
    """
    previous = asyncio.events._get_running_loop()
    asyncio.events._set_running_loop(loop)
    try:
        yielded = coroutine.send(None)
    except StopIteration as done:
        result: _T = done.value
        return result
    finally:
        asyncio.events._set_running_loop(previous)
    return loop.run_until_complete(_carry_on(coroutine, yielded))


async def _carry_on(coroutine: Coroutine[Any, Any, _T], yielded: Any) -> _T:
    result: _T = await _Suspended(coroutine, yielded)
    return result


class _Suspended:
    """A coroutine that has already yielded once, awaitable from where it stopped."""

    def __init__(self, coroutine: Coroutine[Any, Any, Any], yielded: Any) -> None:
        self.coroutine = coroutine
        self.yielded = yielded

    def __await__(self) -> Generator[Any, Any, Any]:
        coroutine, yielded = self.coroutine, self.yielded
        while True:
            try:
                sent = yield yielded
            except BaseException as error:
                try:
                    yielded = coroutine.throw(error)
                except StopIteration as done:
                    return done.value
            else:
                try:
                    yielded = coroutine.send(sent)
                except StopIteration as done:
                    return done.value
