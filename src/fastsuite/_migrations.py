"""Alembic, driven by the harness: configured from the settings, run on the harness's connection.

The migrations run on the connection the harness hands them, as Alembic's cookbook recipe
"Sharing a Connection across one or more programmatic migration commands" does: the project's
env.py takes it from `config.attributes["connection"]`. So they reach the test database (even
in-memory SQLite, where another connection would be another, empty database) and nothing else.

PYTEST_DONT_REWRITE: fastsuite-warm preloads this module (see fastsuite._warm.learning).
"""

from __future__ import annotations

import importlib.util
import io
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from fastsuite._blocker import ConnectionRefused
from fastsuite._config import Settings
from fastsuite._loop_wait_watch import watching_for_waits_on_the_loop

if TYPE_CHECKING:
    from alembic.config import Config
    from alembic.script import ScriptDirectory


ALEMBIC_MISSING = (
    "fastsuite: {where} needs Alembic, which is not installed. Install it in the test "
    "environment (uv add --dev alembic, or pip install 'fastsuite[migrations]')."
)
NO_ALEMBIC_CONFIG = (
    "fastsuite: {where}: there is no file {path}. Set fastsuite_alembic_config (or "
    "--fastsuite-alembic-config) to the path of your alembic.ini, relative to the rootdir {root}."
)
NO_SCRIPT_LOCATION = (
    "fastsuite: {where}: {problem}. Set script_location in its [alembic] section to your "
    "migrations folder (e.g. script_location = %(here)s/migrations)."
)
NO_ENV_PY = (
    "fastsuite: {where}: the migrations folder {folder} has no env.py. Create it with "
    "`alembic init`, or point script_location at the folder that has it."
)
ENV_IGNORED_CONNECTION = (
    "fastsuite: the migrations of {where} ran, but not on the test database: env.py must use "
    "the connection the harness passes as config.attributes['connection'] when there is one "
    "(Alembic cookbook: 'Sharing a Connection across one or more programmatic migration "
    "commands')."
)
ENV_WAITS_ON_ITS_LOOP = (
    "fastsuite: the migrations of {where} never ran: env.py scheduled them on the event loop "
    "it runs in (asyncio.run_coroutine_threadsafe(..., loop)) and waited for them, which blocks "
    "that loop for good. When config.attributes['connection'] is set, run the migrations on it "
    "directly (Alembic cookbook: 'Sharing a Connection across one or more programmatic "
    "migration commands'); docs/porting.md shows the branch."
)


class MigrationsMissedTheDatabase(pytest.fail.Exception):  # type: ignore[misc, name-defined]
    """env.py did not run the migrations on the test database's connection (it used one of
    its own, or waited on the event loop it runs in).

    Raised in a fixture, it fails the test with its message alone, as `pytest.fail` does.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message, pytrace=False)


@dataclass(frozen=True)
class AlembicSetup:
    """Where the project's Alembic configuration is, and how the setting named it."""

    path: Path
    where: str

    def config(self, connection: Connection | None = None) -> Config:
        """A fresh Alembic Config; env.py gets `connection` and runs the migrations on it."""
        from alembic.config import Config

        quiet = io.StringIO()
        if self.path.suffix == ".toml":
            config = Config(toml_file=self.path, stdout=quiet)
        else:
            config = Config(self.path, stdout=quiet)
        # env.py files written as in Alembic's cookbook leave logging alone when asked.
        config.attributes["configure_logger"] = False
        if connection is not None:
            config.attributes["connection"] = connection
            # An env.py that builds its own engine from sqlalchemy.url reaches the test
            # database's server, never the URL of the project's own settings.
            url = connection.engine.url.render_as_string(hide_password=False)
            config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
        return config

    def script(self) -> ScriptDirectory:
        from alembic.script import ScriptDirectory

        return ScriptDirectory.from_config(self.config())

    def problem(self) -> str | None:
        """What keeps Alembic from running these migrations, or None."""
        from alembic.util import CommandError

        try:
            script = self.script()
        except CommandError as error:
            problem = str(error).rstrip(".")
            if "script_location" not in problem:
                problem = f"its script_location does not exist ({problem})"
            return NO_SCRIPT_LOCATION.format(where=self.where, problem=problem)
        if not (Path(script.dir) / "env.py").is_file():
            return NO_ENV_PY.format(where=self.where, folder=script.dir)
        return None


def load_alembic_setup(settings: Settings, rootdir: Path, *, thorough: bool) -> AlembicSetup:
    """The Alembic setup named by `alembic_config`: Alembic installed, the file there, and
    when `thorough`, its migrations folder and env.py (which costs importing Alembic)."""
    where = settings.describe("alembic_config")
    if importlib.util.find_spec("alembic") is None:
        raise pytest.UsageError(ALEMBIC_MISSING.format(where=where))
    path = rootdir / (settings["alembic_config"] or "alembic.ini")
    if not path.is_file():
        raise pytest.UsageError(NO_ALEMBIC_CONFIG.format(where=where, path=path, root=rootdir))
    setup = AlembicSetup(path, where)
    if thorough and (problem := setup.problem()):
        raise pytest.UsageError(problem)
    return setup


def run_command(
    connection: Connection, setup: AlembicSetup, command: Callable[[Config], Any]
) -> None:
    """Run an Alembic command (`lambda config: alembic.command.upgrade(config, "head")`)."""
    with _logging_preserved(), watching_for_waits_on_the_loop() as watch:
        try:
            command(setup.config(connection))
        except BaseException:
            if not watch.cancelled_a_wait:
                raise
        if watch.cancelled_a_wait:  # also when env.py swallowed the CancelledError
            raise MigrationsMissedTheDatabase(ENV_WAITS_ON_ITS_LOOP.format(where=setup.where))


def current_heads(connection: Connection) -> tuple[str, ...]:
    from alembic.runtime.migration import MigrationContext

    return tuple(MigrationContext.configure(connection).get_current_heads())


async def migrate_to_head(engine: AsyncEngine, setup: AlembicSetup) -> None:
    """Run `alembic upgrade head` on `engine`'s database, in one transaction."""
    from alembic import command

    async with engine.connect() as connection:
        sqlite = engine.dialect.name == "sqlite"
        if sqlite:
            # Batch mode rebuilds tables on SQLite; dropping the old copy of a table must not
            # cascade into the rows that point at it (Alembic's batch documentation).
            await connection.run_sync(sqlite_foreign_keys, False)
        try:
            async with connection.begin():
                try:
                    await connection.run_sync(
                        run_command, setup, lambda config: command.upgrade(config, "head")
                    )
                except RuntimeError as error:
                    if "event loop" not in str(error):
                        raise
                    # env.py went for an engine and an event loop of its own (asyncio.run).
                    message = ENV_IGNORED_CONNECTION.format(where=setup.where)
                    raise MigrationsMissedTheDatabase(f"{message} ({error})") from error
                except ConnectionRefused as error:
                    # env.py's own engine, on another database: the connection blocker said no.
                    message = ENV_IGNORED_CONNECTION.format(where=setup.where)
                    raise MigrationsMissedTheDatabase(f"{message} ({error.url})") from None
                migrated = await connection.run_sync(current_heads)
        finally:
            if sqlite:
                await connection.run_sync(sqlite_foreign_keys, True)
    if not migrated:
        raise MigrationsMissedTheDatabase(ENV_IGNORED_CONNECTION.format(where=setup.where))


def sqlite_foreign_keys(connection: Connection, on: bool) -> None:
    # On the driver's own cursor: through SQLAlchemy the statement would open a transaction
    # first, and SQLite ignores this pragma inside one.
    cursor = connection.connection.cursor()
    cursor.execute(f"PRAGMA foreign_keys = {'ON' if on else 'OFF'}")
    cursor.close()


@contextmanager
def _logging_preserved() -> Iterator[None]:
    """Undo what an env.py's `fileConfig()` does to logging (pytest's capture included)."""
    manager = logging.Logger.manager
    loggers = [logging.getLogger(), *manager.loggerDict.values()]
    saved = [
        (logger, logger.disabled, logger.level, list(logger.handlers), logger.propagate)
        for logger in loggers
        if isinstance(logger, logging.Logger)
    ]
    try:
        yield
    finally:
        for logger, disabled, level, handlers, propagate in saved:
            logger.disabled = disabled
            logger.level = level
            logger.handlers[:] = handlers
            logger.propagate = propagate
