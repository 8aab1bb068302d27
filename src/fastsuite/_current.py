"""The running test's session, for factory libraries other than factory_boy.

Read from the factories' shared state (_factory_state), which imports neither factory_boy nor
Faker.

PYTEST_DONT_REWRITE: fastsuite-warm preloads this module (see fastsuite._warm.learning).
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from fastsuite import _factory_state

NO_CURRENT_SESSION = (
    "fastsuite.current_session() is called outside a test that has the database: request the "
    "db_session or client fixture in this test (or the module_db_session or class_db_session "
    "fixture in a seed fixture)."
)


def current_session() -> AsyncSession:
    """The AsyncSession of the running test (its `db_session`), for any factory library.

    Inside a module's or class's seed fixtures, the seed session. polyfactory's SQLAlchemy
    factories take it as `__async_session__ = fastsuite.current_session`; their default
    `commit()` releases a SAVEPOINT of the test's transaction, rolled back after the test.
    """
    if not _factory_state.sessions:
        raise RuntimeError(NO_CURRENT_SESSION)
    return _factory_state.sessions[-1][0]
