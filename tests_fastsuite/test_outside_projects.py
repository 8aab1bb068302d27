"""What porting public FastAPI + SQLAlchemy async projects to fastsuite ran into.

Each test is a shape those projects had that fastsuite handled wrongly: a small app written
here in the same shape, and the run that once broke or misled.
"""

from __future__ import annotations

import pytest
from postgresql_server import POSTGRESQL_URL, on_sqlite_and_postgresql, requires_postgresql


def write_ini(
    pytester: pytest.Pytester,
    module: str,
    *settings: str,
    app: str = "app",
    dependency: str | None = "get_session",
    addopts: str = "",
    warnings_are_errors: bool = False,
) -> None:
    """The pytest.ini of a project whose app lives in `module`: the plugins listed, its app and
    `Base`, its session dependency (None: none), and any other `settings` lines."""
    lines = [
        "[pytest]",
        "asyncio_mode = auto",
        f"addopts = -p pytest_asyncio.plugin -p fastsuite{addopts}",
        *(["filterwarnings = error"] if warnings_are_errors else []),
        f"fastsuite_app = {module}:{app}",
        f"fastsuite_metadata = {module}:Base",
        *([f"fastsuite_session_dependency = {module}:{dependency}"] if dependency else []),
        *settings,
    ]
    pytester.makeini("\n".join(lines))


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
    write_ini(pytester, "bare_app", app=app, dependency=dependency, warnings_are_errors=True)

    result = pytester.runpytest_inprocess()

    result.assert_outcomes(passed=1)


SCHEMAS_APP = '''
"""Tables in named schemas (PostgreSQL's `CREATE SCHEMA`), one key across them."""

import uuid

from fastapi import Depends, FastAPI
from sqlalchemy import ForeignKey, String, Uuid, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Shelf(Base):
    __tablename__ = "shelf"
    __table_args__ = {"schema": "library"}

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(20), unique=True)


class Loan(Base):
    __tablename__ = "loan"
    __table_args__ = {"schema": "lending"}

    id: Mapped[int] = mapped_column(primary_key=True)
    shelf_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("library.shelf.id"))


class Plain(Base):
    __tablename__ = "plain"

    id: Mapped[int] = mapped_column(primary_key=True)


engine = create_async_engine("sqlite+aiosqlite:///never-touched-by-tests.db")
SessionFactory = async_sessionmaker(engine, expire_on_commit=False)


async def get_session():
    async with SessionFactory() as session:
        yield session
        await session.commit()


app = FastAPI()


@app.post("/shelves/{name}")
async def add_shelf(name: str, session: AsyncSession = Depends(get_session)) -> int:
    shelf = Shelf(name=name)
    session.add(shelf)
    await session.flush()
    session.add(Loan(shelf_id=shelf.id))
    await session.flush()
    return await session.scalar(select(func.count()).select_from(Loan))
'''

SCHEMAS_TESTS = """
import pytest
from sqlalchemy import func, select, text

from schemas_app import Loan, Shelf


@pytest.mark.parametrize("n", range(3))
async def test_each_test_starts_empty_and_its_writes_are_rolled_back(client, db_session, n):
    assert (await client.post(f"/shelves/s{n}")).json() == 1
    assert await db_session.scalar(select(func.count()).select_from(Shelf)) == 1


@pytest.mark.fastsuite_db(transaction=True)
async def test_real_commits_are_undone_after_the_test(client, db_session):
    assert (await client.post("/shelves/committed")).json() == 1


async def test_after_the_commits_the_tables_are_empty(db_session):
    assert await db_session.scalar(select(func.count()).select_from(Loan)) == 0
    raw = await db_session.execute(text("SELECT count(*) FROM library.shelf"))
    assert raw.scalar() == 0
"""

SCHEMAS_INI = """
[pytest]
asyncio_mode = auto
addopts = -p pytest_asyncio.plugin -p fastsuite -p no:randomly
filterwarnings = error
fastsuite_app = schemas_app:app
fastsuite_metadata = schemas_app:Base
fastsuite_sessionmaker = schemas_app:SessionFactory
"""


@pytest.fixture
def schemas_project(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makepyfile(schemas_app=SCHEMAS_APP, test_shelves=SCHEMAS_TESTS)
    pytester.makeini(SCHEMAS_INI)
    return pytester


def test_tables_in_named_schemas_run_on_sqlite(schemas_project: pytest.Pytester) -> None:
    # grillazz/fastapi-sqlalchemy-asyncpg keeps its tables in schemas happy_hog and
    # shakespeare: create_all failed with "unknown database happy_hog".
    result = schemas_project.runpytest_inprocess()

    result.assert_outcomes(passed=5)


@pytest.mark.slow
@requires_postgresql
def test_tables_in_named_schemas_run_on_postgresql(schemas_project: pytest.Pytester) -> None:
    # On PostgreSQL the schemas did not exist in the test database: "schema "library" does not
    # exist", and the run stopped.
    result = schemas_project.runpytest_subprocess(f"--fastsuite-db-url={POSTGRESQL_URL}")

    result.assert_outcomes(passed=5)


COMMITTING_DEPENDENCY_APP = '''
"""The session dependency commits after the route (a common `get_db`); routes only flush."""

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


async def get_db():
    async with SessionFactory() as session:
        yield session
        await session.commit()


app = FastAPI()


@app.post("/notes")
async def add(text: str, session: AsyncSession = Depends(get_db)) -> None:
    session.add(Note(text=text))


@app.get("/notes/count")
async def count(session: AsyncSession = Depends(get_db)) -> int:
    return await session.scalar(select(func.count()).select_from(Note))
'''

COMMITTING_DEPENDENCY_TEST = """
async def test_what_a_request_wrote_is_there_for_the_next(client):
    await client.post("/notes", params={"text": "kept"})
    assert (await client.get("/notes/count")).json() == 1
"""


def committing_dependency_project(pytester: pytest.Pytester, setting: str) -> pytest.Pytester:
    pytester.makepyfile(
        committing_app=COMMITTING_DEPENDENCY_APP, test_notes=COMMITTING_DEPENDENCY_TEST
    )
    write_ini(pytester, "committing_app", setting, dependency=None, warnings_are_errors=True)
    return pytester


def test_a_committing_dependency_keeps_its_writes_through_the_sessionmaker(
    pytester: pytest.Pytester,
) -> None:
    project = committing_dependency_project(
        pytester, "fastsuite_sessionmaker = committing_app:SessionFactory"
    )

    project.runpytest_inprocess().assert_outcomes(passed=1)


def test_a_committing_dependency_keeps_its_writes_through_the_session_dependency(
    pytester: pytest.Pytester,
) -> None:
    # The porting guide's own recipe (fastsuite_session_dependency) for grillazz's get_db: the
    # session fastsuite served in its place was closed, never committed, and closing it rolled
    # its SAVEPOINT back: the next request found nothing.
    project = committing_dependency_project(
        pytester, "fastsuite_session_dependency = committing_app:get_db"
    )

    result = project.runpytest_inprocess()

    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        [
            "  session dependency: committing_app:get_db runs as written; its sessions "
            "(committing_app:SessionFactory) join the test's transaction"
        ]
    )


DEPENDENCY_AROUND_ROUTE_APP = '''
"""Session dependencies that commit after the route and roll back when it raises, one on the
app's sessionmaker, one on the engine; and one that only closes its session."""

from fastapi import Depends, FastAPI, HTTPException
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


async def from_the_sessionmaker():
    async with SessionFactory() as session:
        try:
            yield session
            await session.commit()
        except Exception:
            await session.rollback()
            raise


async def from_the_engine():
    async with AsyncSession(engine, expire_on_commit=False) as session:
        async with session.begin():
            yield session


async def never_commits():
    async with AsyncSession(engine, expire_on_commit=False) as session:
        yield session


def create_app(dependency):
    app = FastAPI()

    @app.post("/notes")
    async def add(text: str, session: AsyncSession = Depends(dependency)) -> None:
        session.add(Note(text=text))
        await session.flush()
        if text == "refused":
            raise HTTPException(409, "refused after the flush")

    @app.get("/notes/count")
    async def count(session: AsyncSession = Depends(dependency)) -> int:
        return await session.scalar(select(func.count()).select_from(Note))

    return app


sessionmaker_app = create_app(from_the_sessionmaker)
engine_app = create_app(from_the_engine)
never_commits_app = create_app(never_commits)
'''

DEPENDENCY_AROUND_ROUTE_TESTS = """
import os

from sqlalchemy import func, select

from around_app import Note

KEPT = int(os.environ["NOTES_KEPT"])


async def test_a_write_the_dependency_commits_is_there_for_the_next_request(client):
    assert (await client.post("/notes", params={"text": "kept"})).status_code == 200
    assert (await client.get("/notes/count")).json() == KEPT


async def test_a_route_that_raises_after_a_flush_is_rolled_back(client):
    assert (await client.post("/notes", params={"text": "refused"})).status_code == 409
    assert (await client.get("/notes/count")).json() == 0


async def test_one_kept_and_one_refused(client):
    await client.post("/notes", params={"text": "kept"})
    await client.post("/notes", params={"text": "refused"})
    assert (await client.get("/notes/count")).json() == KEPT


async def test_the_tests_writes_were_rolled_back(db_session):
    assert await db_session.scalar(select(func.count()).select_from(Note)) == 0
"""


@pytest.fixture(
    params=[
        pytest.param(("from_the_sessionmaker", "sessionmaker_app", 1), id="on-its-sessionmaker"),
        pytest.param(("from_the_engine", "engine_app", 1), id="on-the-engine"),
        pytest.param(("never_commits", "never_commits_app", 0), id="never-commits"),
    ]
)
def dependency_around_route_project(
    pytester: pytest.Pytester, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> pytest.Pytester:
    dependency, app, kept = request.param
    pytester.makepyfile(
        around_app=DEPENDENCY_AROUND_ROUTE_APP, test_around=DEPENDENCY_AROUND_ROUTE_TESTS
    )
    write_ini(
        pytester,
        "around_app",
        app=app,
        dependency=dependency,
        addopts=" -p no:randomly",
        warnings_are_errors=True,
    )
    monkeypatch.setenv("NOTES_KEPT", str(kept))
    return pytester


def test_what_the_session_dependency_does_around_the_route_happens_in_the_test(
    dependency_around_route_project: pytest.Pytester,
) -> None:
    # What the app's dependency does after the route, it does in the test: a commit keeps the
    # route's writes for the next request, a rollback on error drops them, and a dependency
    # that never commits keeps nothing (as on a real database); the test rolls it all back.
    result = dependency_around_route_project.runpytest_inprocess()

    result.assert_outcomes(passed=4)


@pytest.mark.slow
@requires_postgresql
def test_what_the_session_dependency_does_around_the_route_happens_on_postgresql(
    dependency_around_route_project: pytest.Pytester,
) -> None:
    result = dependency_around_route_project.runpytest_subprocess(
        f"--fastsuite-db-url={POSTGRESQL_URL}"
    )

    result.assert_outcomes(passed=4)


HELPER_DATABASE = '''
"""The engine, the sessionmaker, and a helper that opens a session from it."""

from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

engine = create_async_engine("sqlite+aiosqlite:///never-touched-by-tests.db")
_SESSIONMAKER = async_sessionmaker(engine, expire_on_commit=False)


def new_session():
    return _SESSIONMAKER()
'''

HELPER_APP = '''
"""A session dependency that opens its session through a helper of another module."""

from fastapi import Depends, FastAPI
from sqlalchemy import String, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

import helper_database
from helper_database import new_session

OPENED = []


class Base(DeclarativeBase):
    pass


class Note(Base):
    __tablename__ = "notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    text: Mapped[str] = mapped_column(String(50))


async def through_the_module():
    OPENED.append("through_the_module")
    async with helper_database.new_session() as session:
        yield session


async def through_the_function():
    OPENED.append("through_the_function")
    async with new_session() as session:
        yield session


def create_app(dependency):
    app = FastAPI()

    @app.post("/notes")
    async def add(text: str, session: AsyncSession = Depends(dependency)) -> int:
        session.add(Note(text=text))
        await session.commit()
        return await session.scalar(select(func.count()).select_from(Note))

    return app


module_app = create_app(through_the_module)
function_app = create_app(through_the_function)
'''

HELPER_TEST = """
from helper_app import OPENED


async def test_the_apps_dependency_runs_as_written(client):
    assert (await client.post("/notes", params={"text": "one"})).json() == 1
    assert len(OPENED) == 1
"""


@pytest.mark.parametrize(
    ("dependency", "app"),
    [("through_the_module", "module_app"), ("through_the_function", "function_app")],
)
def test_a_dependency_that_opens_its_session_through_a_helper_runs_as_written(
    pytester: pytest.Pytester, dependency: str, app: str
) -> None:
    # rafsaf/minimal-fastapi-postgres-template: `get_session` opens its session through
    # `database_session.get_async_session()`, which calls the module's sessionmaker. fastsuite
    # found no sessionmaker and served a session in the dependency's place: the dependency never
    # ran, and the project's coverage gate (--cov-fail-under=100) failed the run.
    pytester.makepyfile(
        helper_database=HELPER_DATABASE, helper_app=HELPER_APP, test_helper=HELPER_TEST
    )
    write_ini(pytester, "helper_app", app=app, dependency=dependency, warnings_are_errors=True)

    result = pytester.runpytest_inprocess()

    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        [
            f"  session dependency: helper_app:{dependency} runs as written; its sessions "
            "(helper_database:_SESSIONMAKER) join the test's transaction"
        ]
    )


LEFTOVER_OVERRIDE_APP = '''
"""An app whose session dependency opens the app's own sessionmaker."""

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


async def get_session():
    async with SessionFactory() as session:
        yield session


app = FastAPI()


@app.post("/notes")
async def add(text: str, session: AsyncSession = Depends(get_session)) -> int:
    session.add(Note(text=text))
    await session.commit()
    return await session.scalar(select(func.count()).select_from(Note))
'''

# The suite's conftest before the port: a test database of its own, and the app's dependency
# overridden when the conftest is imported.
LEFTOVER_OVERRIDE_CONFTEST = """
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from leftover_app import app, get_session

test_engine = create_async_engine("sqlite+aiosqlite:///old-test-database.db")
TestingSession = async_sessionmaker(test_engine, expire_on_commit=False)


async def override_get_session():
    async with TestingSession() as session:
        yield session


app.dependency_overrides[get_session] = override_get_session
"""

LEFTOVER_OVERRIDE_TEST = """
async def test_a_note_is_added(client):
    assert (await client.post("/notes", params={"text": "one"})).json() == 1
"""


def test_an_override_left_from_the_old_recipe_is_named_when_its_connection_is_refused(
    pytester: pytest.Pytester,
) -> None:
    # The commonest conftest of the recipe fastsuite replaces sets
    # `app.dependency_overrides[get_db] = override_get_db` on its own test database when it is
    # imported. Left there after the port, it outranks the app's dependency: the blocker refused
    # its connection, naming only the route (`add()`) and advising to route the app's code
    # through its session dependency, which the ini file already named.
    pytester.makepyfile(leftover_app=LEFTOVER_OVERRIDE_APP, test_leftover=LEFTOVER_OVERRIDE_TEST)
    pytester.makeconftest(LEFTOVER_OVERRIDE_CONFTEST)
    write_ini(pytester, "leftover_app")

    result = pytester.runpytest_inprocess()

    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*fastsuite: refused a connection to sqlite+aiosqlite:///*old-test-database.db in "
            "test_leftover.py::test_a_note_is_added (call) (opened by add() at leftover_app.py:*): "
            "the app's session dependency leftover_app:get_session is overridden in "
            "app.dependency_overrides by conftest:override_get_session (conftest.py:9), so the "
            "app's requests use that function's sessions, not the test's: remove that override "
            "(fastsuite serves leftover_app:get_session from the test's transaction).*"
        ]
    )
    assert "Route the app's code" not in result.stdout.str()

    # The fix the message gives.
    pytester.makeconftest(LEFTOVER_OVERRIDE_CONFTEST.replace("app.dependency_overrides", "# "))
    assert pytester.runpytest_inprocess().ret == 0


EXPUNGE_CASCADE_APP = '''
"""A parent whose children are expunged with it (cascade "expunge"), deleted by a route."""

from fastapi import Depends, FastAPI
from sqlalchemy import ForeignKey, String
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class Notebook(Base):
    __tablename__ = "notebooks"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(50))
    notes: Mapped[list["Note"]] = relationship(
        back_populates="notebook",
        cascade="save-update, merge, refresh-expire, expunge, delete, delete-orphan",
    )


class Note(Base):
    __tablename__ = "notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    notebook_id: Mapped[int] = mapped_column(ForeignKey("notebooks.id"))
    notebook: Mapped[Notebook] = relationship(back_populates="notes")


engine = create_async_engine("sqlite+aiosqlite:///never-touched-by-tests.db")
SessionFactory = async_sessionmaker(engine, expire_on_commit=False)


async def get_session():
    async with SessionFactory() as session:
        yield session


app = FastAPI()


@app.delete("/notebooks/{notebook_id}", status_code=204)
async def delete(notebook_id: int, session: AsyncSession = Depends(get_session)) -> None:
    await session.delete(await session.get(Notebook, notebook_id))
    await session.commit()
'''

EXPUNGE_CASCADE_TEST = """
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from expunge_app import Note, Notebook


async def test_a_deleted_parent_leaves_the_session_with_its_children(client, db_session):
    kept, gone = Notebook(title="kept"), Notebook(title="gone")
    db_session.add_all([kept, gone])
    await db_session.flush()
    db_session.add_all([Note(notebook_id=kept.id)] + [Note(notebook_id=gone.id) for _ in "ab"])
    await db_session.flush()
    notebooks = select(Notebook).options(selectinload(Notebook.notes)).order_by(Notebook.id)
    assert [len(notebook.notes) for notebook in await db_session.scalars(notebooks)] == [1, 2]

    assert (await client.delete(f"/notebooks/{gone.id}")).status_code == 204

    assert gone not in db_session and all(note not in db_session for note in gone.notes)
    assert kept in db_session and kept.notes[0] in db_session
    assert len((await db_session.scalars(select(Note))).all()) == 1
"""


def test_a_deleted_parent_whose_children_are_expunged_with_it_leaves_the_session(
    pytester: pytest.Pytester,
) -> None:
    # rhoboro/async-fastapi-sqlalchemy: a notebook's notes are expunged with it (cascade
    # "expunge"). The test held the notebook and its notes; after the route deleted them,
    # reading the test's objects again expunged the notebook (its notes with it), then each
    # note: InvalidRequestError "Instance <Note> is not present in this Session".
    pytester.makepyfile(expunge_app=EXPUNGE_CASCADE_APP, test_expunge=EXPUNGE_CASCADE_TEST)
    write_ini(pytester, "expunge_app")

    result = pytester.runpytest_inprocess()

    result.assert_outcomes(passed=1)


SEVERAL_BASES_APP = '''
"""Models on two declarative bases, listed together as Alembic's target_metadata takes them."""

from fastapi import Depends, FastAPI
from sqlalchemy import String, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class AppBase(DeclarativeBase):
    pass


class TaskBase(DeclarativeBase):  # a library's tables (Celery's result backend, say)
    pass


class Note(AppBase):
    __tablename__ = "notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    text: Mapped[str] = mapped_column(String(50))


class TaskResult(TaskBase):
    __tablename__ = "task_results"

    id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[str] = mapped_column(String(20))


class OldBase(DeclarativeBase):  # an older copy of the models, with a table of the same name
    pass


class OldNote(OldBase):
    __tablename__ = "notes"

    id: Mapped[int] = mapped_column(primary_key=True)


metadata = [AppBase.metadata, TaskBase.metadata, AppBase.metadata]  # once or twice: the same
clashing = [AppBase.metadata, TaskBase.metadata, OldBase.metadata]

engine = create_async_engine("sqlite+aiosqlite:///never-touched-by-tests.db")
SessionFactory = async_sessionmaker(engine, expire_on_commit=False)


async def get_session():
    async with SessionFactory() as session:
        yield session


app = FastAPI()


@app.post("/notes")
async def add(text: str, session: AsyncSession = Depends(get_session)) -> int:
    session.add(Note(text=text))
    session.add(TaskResult(status="queued"))
    await session.commit()
    return await session.scalar(select(func.count()).select_from(TaskResult))
'''

SEVERAL_BASES_TEST = """
from sqlalchemy import func, select

from several_bases_app import Note, TaskResult


async def test_the_tables_of_both_bases_are_built(client, db_session):
    assert (await client.post("/notes", params={"text": "one"})).json() == 1
    assert await db_session.scalar(select(func.count()).select_from(Note)) == 1


async def test_and_rolled_back(db_session):
    assert await db_session.scalar(select(func.count()).select_from(TaskResult)) == 0
"""


def _metadata_setting(pytester: pytest.Pytester, value: str) -> None:
    write_ini(pytester, "several_bases_app")
    ini = pytester.path / "tox.ini"  # what pytester.makeini writes
    ini.write_text(ini.read_text().replace("several_bases_app:Base", value))


@on_sqlite_and_postgresql
def test_a_list_of_metadata_as_alembic_takes_it_builds_every_table(
    pytester: pytest.Pytester, database: list[str]
) -> None:
    # suspiciousRaccoon/async-fastapi-sqlalchemy-template lists its models' MetaData and
    # Celery's (`metadata = [UserBase.metadata, ResultModelBase.metadata]`, Alembic's
    # "multiple metadata collections"); fastsuite_metadata took only one.
    pytester.makepyfile(several_bases_app=SEVERAL_BASES_APP, test_several_bases=SEVERAL_BASES_TEST)
    _metadata_setting(pytester, "several_bases_app:metadata")

    result = pytester.runpytest_inprocess("-p", "no:randomly", *database)

    result.assert_outcomes(passed=2)


def test_a_table_name_in_two_of_the_listed_metadata_stops_the_run(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(several_bases_app=SEVERAL_BASES_APP, test_several_bases=SEVERAL_BASES_TEST)
    _metadata_setting(pytester, "several_bases_app:clashing")

    result = pytester.runpytest_inprocess()

    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            "ERROR: fastsuite: fastsuite_metadata lists several MetaData, and more than one has a "
            "table notes, where a database holds one table of a name (per schema): list only the "
            "MetaData whose tables the app uses."
        ]
    )


TRUSTED_HOSTS_APP = '''
"""An app behind TrustedHostMiddleware, its hosts from the settings."""

from fastapi import FastAPI
from fastapi.middleware.trustedhost import TrustedHostMiddleware
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    pass


async def get_session():
    yield None


app = FastAPI()
app.add_middleware(TrustedHostMiddleware, allowed_hosts=["localhost", "*.example.com"])


@app.get("/health")
async def health() -> str:
    return "ok"
'''

TRUSTED_HOSTS_TEST = """
async def test_health(client):
    assert (await client.get("/health")).status_code == 200
"""


@pytest.mark.parametrize(
    ("setting", "outcome"),
    [
        ("", "refused"),
        ("fastsuite_base_url = http://localhost", "passed"),
        ("fastsuite_base_url = https://api.example.com", "passed"),
        ("fastsuite_client_headers = Host: localhost", "passed"),
        ("fastsuite_base_url = http://example.org", "refused"),
    ],
)
def test_a_client_host_the_apps_trusted_hosts_refuse_stops_the_run(
    pytester: pytest.Pytester, setting: str, outcome: str
) -> None:
    # rafsaf/minimal-fastapi-postgres-template's client fixture sent `Host: localhost`; deleted
    # with the rest of the plumbing, every request got 400 "Invalid host header", and each test
    # failed on its own assertion ("assert 400 == 200", a JSONDecodeError) without a word of why.
    pytester.makepyfile(hosts_app=TRUSTED_HOSTS_APP, test_hosts=TRUSTED_HOSTS_TEST)
    write_ini(pytester, "hosts_app", *([setting] if setting else []))

    result = pytester.runpytest_subprocess()

    if outcome == "passed":
        result.assert_outcomes(passed=1)
        return
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    host = "example.org" if setting else "test"
    result.stdout.fnmatch_lines(
        [
            f"*fastsuite: the app's TrustedHostMiddleware allows the hosts 'localhost', "
            f"'*.example.com', not {host!r}, where the `client` fixtures send their requests "
            '(fastsuite_base_url = *): each would get 400 "Invalid host header". Set '
            "fastsuite_base_url to a URL on an allowed host (http://localhost), or send a "
            "`Host` header in fastsuite_client_headers.*"
        ]
    )


POSTGRESQL_DEFAULT_APP = '''
"""A server default written in PostgreSQL's SQL (as migrations autogenerated on PostgreSQL
write `server_default=sa.text("now()")`)."""

from datetime import datetime

from fastapi import Depends, FastAPI
from sqlalchemy import DateTime, String, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Note(Base):
    __tablename__ = "notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    body: Mapped[str] = mapped_column(String(50))
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=text("now()")
    )
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=text("now()")
    )


engine = create_async_engine("sqlite+aiosqlite:///never-touched-by-tests.db")
SessionFactory = async_sessionmaker(engine, expire_on_commit=False)


async def get_session():
    async with SessionFactory() as session:
        yield session


app = FastAPI()


@app.post("/notes")
async def add(body: str, session: AsyncSession = Depends(get_session)) -> int:
    note = Note(body=body)
    session.add(note)
    await session.commit()
    return note.id
'''

POSTGRESQL_DEFAULT_TEST = """
async def test_a_note_gets_its_creation_time(client):
    assert (await client.post("/notes", params={"body": "one"})).status_code == 200
"""


@pytest.fixture
def postgresql_default_project(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makepyfile(
        pg_default_app=POSTGRESQL_DEFAULT_APP, test_pg_default=POSTGRESQL_DEFAULT_TEST
    )
    write_ini(pytester, "pg_default_app")
    return pytester


def test_a_server_default_sqlite_cannot_run_is_named_with_the_fix(
    postgresql_default_project: pytest.Pytester,
) -> None:
    # rafsaf/minimal-fastapi-postgres-template's migrations (autogenerated on PostgreSQL) give
    # created_at `server_default=sa.text("now()")`: SQLite takes the DDL and fails each INSERT
    # with a bare "unknown function: now()", nothing saying where it comes from.
    # On every supported SQLAlchemy: 2.0.24 writes the default unparenthesized, which SQLite's
    # CREATE TABLE would refuse, and the harness's dialect parenthesizes it (_sqlite_defaults).
    result = postgresql_default_project.runpytest_subprocess()

    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*fastsuite: SQLite has no function now(), called by the server default of "
            "notes.created_at (DEFAULT now()), notes.updated_at (DEFAULT now()): SQL written for "
            "PostgreSQL (a migration autogenerated there, a text() default). Run the suite on "
            "PostgreSQL (FASTSUITE_DB_URL), or write a default each database renders its own "
            "way: SQLAlchemy's func.now() (sa.func.now() in a migration) for now(), a "
            "Python-side default= for the others.*"
        ]
    )


@pytest.mark.slow
@requires_postgresql
def test_a_server_default_in_postgresqls_sql_runs_on_postgresql(
    postgresql_default_project: pytest.Pytester,
) -> None:
    result = postgresql_default_project.runpytest_subprocess(f"--fastsuite-db-url={POSTGRESQL_URL}")

    result.assert_outcomes(passed=1)


UVLOOP_CONFTEST = """
import pytest


@pytest.fixture(
    scope="session",
    params=[pytest.param(("asyncio", {"use_uvloop": True}), id="asyncio+uvloop")],
)
def anyio_backend(request):
    return request.param
"""

UVLOOP_TEST = """
import pytest

pytestmark = pytest.mark.anyio


async def test_listed(client):
    assert (await client.get("/items")).status_code == 200
"""


def test_anyio_backend_options_that_are_not_applied_are_reported(
    items_project: pytest.Pytester,
) -> None:
    # grillazz/fastapi-sqlalchemy-asyncpg parametrizes anyio_backend with uvloop: its tests
    # ran on pytest-asyncio's plain loop without a word, though their ids say asyncio+uvloop.
    # The test itself is sound: it passes, and says which options did not apply and the fix,
    # even where warnings are errors (the project's `filterwarnings = error`).
    items_project.makeconftest(UVLOOP_CONFTEST)
    items_project.makepyfile(test_uvloop=UVLOOP_TEST)

    result = items_project.runpytest_inprocess("-p", "anyio.pytest_plugin")

    result.assert_outcomes(passed=1, warnings=1)
    result.stdout.fnmatch_lines(
        [
            "*test_uvloop.py::test_listed[[]asyncio+uvloop[]]",
            "*AnyioBackendOptionsNotApplied: fastsuite: the anyio_backend options "
            'use_uvloop=True are not applied: * Give anyio_backend as plain "asyncio", or *'
            "pytest_asyncio_loop_factories hook *",
        ]
    )


def test_anyio_backend_options_the_loop_applies_are_not_reported(
    items_project: pytest.Pytester,
) -> None:
    # debug=False is what pytest-asyncio's loop does already: nothing to say.
    items_project.makeconftest(UVLOOP_CONFTEST.replace('{"use_uvloop": True}', '{"debug": False}'))
    items_project.makepyfile(test_uvloop=UVLOOP_TEST)

    result = items_project.runpytest_inprocess("-p", "anyio.pytest_plugin")

    result.assert_outcomes(passed=1)


ENVIRONMENT_APP = '''
"""Settings read from the environment when the module is imported, as pydantic-settings and
Starlette's Config do: no default for the secret."""

import os

from fastapi import FastAPI
from sqlalchemy.orm import DeclarativeBase

SECRET_KEY = os.environ["APP_SECRET_KEY"]


class Base(DeclarativeBase):
    pass


async def get_session():
    yield None


app = FastAPI()
'''

ENVIRONMENT_CONFTEST = """
import os


def pytest_configure(config):
    # The test environment, set up the way testcontainers suites do: when pytest configures.
    os.environ["APP_SECRET_KEY"] = "for tests"
"""


def test_the_app_is_imported_after_the_conftests_configure_the_environment(
    pytester: pytest.Pytester,
) -> None:
    # joaoflaviosantos/fastapi-async-sqlmodel-boilerplate sets its settings' variables in
    # tests/conftest.py's pytest_configure: fastsuite stopped the run with KeyError SECRET_KEY.
    pytester.makepyfile(environment_app=ENVIRONMENT_APP)
    pytester.makeconftest(ENVIRONMENT_CONFTEST)
    pytester.makepyfile(test_nothing="def test_nothing():\n    pass\n")
    write_ini(pytester, "environment_app")

    result = pytester.runpytest_subprocess()

    result.assert_outcomes(passed=1)


def test_an_app_that_fails_on_import_is_reported_with_when_it_was_imported(
    pytester: pytest.Pytester,
) -> None:
    # The project's conftest set the variable too late; the message said only "Fix the module".
    pytester.makepyfile(environment_app=ENVIRONMENT_APP)
    pytester.makeini(
        """
        [pytest]
        addopts = -p pytest_asyncio.plugin -p fastsuite
        fastsuite_app = environment_app:app
        fastsuite_metadata = environment_app:Base
        fastsuite_session_dependency = environment_app:get_session
        """
    )

    result = pytester.runpytest_subprocess()

    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            "ERROR: fastsuite: fastsuite_app = environment_app:app (ini): importing module "
            "'environment_app' raised KeyError: 'APP_SECRET_KEY' * after the pytest_configure "
            "hooks of your conftests: *"
        ]
    )


SEQUENCE_KEY_APP = '''
"""A key numbered by a named sequence, as Celery's result tables declare theirs."""

from fastapi import Depends, FastAPI
from sqlalchemy import Column, Integer, Sequence, String, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase

job_id_sequence = Sequence("job_id_sequence", start=1)


class Base(DeclarativeBase):
    pass


class Job(Base):
    __tablename__ = "jobs"

    id = Column(
        Integer, job_id_sequence, primary_key=True, server_default=job_id_sequence.next_value()
    )
    name = Column(String(20), nullable=False)


engine = create_async_engine("sqlite+aiosqlite:///never-touched-by-tests.db")
SessionFactory = async_sessionmaker(engine, expire_on_commit=False)


async def get_session():
    async with SessionFactory() as session:
        yield session


app = FastAPI()


@app.post("/jobs")
async def add(names: list[str], session: AsyncSession = Depends(get_session)) -> list[int]:
    session.add_all(Job(name=name) for name in names)
    await session.commit()
    return list(await session.scalars(select(Job.id).order_by(Job.id)))
'''

SEQUENCE_KEY_TEST = """
async def test_the_database_numbers_the_jobs(client):
    ids = (await client.post("/jobs", json=["a", "b"])).json()
    assert len(ids) == 2 and ids[0] < ids[1]
"""


@pytest.fixture
def sequence_key_project(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makepyfile(sequence_app=SEQUENCE_KEY_APP, test_jobs=SEQUENCE_KEY_TEST)
    write_ini(pytester, "sequence_app", warnings_are_errors=True)
    return pytester


def test_a_key_numbered_by_a_sequence_runs_on_sqlite(sequence_key_project: pytest.Pytester) -> None:
    # joaoflaviosantos/fastapi-async-sqlmodel-boilerplate: every test errored at setup with
    # "NotImplementedError: Dialect 'sqlite' does not support sequence increments".
    sequence_key_project.runpytest_inprocess().assert_outcomes(passed=1)


@pytest.mark.slow
@requires_postgresql
def test_a_key_numbered_by_a_sequence_runs_on_postgresql(
    sequence_key_project: pytest.Pytester,
) -> None:
    result = sequence_key_project.runpytest_subprocess(f"--fastsuite-db-url={POSTGRESQL_URL}")

    result.assert_outcomes(passed=1)


ORM_SESSIONMAKER_APP = '''
"""Sessions from the ORM's sessionmaker with the AsyncSession class, as SQLModel's and older
tutorials write it, for the routes and for code outside them."""

from fastapi import Depends, FastAPI
from sqlalchemy import String, func, select
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, sessionmaker


class Base(DeclarativeBase):
    pass


class Note(Base):
    __tablename__ = "notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    text: Mapped[str] = mapped_column(String(50))


engine = create_async_engine("sqlite+aiosqlite:///never-touched-by-tests.db")
SessionFactory = sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)
SyncFactory = sessionmaker()


async def get_session():
    async with SessionFactory() as session:
        yield session


app = FastAPI()


@app.post("/notes")
async def add(text: str, session: AsyncSession = Depends(get_session)) -> int:
    session.add(Note(text=text))
    await session.commit()
    async with SessionFactory() as other:  # as a background job would
        return await other.scalar(select(func.count()).select_from(Note))
'''

ORM_SESSIONMAKER_TEST = """
async def test_sessions_of_the_factory_share_the_tests_transaction(client):
    assert (await client.post("/notes", params={"text": "one"})).json() == 1
"""


def orm_sessionmaker_project(pytester: pytest.Pytester, maker: str) -> pytest.Pytester:
    pytester.makepyfile(orm_app=ORM_SESSIONMAKER_APP, test_notes=ORM_SESSIONMAKER_TEST)
    write_ini(
        pytester,
        "orm_app",
        f"fastsuite_sessionmaker = orm_app:{maker}",
        dependency=None,
        warnings_are_errors=True,
    )
    return pytester


def test_an_orm_sessionmaker_of_async_sessions_is_the_apps_sessionmaker(
    pytester: pytest.Pytester,
) -> None:
    # joaoflaviosantos/fastapi-async-sqlmodel-boilerplate: "returned AsyncSession, not an
    # async_sessionmaker" (fastsuite had called the factory).
    orm_sessionmaker_project(pytester, "SessionFactory").runpytest_inprocess().assert_outcomes(
        passed=1
    )


def test_an_orm_sessionmaker_of_sync_sessions_is_refused_naming_its_class(
    pytester: pytest.Pytester,
) -> None:
    result = orm_sessionmaker_project(pytester, "SyncFactory").runpytest_subprocess()

    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            "ERROR: fastsuite: fastsuite_sessionmaker = orm_app:SyncFactory (ini) is a "
            "sessionmaker of Session, not of an AsyncSession: name the app's async one."
        ]
    )


LIFESPAN_ENGINE_APP = '''
"""A lifespan that checks the migrations on the app's own engine before serving."""

from contextlib import asynccontextmanager

from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.orm import DeclarativeBase

engine = create_async_engine("sqlite+aiosqlite:///never-touched-by-tests.db")


class Base(DeclarativeBase):
    pass


async def get_session():
    yield None


async def ensure_migrated():
    async with engine.connect() as connection:
        await connection.execute(text("SELECT 1"))


@asynccontextmanager
async def lifespan(app):
    await ensure_migrated()
    yield


def create_app():
    app = FastAPI(lifespan=lifespan)

    @app.get("/")
    async def root(session=Depends(get_session)) -> None:
        return None

    return app


app = create_app()
'''.replace("from fastapi import FastAPI", "from fastapi import Depends, FastAPI")


def test_a_refused_connection_names_the_code_that_opened_it(pytester: pytest.Pytester) -> None:
    # joaoflaviosantos/fastapi-async-sqlmodel-boilerplate's lifespan checks the migrations on
    # its own engine: the refusal named only the first test's setup.
    pytester.makepyfile(lifespan_app=LIFESPAN_ENGINE_APP)
    pytester.makepyfile(test_root="async def test_root(client):\n    await client.get('/')\n")
    write_ini(pytester, "lifespan_app")

    result = pytester.runpytest_subprocess()

    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [
            "fastsuite: refused a connection to sqlite+aiosqlite:///*never-touched-by-tests.db in "
            "test_root.py::test_root (setup) (opened by ensure_migrated() at lifespan_app.py:2?):*"
        ]
    )


UUID_KEY_APP = '''
"""Rows keyed by UUID, looked up by a UUID that comes as a string (from settings, a path)."""

import uuid

from fastapi import Depends, FastAPI
from sqlalchemy import String, Uuid, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

SYSTEM_USER_ID = "2b6c3f4e-9a1d-4c5e-8f70-1a2b3c4d5e6f"


class Base(DeclarativeBase):
    pass


class Account(Base):
    __tablename__ = "accounts"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(20))


engine = create_async_engine("sqlite+aiosqlite:///never-touched-by-tests.db")
SessionFactory = async_sessionmaker(engine, expire_on_commit=False)


async def get_session():
    async with SessionFactory() as session:
        yield session


app = FastAPI()


@app.get("/accounts/{account_id}")
async def account(account_id: str, session: AsyncSession = Depends(get_session)) -> str | None:
    return await session.scalar(select(Account.name).where(Account.id == account_id))
'''

UUID_KEY_TESTS = """
import uuid

from uuid_app import SYSTEM_USER_ID, Account


async def test_a_uuid_given_as_a_string_finds_its_row(client, db_session):
    db_session.add(Account(id=uuid.UUID(SYSTEM_USER_ID), name="system"))

    assert (await client.get(f"/accounts/{SYSTEM_USER_ID}")).json() == "system"


async def test_a_string_that_is_no_uuid_is_refused(client, db_session):
    await client.get("/accounts/not-a-uuid")
"""


def test_a_uuid_bound_as_a_string_behaves_as_on_postgresql(pytester: pytest.Pytester) -> None:
    # joaoflaviosantos/fastapi-async-sqlmodel-boilerplate's seed looks its system user up with
    # `User.id == settings_value` (a str): fine with asyncpg, on SQLite an AttributeError
    # ("'str' object has no attribute 'hex'") from SQLAlchemy's binding of Uuid.
    pytester.makepyfile(uuid_app=UUID_KEY_APP, test_accounts=UUID_KEY_TESTS)
    write_ini(pytester, "uuid_app", addopts=" -p no:randomly")

    result = pytester.runpytest_inprocess()

    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*fastsuite strict SQLite [[]bound_types[]]: invalid input for query argument: "
            "'not-a-uuid' (invalid UUID 'not-a-uuid': *accounts.id*"
        ]
    )


INSTALLED_LIBRARY = """
from sqlalchemy import create_engine, text


def record_result():
    with create_engine("sqlite:///results.db").connect() as connection:
        connection.execute(text("SELECT 1"))
"""

CALLS_THE_LIBRARY = """
import resultlib


async def test_send_welcome(db_session):
    resultlib.record_result()
"""


def test_a_refused_connection_names_the_project_code_that_called_a_library(
    pytester: pytest.Pytester,
) -> None:
    # The boilerplate's Celery result backend connected: the refusal named Celery's own frame.
    pytester.mkpydir("lib")
    (pytester.path / "lib" / "site-packages").mkdir()
    (pytester.path / "lib" / "site-packages" / "resultlib.py").write_text(INSTALLED_LIBRARY)
    pytester.makepyfile(lifespan_app=LIFESPAN_ENGINE_APP, test_welcome=CALLS_THE_LIBRARY)
    write_ini(pytester, "lifespan_app", "pythonpath = lib/site-packages", app="create_app")

    result = pytester.runpytest_subprocess()

    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*refused a connection to sqlite+pysqlite:///*results.db in test_welcome.py::"
            "test_send_welcome (call) (opened by test_send_welcome() at test_welcome.py:5):*"
        ]
    )


MIDDLEWARE_APP = '''
"""A route that reaches a database of its own, behind a BaseHTTPMiddleware (a cache header)."""

from fastapi import Depends, FastAPI, Request
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.orm import DeclarativeBase

engine = create_async_engine("sqlite+aiosqlite:///never-touched-by-tests.db")


class Base(DeclarativeBase):
    pass


async def get_session():
    yield None


app = FastAPI()


@app.middleware("http")
async def cache_header(request: Request, call_next):
    response = await call_next(request)
    response.headers["Cache-Control"] = "no-store"
    return response


@app.get("/report")
async def report(session=Depends(get_session)) -> int:
    async with engine.connect() as connection:
        return (await connection.execute(text("SELECT 1"))).scalar_one()
'''


def test_a_refusal_behind_a_base_http_middleware_is_reported_alone(
    pytester: pytest.Pytester,
) -> None:
    # joaoflaviosantos/fastapi-async-sqlmodel-boilerplate (ClientCacheMiddleware): 21 tests
    # failed with "BaseExceptionGroup", the refusal 500 lines down the report.
    pytester.makepyfile(
        middleware_app=MIDDLEWARE_APP,
        test_report="async def test_report(client):\n    await client.get('/report')\n",
    )
    write_ini(pytester, "middleware_app")

    result = pytester.runpytest_subprocess("-rf")

    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*_ test_report _*",
            "fastsuite: refused a connection to sqlite+aiosqlite:*never-touched-by-tests.db in *",
        ]
    )
    result.stdout.no_fnmatch_line("*No response returned*")
    result.stdout.no_fnmatch_line("*ExceptionGroup*")


TWO_SESSIONMAKERS_APP = '''
"""Routes on one sessionmaker, scripts and seeds on another (its own engine, no pool)."""

from fastapi import Depends, FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase

api_engine = create_async_engine("sqlite+aiosqlite:///never-touched-by-tests.db")
scripts_engine = create_async_engine("sqlite+aiosqlite:///never-touched-by-tests.db")
ApiSessions = async_sessionmaker(api_engine, expire_on_commit=False)
ScriptSessions = async_sessionmaker(scripts_engine, expire_on_commit=False)


class Base(DeclarativeBase):
    pass


async def get_db():
    async with ApiSessions() as session:
        yield session


app = FastAPI()


@app.get("/")
async def root(session: AsyncSession = Depends(get_db)) -> None:
    return None
'''


@pytest.mark.parametrize(
    ("maker", "outcome"),
    [("ApiSessions", "passed"), ("ScriptSessions", "refused")],
)
def test_a_sessionmaker_the_dependency_does_not_open_is_refused_at_start(
    pytester: pytest.Pytester, maker: str, outcome: str
) -> None:
    # joaoflaviosantos/fastapi-async-sqlmodel-boilerplate: with both keys set (the dependency
    # for the routes, the seeds' sessionmaker), the dependency key was ignored without a word
    # and every route reached the development database.
    pytester.makepyfile(
        two_makers_app=TWO_SESSIONMAKERS_APP,
        test_root="async def test_root(client):\n    await client.get('/')\n",
    )
    write_ini(
        pytester,
        "two_makers_app",
        f"fastsuite_sessionmaker = two_makers_app:{maker}",
        dependency="get_db",
    )

    result = pytester.runpytest_subprocess()

    if outcome == "passed":
        result.assert_outcomes(passed=1)
        return
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            "ERROR: fastsuite: fastsuite_session_dependency = two_makers_app:get_db (ini) opens "
            "its sessions from two_makers_app:ApiSessions, but fastsuite_sessionmaker = "
            "two_makers_app:ScriptSessions (ini) is another sessionmaker. *"
        ]
    )


PLUGIN_FIXTURES = """
import pytest


@pytest.fixture
def client():
    return "the project's own client"
"""

USES_CLIENT = """
def test_the_projects_client(client):
    assert client == "the project's own client"
"""


def test_fixtures_of_a_projects_pytest_plugins_module_win_over_fastsuites(
    pytester: pytest.Pytester,
) -> None:
    # joaoflaviosantos/fastapi-async-sqlmodel-boilerplate: root conftest.py has
    # `pytest_plugins = ["tests.conftest"]`, whose session-scoped client fixture serves 85
    # tests. With fastsuite merely installed, all of them failed with "uses fastsuite's client
    # fixture, but fastsuite is not configured".
    pytester.makepyfile(project_fixtures=PLUGIN_FIXTURES, test_client=USES_CLIENT)
    pytester.makeconftest('pytest_plugins = ["project_fixtures"]')
    pytester.makeini(
        """
        [pytest]
        addopts = -p pytest_asyncio.plugin -p fastsuite
        """
    )

    result = pytester.runpytest_subprocess()

    result.assert_outcomes(passed=1)


def test_in_a_configured_project_its_pytest_plugins_fixtures_win_too(items_project):
    # The porting guide's "replace `client`" works from a plugin module as from a conftest;
    # fastsuite's other fixtures stay fastsuite's.
    items_project.makepyfile(
        project_fixtures=PLUGIN_FIXTURES,
        test_plugin_client="""
from sqlalchemy import text


async def test_the_projects_client(client):
    assert client == "the project's own client"


async def test_the_harness_session(db_session):
    assert await db_session.scalar(text("SELECT 1")) == 1
    assert db_session.in_transaction()
""",
    )
    items_project.makeconftest('pytest_plugins = ["project_fixtures"]')

    result = items_project.runpytest("test_plugin_client.py")

    result.assert_outcomes(passed=2)


def test_fastsuite_loaded_by_a_conftests_pytest_plugins_works(items_project):
    # Not auto-loaded, not -p: listed in the root conftest, which pytest loads after the place
    # of the fixtures would have been taken.
    ini = (items_project.path / "pytest.ini").read_text()
    (items_project.path / "pytest.ini").write_text(
        "\n".join(line for line in ini.splitlines() if not line.startswith("addopts"))
    )
    items_project.makeconftest('pytest_plugins = ["pytest_asyncio.plugin", "fastsuite.plugin"]')
    items_project.makepyfile(
        test_listed="""
from sqlalchemy import text


async def test_the_harness_serves(client, db_session):
    assert await db_session.scalar(text("SELECT 1")) == 1
    assert (await client.get("/items")).status_code == 200
"""
    )

    result = items_project.runpytest("test_listed.py")

    result.assert_outcomes(passed=1)
