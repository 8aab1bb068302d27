"""Bad database and Alembic settings stop the run at start with one line: the setting, where
its value came from, and the fix; no traceback, and no database left behind."""

from __future__ import annotations

import socket
import struct
import threading
from collections.abc import Iterator

import pytest
from postgresql_server import (
    database_of_its_own,
    databases_made_beside,
    requires_postgresql,
    url_with,
)

PROBE = """
async def test_probe(db_session):
    pass
"""

BROKEN_MIGRATION = """
revision = "0003"
down_revision = "0002"


def upgrade():
    raise ValueError("this migration is broken")


def downgrade():
    pass
"""


@pytest.fixture
def notes_project(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.copy_example("notes_app")
    pytester.makepyfile(test_probe=PROBE)
    return pytester


def assert_stopped_with_one_line(result: pytest.RunResult, line: str) -> None:
    """The run stopped at start (usage error) with `line` as its only error, no traceback."""
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    errors = [text for text in result.errlines if text.startswith("ERROR:")]
    assert len(errors) == 1, result.errlines
    result.stderr.fnmatch_lines([f"ERROR: {line}"])
    assert "Traceback" not in result.stderr.str() + result.stdout.str()
    assert "INTERNALERROR" not in result.stderr.str() + result.stdout.str()


def test_a_database_whose_name_lacks_test_is_refused_before_any_connection(notes_project):
    # Port 1: had the harness tried to connect, it would have said it cannot reach the server.
    url = "postgresql+asyncpg://app:secret@127.0.0.1:1/production"

    result = notes_project.runpytest(f"--fastsuite-db-url={url}")

    assert_stopped_with_one_line(
        result,
        "fastsuite: refusing --fastsuite-db-url=postgresql+asyncpg://app:***@127.0.0.1:1/"
        "production: the database name 'production' does not contain 'test', so nothing shows "
        "it is a test database*pass --fastsuite-allow-non-test-db*",
    )
    assert "secret" not in result.stderr.str()


def test_a_sqlite_file_whose_name_lacks_test_is_refused(notes_project, monkeypatch):
    monkeypatch.setenv("FASTSUITE_DB_URL", "sqlite+aiosqlite:///app.db")

    result = notes_project.runpytest()

    assert_stopped_with_one_line(
        result,
        "fastsuite: refusing FASTSUITE_DB_URL=sqlite+aiosqlite:///app.db (environment): the "
        "database name 'app.db' does not contain 'test'*(e.g. 'app_test.db')*",
    )
    assert not (notes_project.path / "app.db").exists()


@requires_postgresql
def test_the_explicit_option_lets_a_non_test_database_name_through(notes_project):
    with database_of_its_own(suffix="_app") as server_database:
        result = notes_project.runpytest(
            f"--fastsuite-db-url={url_with(server_database)}", "--fastsuite-allow-non-test-db"
        )

        result.assert_outcomes(passed=1)
        assert databases_made_beside(server_database) == set()


def test_an_unreachable_server_is_named(notes_project):
    result = notes_project.runpytest("--fastsuite-db-url=postgresql+asyncpg://u@127.0.0.1:1/test")

    assert_stopped_with_one_line(
        result,
        "fastsuite: cannot reach the PostgreSQL server of --fastsuite-db-url=postgresql+asyncpg:"
        "//u@127.0.0.1:1/test (*Connect call failed*). Start the server, or fix the host and "
        "port in the URL*",
    )


@pytest.fixture
def server_refusing_every_password() -> Iterator[int]:
    """A server speaking just enough of PostgreSQL's protocol to refuse the password."""
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def refuse(connection: socket.socket) -> None:
        with connection:
            length, code = struct.unpack("!ii", connection.recv(8))
            if code == 80877103:  # SSLRequest: no SSL here
                connection.sendall(b"N")
                length = struct.unpack("!i", connection.recv(4))[0]
                connection.recv(length - 4)
            else:
                connection.recv(length - 8)
            fields = b'SFATAL\0VFATAL\0C28P01\0Mpassword authentication failed for user "app"\0\0'
            connection.sendall(b"E" + struct.pack("!i", len(fields) + 4) + fields)

    def serve() -> None:
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            refuse(connection)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield port
    # close() alone does not wake a thread blocked in accept(); shutdown() does, at once.
    listener.shutdown(socket.SHUT_RDWR)
    listener.close()
    thread.join(timeout=5)


def test_a_wrong_password_is_named(notes_project, server_refusing_every_password):
    port = server_refusing_every_password
    url = f"postgresql+asyncpg://app:wrong@127.0.0.1:{port}/app_test"

    result = notes_project.runpytest(f"--fastsuite-db-url={url}")

    assert_stopped_with_one_line(
        result,
        f"fastsuite: the PostgreSQL server refused the login of --fastsuite-db-url=postgresql+"
        f"asyncpg://app:***@127.0.0.1:{port}/app_test (InvalidPasswordError: password "
        f'authentication failed for user "app"). Fix the user name or the password in the URL*',
    )


@pytest.mark.slow
def test_a_missing_driver_is_named(notes_project):
    # As if asyncpg were not installed: importing it fails.
    notes_project.makeconftest('import sys\nsys.modules["asyncpg"] = None\n')

    result = notes_project.runpytest_subprocess(
        "--fastsuite-db-url=postgresql+asyncpg://u@127.0.0.1:1/test"
    )

    assert_stopped_with_one_line(
        result,
        "fastsuite: --fastsuite-db-url=postgresql+asyncpg://u@127.0.0.1:1/test: its driver "
        "'asyncpg' is not installed. Install it in the test environment (uv add --dev asyncpg, "
        "or pip install 'fastsuite[postgresql]').",
    )


def test_a_sync_driver_is_named(notes_project):
    result = notes_project.runpytest("--fastsuite-db-url=sqlite:///app_test.db")

    assert_stopped_with_one_line(
        result,
        "fastsuite: --fastsuite-db-url=sqlite:///app_test.db: the driver 'sqlite' is not async*"
        "Use an async driver: sqlite+aiosqlite:///app_test.db.",
    )


def test_a_sync_driver_that_is_not_installed_is_named_as_sync_first(notes_project):
    # psycopg2 is not installed here: "install psycopg2" would send the user the wrong way.
    url = "postgresql+psycopg2://app:secret@127.0.0.1:1/app_test"

    result = notes_project.runpytest(f"--fastsuite-db-url={url}")

    assert_stopped_with_one_line(
        result,
        "fastsuite: --fastsuite-db-url=postgresql+psycopg2://app:***@127.0.0.1:1/app_test: the "
        "driver 'postgresql+psycopg2' is not async, and the harness runs the app's async "
        "SQLAlchemy code. Use an async driver: "
        "postgresql+asyncpg://app:***@127.0.0.1:1/app_test.",
    )


def test_a_missing_alembic_config_is_named(notes_project):
    result = notes_project.runpytest(
        "--fastsuite-schema=migrations", "--fastsuite-alembic-config=db/alembic.ini"
    )

    assert_stopped_with_one_line(
        result,
        "fastsuite: --fastsuite-alembic-config=db/alembic.ini: there is no file */db/alembic.ini."
        " Set fastsuite_alembic_config (or --fastsuite-alembic-config) to the path of your "
        "alembic.ini, relative to the rootdir *",
    )


def test_a_missing_migrations_folder_is_named(notes_project):
    (notes_project.path / "alembic.ini").write_text("[alembic]\nscript_location = nowhere\n")

    result = notes_project.runpytest("--fastsuite-schema=migrations")

    assert_stopped_with_one_line(
        result,
        "fastsuite: fastsuite_alembic_config = alembic.ini (ini): its script_location does not "
        "exist (Path doesn't exist: *nowhere*). Set script_location in its [[]alembic[]] section "
        "to your migrations folder*",
    )


@requires_postgresql
def test_a_missing_database_is_named(notes_project):
    result = notes_project.runpytest(f"--fastsuite-db-url={url_with('no_such_test_db')}")

    assert_stopped_with_one_line(
        result,
        "fastsuite: --fastsuite-db-url=*/no_such_test_db: the database 'no_such_test_db' does "
        "not exist. fastsuite connects to it only to create its own test databases beside it: "
        "create it (createdb no_such_test_db)*",
    )


@requires_postgresql
def test_a_failing_migration_leaves_no_database_behind(notes_project):
    versions = notes_project.path / "migrations" / "versions"
    (versions / "0003_broken.py").write_text(BROKEN_MIGRATION)

    with database_of_its_own() as server_database:
        result = notes_project.runpytest(
            f"--fastsuite-db-url={url_with(server_database)}", "--fastsuite-schema=migrations"
        )
        made = databases_made_beside(server_database)

    assert_stopped_with_one_line(
        result,
        "fastsuite: building the test database's schema from fastsuite_alembic_config = "
        "alembic.ini (ini) failed at */0003_broken.py:7: ValueError: this migration is broken. "
        "fastsuite removed the database it was building.",
    )
    assert made == set()


POSTGRESQL_TYPES_APP = """
from fastapi import FastAPI
from sqlalchemy import JSON, Integer
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Doc(Base):
    __tablename__ = "docs"

    id: Mapped[int] = mapped_column(primary_key=True)
    tags: Mapped[list[int]] = mapped_column(ARRAY(Integer))
    body: Mapped[dict] = mapped_column(JSONB)
    meta: Mapped[dict] = mapped_column(JSONB().with_variant(JSON(), "sqlite"))


app = FastAPI()


async def get_session():
    yield None
"""


def test_column_types_sqlite_cannot_run_stop_the_run_naming_each(pytester):
    pytester.makepyfile(docs_app=POSTGRESQL_TYPES_APP, test_docs=PROBE)
    pytester.makeini(
        "[pytest]\nasyncio_mode = auto\n"
        "addopts = -p pytest_asyncio.plugin -p fastsuite\n"
        "fastsuite_app = docs_app:app\nfastsuite_metadata = docs_app:Base\n"
        "fastsuite_session_dependency = docs_app:get_session\n"
    )

    result = pytester.runpytest()

    assert_stopped_with_one_line(
        result,
        "fastsuite: docs.tags (ARRAY(Integer())), docs.body (JSONB(astext_type=Text())): SQLite "
        "cannot run these column types (fastsuite_metadata = docs_app:Base (ini)). Give each a "
        'SQLite variant (e.g. `JSONB().with_variant(JSON(), "sqlite")`) and mark the tests that '
        "need the PostgreSQL behaviour @pytest.mark.postgresql_only, or run the suite on "
        "PostgreSQL (--fastsuite-db-url=postgresql+asyncpg://.../app_test).",
    )


CLIENT_PROBE = """
async def test_probe(client):
    pass


async def test_second_probe(client):
    pass
"""


def test_a_session_dependency_the_app_never_uses_stops_the_run(items_project):
    items_project.makepyfile(test_probe=CLIENT_PROBE)

    # Without fastsuite_sessionmaker: the harness overrides the dependency, and only that.
    result = items_project.runpytest(
        "-o",
        "fastsuite_session_dependency=items_app:make_lifespan",
        "-o",
        "fastsuite_sessionmaker=",
    )

    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stdout.fnmatch_lines(
        [
            "!*Exit: fastsuite: fastsuite_session_dependency = items_app:make_lifespan (ini): no "
            "route of the app depends on items_app:make_lifespan, so the tests would not reach the "
            "app's database through it. The app's routes depend on items_app:get_session, which "
            "yields a session: set fastsuite_session_dependency to it. !*"
        ]
    )
    result.assert_outcomes()  # stopped before any test ran
    assert not (items_project.path / "never-touched-by-tests.db").exists()


NO_SESSION_APP = """
from fastapi import Depends, FastAPI
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    pass


def get_settings():
    return {}


def unrelated():
    return None


app = FastAPI()


@app.get("/settings")
async def settings(values=Depends(get_settings)):
    return values
"""


def test_when_no_session_dependency_is_found_the_message_says_what_to_set(pytester):
    pytester.makepyfile(plain_app=NO_SESSION_APP, test_probe=CLIENT_PROBE)
    pytester.makeini(
        "[pytest]\nasyncio_mode = auto\n"
        "addopts = -p pytest_asyncio.plugin -p fastsuite\n"
        "fastsuite_app = plain_app:app\nfastsuite_metadata = plain_app:Base\n"
        "fastsuite_session_dependency = plain_app:unrelated\n"
    )

    result = pytester.runpytest()

    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stdout.fnmatch_lines(
        [
            "!*Exit: fastsuite: fastsuite_session_dependency = plain_app:unrelated (ini): no "
            "route of the app depends on plain_app:unrelated, so the tests would not reach the "
            "app's database through it. Set fastsuite_session_dependency to the dependency "
            "(module:attr) that yields the AsyncSession the app's routes use. !*"
        ]
    )


ROUTER_APP = """
from collections.abc import AsyncIterator

from fastapi import APIRouter, Depends, FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Item(Base):
    __tablename__ = "item"
    id: Mapped[int] = mapped_column(primary_key=True)


SessionLocal = async_sessionmaker(create_async_engine("sqlite+aiosqlite:///never-touched.db"))


async def get_session() -> AsyncIterator[AsyncSession]:
    async with SessionLocal() as session:
        yield session


router = APIRouter()


@router.get("/items")
async def items(session: AsyncSession = Depends(get_session)):
    return list((await session.scalars(select(Item.id))).all())


def get_settings():
    return {"name": "items"}


app = FastAPI()
app.include_router(router, prefix="/api")


@app.get("/settings")
async def settings(values=Depends(get_settings)):
    return values
"""

ROUTER_PROBE = """
async def test_the_included_router_serves_the_test_database(client):
    response = await client.get("/api/items")
    assert response.status_code == 200
    assert response.json() == []
"""


def test_a_session_dependency_used_only_in_an_included_router_is_found(pytester):
    # Recent FastAPI keeps an included router in app.routes instead of copying its routes.
    pytester.makepyfile(router_app=ROUTER_APP, test_probe=ROUTER_PROBE)
    pytester.makeini(
        "[pytest]\nasyncio_mode = auto\n"
        "addopts = -p pytest_asyncio.plugin -p fastsuite\n"
        "fastsuite_app = router_app:app\nfastsuite_metadata = router_app:Base\n"
        "fastsuite_session_dependency = router_app:get_session\n"
    )

    result = pytester.runpytest()

    result.assert_outcomes(passed=1)
    assert not (pytester.path / "never-touched.db").exists()
