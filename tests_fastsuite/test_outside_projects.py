"""What porting public FastAPI + SQLAlchemy async projects to fastsuite ran into.

Each test is a shape those projects had that fastsuite handled wrongly: a small app written
here in the same shape, and the run that once broke or misled.
"""

from __future__ import annotations

import pytest

BARE_ANNOTATION_APP = '''
"""A session dependency annotated with a bare generator type, which says nothing of what
it yields."""

import collections.abc
import typing

from fastapi import Depends, FastAPI
from sqlalchemy import String, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Note(Base):
    __tablename__ = "notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    text: Mapped[str] = mapped_column(String(50))


engine = create_async_engine("sqlite+aiosqlite:///never-touched-by-tests.db")
SessionFactory = async_sessionmaker(engine, expire_on_commit=False)


async def abc_generator() -> collections.abc.AsyncGenerator:
    async with SessionFactory() as session:
        yield session
        await session.commit()


async def typing_generator() -> typing.AsyncGenerator:
    async with AsyncSession(engine) as session:
        yield session


async def typing_iterator() -> typing.AsyncIterator:
    async with AsyncSession(engine) as session:
        yield session


def create_app(dependency):
    app = FastAPI()

    @app.post("/notes")
    async def add(text: str, session=Depends(dependency)) -> int:
        session.add(Note(text=text))
        await session.flush()
        return await session.scalar(select(func.count()).select_from(Note))

    return app


abc_app = create_app(abc_generator)
typing_generator_app = create_app(typing_generator)
typing_iterator_app = create_app(typing_iterator)
'''

BARE_ANNOTATION_TEST = """
async def test_the_route_writes_in_the_tests_transaction(client, db_session):
    assert (await client.post("/notes", params={"text": "one"})).json() == 1
"""


@pytest.mark.parametrize(
    ("dependency", "app"),
    [
        ("abc_generator", "abc_app"),
        ("typing_generator", "typing_generator_app"),
        ("typing_iterator", "typing_iterator_app"),
    ],
)
def test_a_dependency_annotated_with_a_bare_generator_type_is_served(
    pytester: pytest.Pytester, dependency: str, app: str
) -> None:
    # `async def get_db() -> AsyncGenerator:` (grillazz/fastapi-sqlalchemy-asyncpg): the bare
    # type names no yielded class; the run was stopped as if it had declared a non-session.
    pytester.makepyfile(bare_app=BARE_ANNOTATION_APP, test_notes=BARE_ANNOTATION_TEST)
    pytester.makeini(
        f"""
        [pytest]
        asyncio_mode = auto
        addopts = -p pytest_asyncio.plugin -p fastsuite
        filterwarnings = error
        fastsuite_app = bare_app:{app}
        fastsuite_metadata = bare_app:Base
        fastsuite_session_dependency = bare_app:{dependency}
        """
    )

    result = pytester.runpytest_inprocess()

    result.assert_outcomes(passed=1)
