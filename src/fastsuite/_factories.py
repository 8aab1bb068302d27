"""factory_boy factories that persist through the test's `AsyncSession`, in one awaited call.

factory_boy is synchronous (FactoryBoy/factory_boy#679). The bridge runs the whole factory call
(SubFactories, post-generation hooks and all) inside `AsyncSession.run_sync`: there the sync
session may flush, so every object gets its id as soon as it is created, exactly as with a sync
session, and the database I/O still goes through the async driver.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any, Generic, TypeVar

from factory.alchemy import SQLAlchemyModelFactory
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session
from sqlalchemy.util.concurrency import in_greenlet

from fastsuite._current import current_session, has_session

T = TypeVar("T")

NO_SESSION = (
    "{factory}.acreate() needs the test's database session: request the db_session or "
    "client fixture in this test."
)
SYNC_CREATE = (
    "{factory}.create() cannot persist through an AsyncSession from async code: "
    "use `await {factory}.acreate(...)` or `await {factory}.acreate_batch(n, ...)` "
    "({factory}.build() makes unsaved objects)."
)

# The factory whose acreate_batch() is running: its objects are only added, and flushed
# together at the end (one batched INSERT); SubFactory objects are still flushed at once, so
# the batch's objects can refer to their ids.
_deferring_flush: ContextVar[type | None] = ContextVar("fastsuite_deferring_flush", default=None)


def _sync_session_of_current_test() -> Session:
    if not has_session():
        raise RuntimeError(NO_SESSION.format(factory="AsyncFactory"))
    return current_session().sync_session


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

    class Meta:
        abstract = True
        sqlalchemy_session_factory = _sync_session_of_current_test
        sqlalchemy_session_persistence = "flush"

    @classmethod
    async def acreate(cls, **kwargs: Any) -> T:
        """Create one object in the test's transaction and return it, flushed."""
        session = cls._async_session()
        result: T = await session.run_sync(lambda _sync: cls.create(**kwargs))
        return result

    @classmethod
    async def acreate_batch(cls, size: int, **kwargs: Any) -> list[T]:
        """Create `size` objects in the test's transaction with one flush."""
        session = cls._async_session()

        def create_batch(sync_session: Session) -> list[T]:
            token = _deferring_flush.set(cls)
            try:
                objects: list[T] = cls.create_batch(size, **kwargs)
            finally:
                _deferring_flush.reset(token)
            sync_session.flush()
            return objects

        result: list[T] = await session.run_sync(create_batch)
        return result

    @classmethod
    def create(cls, **kwargs: Any) -> T:
        # Checked before factory_boy runs any SubFactory, so that `ItemFactory.create()` is
        # named in the error, not the `OwnerFactory` of its first SubFactory (_create checks too).
        if not in_greenlet():
            raise RuntimeError(SYNC_CREATE.format(factory=cls.__name__))
        result: T = super().create(**kwargs)
        return result

    @classmethod
    def create_batch(cls, size: int, **kwargs: Any) -> list[T]:
        if not in_greenlet():
            raise RuntimeError(SYNC_CREATE.format(factory=cls.__name__))
        result: list[T] = super().create_batch(size, **kwargs)
        return result

    @classmethod
    def _async_session(cls) -> AsyncSession:
        if not has_session():
            raise RuntimeError(NO_SESSION.format(factory=cls.__name__))
        return current_session()

    @classmethod
    def _create(cls, model_class: Any, *args: Any, **kwargs: Any) -> Any:
        if not in_greenlet():
            raise RuntimeError(SYNC_CREATE.format(factory=cls.__name__))
        return super()._create(model_class, *args, **kwargs)  # type: ignore[no-untyped-call]

    @classmethod
    def _save(cls, model_class: Any, session: Session, args: Any, kwargs: Any) -> Any:
        if _deferring_flush.get() is cls:
            obj = model_class(*args, **kwargs)
            session.add(obj)
            return obj
        return super()._save(model_class, session, args, kwargs)  # type: ignore[no-untyped-call]
