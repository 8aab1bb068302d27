"""Per-test isolation: every session of a test shares one transaction, rolled back afterwards.

Scopes nest. A test's scope is an outer transaction on its own connection or, when seed data
is shared across a module or class, a SAVEPOINT inside that module's or class's scope. A test
marked for real commits gets a scope without a transaction: its sessions commit for real, and
the database is restored afterwards.

PYTEST_DONT_REWRITE: fastsuite-warm preloads this module (see fastsuite._warm.learning).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    AsyncTransaction,
    async_sessionmaker,
)

from fastsuite import _direct_calls, _savepoints

if TYPE_CHECKING:
    from fastsuite._sessions import AppSessions

# Sessions joined to a scope's transaction: a session's commit() releases a SAVEPOINT instead of
# committing, its rollback() rolls back to it; the scope's transaction is rolled back at its end.
JOIN_MODE = "create_savepoint"


@dataclass
class IsolationScope:
    """Where a test's sessions go: a connection in a transaction, or the engine itself."""

    bind: AsyncConnection | AsyncEngine
    transaction: AsyncTransaction | None = None
    # The engine whose kept connection an outer transaction runs on (None when nested, or
    # committing for real): what close_scope() gives a new connection should it fail.
    engine: AsyncEngine | None = None
    # Serialises the app's request sessions: sessions on one connection must nest (each
    # SAVEPOINT released before the enclosing one), which concurrent requests would break.
    request_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    # Set when an outer scope ends: whether its transaction was still open, so the rollback
    # undid everything (None when the driver cannot tell).
    ended_intact: bool | None = None
    # What the test's sessions and clients leave to close, last opened first, before the
    # scope ends. Collected here so that only one fixture per test needs to be async: each
    # async fixture costs pytest-asyncio an event-loop round of its own to set up and tear down.
    _closers: list[Callable[[], Awaitable[Any]]] = field(default_factory=list)

    def close_later(self, closer: Callable[[], Awaitable[Any]]) -> None:
        """Have `closer` awaited when the test ends, before its transaction is rolled back."""
        self._closers.append(closer)

    async def close_resources(self) -> BaseException | None:
        """Await every closer, even after one fails; return the first failure, if any, for the
        caller to raise once it has rolled back (and restored) the database."""
        first_error: BaseException | None = None
        while self._closers:
            try:
                await self._closers.pop()()
            except Exception as error:  # a session whose SAVEPOINT a raw COMMIT ended, say
                first_error = first_error or error
        return first_error

    @property
    def commits_for_real(self) -> bool:
        return self.transaction is None

    def sessionmaker(self, app_sessions: AppSessions) -> async_sessionmaker[AsyncSession]:
        """A factory of the app's sessions (its class, its options) that work in this scope."""
        return _sessionmaker(self.bind, app_sessions, self.commits_for_real)


@dataclass(frozen=True)
class _MadeFor:
    bind: AsyncConnection | AsyncEngine
    app_sessions: AppSessions
    commits_for_real: bool
    maker: async_sessionmaker[AsyncSession]


# The test scopes of a process mostly share one bind (the kept connection), so their session
# factory is made once: the last one made is kept, and used again for the same bind and options.
_last_made: list[_MadeFor] = []


def _sessionmaker(
    bind: AsyncConnection | AsyncEngine, app_sessions: AppSessions, commits_for_real: bool
) -> async_sessionmaker[AsyncSession]:
    if _last_made:
        last = _last_made[0]
        if (
            last.bind is bind
            and last.app_sessions is app_sessions
            and last.commits_for_real is commits_for_real
        ):
            return last.maker
    options = dict(app_sessions.options)
    if not commits_for_real:
        options["join_transaction_mode"] = JOIN_MODE
    maker = async_sessionmaker(bind=bind, class_=app_sessions.class_, **options)
    _last_made[:] = [_MadeFor(bind, app_sessions, commits_for_real, maker)]
    return maker


async def open_scope(
    engine: AsyncEngine, enclosing: IsolationScope | None = None
) -> IsolationScope:
    """A transaction for close_scope() to roll back: outer, or nested in `enclosing`."""
    if enclosing is not None and isinstance(enclosing.bind, AsyncConnection):
        connection = enclosing.bind
        transaction = await connection.begin_nested()
        _savepoints.always_roll_back_innermost(connection)
        return IsolationScope(connection, transaction)
    connection = await _kept_connection(engine)
    try:
        transaction = await connection.begin()
    except BaseException:
        await release_kept_connection(engine)  # whatever state it is in, the next test's is new
        raise
    _savepoints.reset(connection)
    return IsolationScope(connection, transaction, engine=engine)


async def close_scope(scope: IsolationScope) -> None:
    """Roll back the transaction of open_scope(), whatever happened in it."""
    transaction, connection = scope.transaction, scope.bind
    assert transaction is not None
    assert isinstance(connection, AsyncConnection)
    if scope.engine is None:  # nested
        if transaction.is_active:
            await transaction.rollback()
        return
    try:
        active = transaction.is_active
        scope.ended_intact = active and await _driver_in_transaction(connection)
        if active:
            await transaction.rollback()
        if connection.in_transaction():  # one the test began after ending the scope's
            await connection.rollback()
    except BaseException:
        await release_kept_connection(scope.engine)
        raise


@asynccontextmanager
async def isolated_scope(
    engine: AsyncEngine, enclosing: IsolationScope | None = None
) -> AsyncIterator[IsolationScope]:
    """A transaction rolled back at the end, whatever happened: outer, or nested in `enclosing`."""
    scope = await open_scope(engine, enclosing)
    try:
        yield scope
    except BaseException:
        try:
            await close_scope(scope)
        finally:
            if scope.engine is not None:
                await release_kept_connection(engine)
        raise
    await close_scope(scope)


# The connection the tests' transactions run on, per engine, kept open from one test to the
# next: opening one per test (a pool checkout, the reset on return) costs more than the BEGIN
# and ROLLBACK it is there for. A test that closed or invalidated it gets a new one.
_kept_connections: dict[AsyncEngine, AsyncConnection] = {}


async def _kept_connection(engine: AsyncEngine) -> AsyncConnection:
    connection = _kept_connections.get(engine)
    if connection is None or connection.closed or connection.invalidated:
        connection = _kept_connections[engine] = await engine.connect()
    return connection


async def release_kept_connection(engine: AsyncEngine) -> None:
    """Close the connection kept for `engine`'s tests (before the engine is disposed)."""
    connection = _kept_connections.pop(engine, None)
    if connection is not None and not connection.closed:
        await connection.close()


async def _driver_in_transaction(connection: AsyncConnection) -> bool | None:
    """Whether the database connection itself is still in a transaction, where it can tell.

    A COMMIT sent behind SQLAlchemy's back (raw SQL, the driver) leaves SQLAlchemy believing
    its transaction open; sqlite3 and aiosqlite know better.
    """
    sync_connection = connection.sync_connection
    if sync_connection is not None and _direct_calls.never_waits(sync_connection.dialect):
        raw = sync_connection.connection  # already open: nothing to wait for
    else:
        raw = await connection.get_raw_connection()
    in_transaction = getattr(raw.driver_connection, "in_transaction", None)
    return in_transaction if isinstance(in_transaction, bool) else None


def committing_scope(engine: AsyncEngine) -> IsolationScope:
    """A scope without a transaction of its own: sessions commit for real."""
    return IsolationScope(engine)


def redirect_sessionmaker(
    maker: async_sessionmaker[Any], scope: IsolationScope
) -> Callable[[], None]:
    """Make the app's own session factory open sessions in `scope`; return the undo.

    Code paths that open sessions themselves (background tasks, a CLI command's function)
    then see the test's data and are rolled back with it, like the requests are.
    """
    saved = dict(maker.kw)
    options: dict[str, Any] = {"bind": scope.bind}
    if maker.kw.get("binds"):
        options["binds"] = None  # they would send the app's sessions past the test's connection
    if not scope.commits_for_real:
        options["join_transaction_mode"] = JOIN_MODE
    maker.configure(**options)

    def restore() -> None:
        maker.kw.clear()
        maker.kw.update(saved)

    return restore
