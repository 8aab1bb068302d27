"""factory_boy factories that persist through the test's `AsyncSession`, in one awaited call.

factory_boy is synchronous (FactoryBoy/factory_boy#679). The bridge runs the whole factory call
(SubFactories, post-generation hooks and all) inside `AsyncSession.run_sync`: there the sync
session may flush, so every object gets its id as soon as it is created, exactly as with a sync
session, and the database I/O still goes through the async driver.

PYTEST_DONT_REWRITE: fastsuite-warm preloads this module (see fastsuite._warm.learning).
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from typing import Any, Generic, TypeVar

from factory.alchemy import SQLAlchemyModelFactory, SQLAlchemyOptions
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session
from sqlalchemy.util.concurrency import in_greenlet

from fastsuite import _direct_calls
from fastsuite._factory_state import FactoryCall, record_call, sessions

T = TypeVar("T")
R = TypeVar("R")

NO_SESSION = (
    "{factory}.acreate() needs the test's database session: request the db_session or "
    "client fixture in this test."
)
SYNC_CREATE_WITHOUT_SESSION = (
    "{factory}.create() has no database session to persist through: in an async test that "
    "requests db_session or client, write `await {factory}.acreate(...)` "
    "({factory}.build() makes unsaved objects without a database)."
)
SYNC_CREATE = (
    "{factory}.create() cannot persist through an AsyncSession from async code: "
    "use `await {factory}.acreate(...)` or `await {factory}.acreate_batch(n, ...)` "
    "({factory}.build() makes unsaved objects)."
)

OWN_SESSION = (
    "fastsuite: {factory}.Meta sets {option}, but an AsyncFactory persists through the test's "
    "own session (the transaction of its db_session and client fixtures) and takes none: "
    "remove {option} from its Meta (a factory_boy SQLAlchemyModelFactory's setting, kept when "
    "its base became AsyncFactory)."
)

# The factory whose acreate_batch() is running: its objects are only added, and flushed
# together at the end (one batched INSERT); SubFactory objects are still flushed at once, so
# the batch's objects can refer to their ids.
_deferring_flush: ContextVar[type | None] = ContextVar("fastsuite_deferring_flush", default=None)


# Set while a factory call runs in place (see _run_sync): persisting is allowed there too.
_in_place: ContextVar[bool] = ContextVar("fastsuite_factory_in_place", default=False)


async def _run_sync(session: AsyncSession, work: Callable[[Session], R]) -> R:
    """`session.run_sync(work)`; called in place when the session's engine never waits (no
    greenlet per factory call, no await per statement)."""
    if not _direct_calls.never_waits_for(session.sync_session):
        return await session.run_sync(work)
    token = _in_place.set(True)
    try:
        return work(session.sync_session)
    finally:
        _in_place.reset(token)


def _sync_session_of_current_test() -> Session:
    if not sessions:
        raise RuntimeError(NO_SESSION.format(factory="AsyncFactory"))
    return sessions[-1][0].sync_session


class _AsyncFactoryOptions(SQLAlchemyOptions):
    """factory_boy's options of a SQLAlchemy factory, refusing a session of the factory's own:
    factory_boy itself only says "Provide either a sqlalchemy_session or a
    sqlalchemy_session_factory, not both", naming neither the factory nor the fix."""

    @staticmethod
    def _check_has_sqlalchemy_session_set(meta: Any, value: Any) -> None:
        factory = getattr(meta, "__qualname__", "").rpartition(".")[0] or "the factory"
        if getattr(meta, "sqlalchemy_session", None) is not None:
            raise RuntimeError(OWN_SESSION.format(factory=factory, option="sqlalchemy_session"))
        if value is not _sync_session_of_current_test:
            option = "sqlalchemy_session_factory"
            raise RuntimeError(OWN_SESSION.format(factory=factory, option=option))


class AsyncFactory(SQLAlchemyModelFactory, Generic[T]):
    """Base for factories of SQLAlchemy models used from async tests.

    `await UserFactory.acreate(...)` builds, adds and flushes the object (and its SubFactory
    relations) in the test's transaction and returns it with its id; `acreate_batch(n, ...)`
    does the same for n objects with one flush, which SQLAlchemy sends as one batched INSERT:
    an executemany when the keys are made client-side (a UUID default), one multi-row INSERT
    ... RETURNING when the database assigns them (PostgreSQL; SQLite >= 3.35 on the harness's
    in-memory driver). SubFactory objects are flushed as they are made, so that the batch's
    objects can refer to their ids.
    `build()` and `build_batch()` work as usual and touch no database.
    """

    _options_class = _AsyncFactoryOptions

    class Meta:
        abstract = True
        sqlalchemy_session_factory = _sync_session_of_current_test
        sqlalchemy_session_persistence = "flush"

    @classmethod
    def acreate(cls, **kwargs: Any) -> FactoryCall[T]:
        """Create one object in the test's transaction and return it, flushed (committed in
        a fastsuite_db(transaction=True) test)."""
        return record_call(cls, "acreate", cls._acreate(**kwargs))

    @classmethod
    def acreate_batch(cls, size: int, **kwargs: Any) -> FactoryCall[list[T]]:
        """Create `size` objects in the test's transaction with one flush (and one commit in
        a fastsuite_db(transaction=True) test)."""
        return record_call(cls, "acreate_batch", cls._acreate_batch(size, **kwargs))

    @classmethod
    async def _acreate(cls, **kwargs: Any) -> T:
        session, commit = cls._async_session()
        result: T = await _run_sync(session, lambda _sync: cls.create(**kwargs))
        if commit:
            await session.commit()
        return result

    @classmethod
    async def _acreate_batch(cls, size: int, **kwargs: Any) -> list[T]:
        session, commit = cls._async_session()

        def create_batch(sync_session: Session) -> list[T]:
            token = _deferring_flush.set(cls)
            try:
                objects: list[T] = cls.create_batch(size, **kwargs)
            finally:
                _deferring_flush.reset(token)
            sync_session.flush()
            return objects

        result: list[T] = await _run_sync(session, create_batch)
        if commit:
            await session.commit()
        return result

    @classmethod
    def create(cls, **kwargs: Any) -> T:
        __tracebackhide__ = True
        # Checked before factory_boy runs any SubFactory, so that `ItemFactory.create()` is
        # named in the error, not the `OwnerFactory` of its first SubFactory (_create checks too).
        cls._refuse_sync_create()
        result: T = super().create(**kwargs)
        return result

    @classmethod
    def create_batch(cls, size: int, **kwargs: Any) -> list[T]:
        __tracebackhide__ = True
        cls._refuse_sync_create()
        result: list[T] = super().create_batch(size, **kwargs)
        return result

    @classmethod
    def _refuse_sync_create(cls) -> None:
        __tracebackhide__ = True
        if _in_place.get() or in_greenlet():  # inside acreate(), in place or in run_sync
            return
        message = SYNC_CREATE if sessions else SYNC_CREATE_WITHOUT_SESSION
        raise RuntimeError(message.format(factory=cls.__name__))

    @classmethod
    def _async_session(cls) -> tuple[AsyncSession, bool]:
        if not sessions:
            raise RuntimeError(NO_SESSION.format(factory=cls.__name__))
        return sessions[-1]

    @classmethod
    def _create(cls, model_class: Any, *args: Any, **kwargs: Any) -> Any:
        __tracebackhide__ = True
        cls._refuse_sync_create()
        return super()._create(model_class, *args, **kwargs)  # type: ignore[no-untyped-call]

    @classmethod
    def _save(cls, model_class: Any, session: Session, args: Any, kwargs: Any) -> Any:
        if _deferring_flush.get() is cls:
            obj = model_class(*args, **kwargs)
            session.add(obj)
            return obj
        return super()._save(model_class, session, args, kwargs)  # type: ignore[no-untyped-call]
