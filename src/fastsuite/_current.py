"""The running test's session, for factories: fastsuite's AsyncFactory and any other library.

Kept apart from the factory_boy bridge so that loading the plugin does not import factory_boy
(and Faker with it) in a project that does not use it.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

NO_CURRENT_SESSION = (
    "fastsuite.current_session() is called outside a test that has the database: request the "
    "db_session or client fixture in this test (or the module_db_session or class_db_session "
    "fixture in a seed fixture)."
)

# The sessions factories persist through, innermost (the running test's) last.
_sessions: list[AsyncSession] = []


def push_session(session: AsyncSession) -> None:
    """Called by the session fixtures: factories persist through it from now on."""
    _sessions.append(session)


def pop_session() -> None:
    _sessions.pop()


def has_session() -> bool:
    return bool(_sessions)


def current_session() -> AsyncSession:
    """The AsyncSession of the running test (its `db_session`), for any factory library.

    Inside a module's or class's seed fixtures, the seed session. polyfactory's SQLAlchemy
    factories take it as `__async_session__ = fastsuite.current_session`; their default
    `commit()` releases a SAVEPOINT of the test's transaction, rolled back after the test.
    """
    if not _sessions:
        raise RuntimeError(NO_CURRENT_SESSION)
    return _sessions[-1]
