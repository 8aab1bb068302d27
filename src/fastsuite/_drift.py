"""Drift checks: the migrations and the models tell the same story (enabled by --fastsuite-drift).

Four test items, as pytest-alembic's `--test-alembic` adds: one head; upgrade from an empty
database to head; the schema at head equals the models' metadata; every downgrade runs and
upgrading again gives back the same schema. Each runs on a scratch database of its own, never
on the test database, and fails with what differs, not just "mismatch".

PYTEST_DONT_REWRITE: fastsuite-warm preloads this module (see fastsuite._warm.learning).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Iterable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Identity, MetaData, inspect
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from fastsuite._config import settings_key
from fastsuite._migrations import AlembicSetup, current_heads, run_command, sqlite_foreign_keys
from fastsuite._provision import run_state, scratch_database
from fastsuite._sqlite_keys import same_integer_key

NODE_PREFIX = "fastsuite-drift"
MIGRATIONS_DIFFER = (
    "fastsuite drift: the schema the migrations build ({alembic}) differs from the models "
    "({metadata}):\n{differences}\n\nThe operations `alembic revision --autogenerate` would "
    "write to make them agree:\n{operations}\n\nWrite that migration (review it), or change "
    "the models back."
)


class DriftFailure(Exception):
    """A drift check found a difference; its message says which."""


class DriftCheck(pytest.Item):
    """One drift check, run on a scratch database."""

    def __init__(
        self, *, check: Callable[[DriftCheck], None], alembic: AlembicSetup, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.check = check
        self.alembic = alembic

    def runtest(self) -> None:
        problem = self.alembic.problem()
        if problem is not None:
            raise DriftFailure(problem)
        self.check(self)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> Any:
        if isinstance(excinfo.value, DriftFailure):
            return str(excinfo.value)
        return super().repr_failure(excinfo)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.alembic.path, None, f"[{NODE_PREFIX}] {self.name}"

    @property
    def metadata(self) -> MetaData:
        state = run_state(self.config)
        assert state is not None
        return state.schema.metadata

    def on_scratch_database(self, work: Callable[[Connection], None]) -> None:
        """Run `work` on a connection to a new, empty database (in its own event loop)."""

        async def run() -> None:
            async with scratch_database(self.config) as engine:
                await _run_on(engine, work)

        _run_in_new_loop(run())

    def migrate(
        self, connection: Connection, direction: str, revision: str, *, hint: str = ""
    ) -> None:
        """`alembic upgrade|downgrade <revision>` on `connection`; a failure names the step."""
        from alembic import command

        run = getattr(command, direction)
        try:
            run_command(connection, self.alembic, lambda config: run(config, revision))
        except Exception as error:
            raise DriftFailure(
                f"fastsuite drift: alembic {direction} {revision} failed{hint}: "
                f"{type(error).__name__}: {error}"
            ) from error


class DriftChecks(pytest.Collector):
    """The drift checks, collected beside the first file of the first folder the run collects."""

    def __init__(self, *, alembic: AlembicSetup, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.alembic = alembic

    def collect(self) -> list[pytest.Item]:
        return [
            DriftCheck.from_parent(self, name=name, check=check, alembic=self.alembic)
            for name, check in CHECKS.items()
        ]


_collected_key = pytest.StashKey[bool]()


def drift_collector(file_path: Path, parent: pytest.Collector) -> DriftChecks | None:
    """The drift checks' collector, once per run, when enabled (pytest_collect_file).

    They join runs that collect a folder (`pytest`, `pytest tests/`), not runs of chosen files
    or tests, which should start fast.
    """
    config = parent.config
    state = run_state(config)
    if state is None or state.alembic is None or config.stash.get(_collected_key, False):
        return None
    if not config.stash[settings_key].flag("drift_checks"):
        return None
    folders = [config.invocation_params.dir / arg.split("::")[0] for arg in config.args]
    if not any(folder.is_dir() and file_path.is_relative_to(folder) for folder in folders):
        return None
    config.stash[_collected_key] = True
    return DriftChecks.from_parent(parent, name=NODE_PREFIX, alembic=state.alembic)


def check_single_head(item: DriftCheck) -> None:
    heads = item.alembic.script().get_heads()
    if len(heads) != 1:
        raise DriftFailure(
            f"fastsuite drift: the migrations ({item.alembic.where}) have {len(heads)} heads"
            f" ({', '.join(heads) or 'no migration at all'}); expected exactly one. "
            + (
                "Merge them: alembic merge heads -m 'merge'."
                if heads
                else "Write the first one: alembic revision --autogenerate -m 'baseline'."
            )
        )


def check_upgrade(item: DriftCheck) -> None:
    """Upgrade an empty database to head, one revision at a time, naming the one that fails."""
    revisions = [r.revision for r in reversed(list(item.alembic.script().walk_revisions()))]

    def upgrade_each(connection: Connection) -> None:
        for revision in revisions:
            item.migrate(connection, "upgrade", revision)

    item.on_scratch_database(upgrade_each)


def check_models_match_migrations(item: DriftCheck) -> None:
    def compare(connection: Connection) -> None:
        item.migrate(connection, "upgrade", "head")
        differences, operations = _differences(connection, item.metadata)
        if differences:
            settings = item.config.stash[settings_key]
            raise DriftFailure(
                MIGRATIONS_DIFFER.format(
                    alembic=item.alembic.where,
                    metadata=settings.describe("metadata"),
                    differences="\n".join(f"  - {line}" for line in differences),
                    operations=operations,
                )
            )

    item.on_scratch_database(compare)


def check_downgrades(item: DriftCheck) -> None:
    """From head down to base: each downgrade runs, and upgrading again gives the same schema."""

    def down_and_up(connection: Connection) -> None:
        item.migrate(connection, "upgrade", "head")
        while heads := current_heads(connection):
            head = heads[0]
            before = _schema_snapshot(connection)
            item.migrate(connection, "downgrade", f"{head}-1")
            hint = " after downgrading it (its downgrade() leaves something behind)"
            item.migrate(connection, "upgrade", head, hint=hint)
            after = _schema_snapshot(connection)
            if after != before:
                raise DriftFailure(
                    f"fastsuite drift: downgrading revision {head} and upgrading again does not "
                    f"give back the same schema; its downgrade() does not undo its upgrade():\n"
                    + "\n".join(_snapshot_differences(before, after))
                )
            item.migrate(connection, "downgrade", f"{head}-1")

    item.on_scratch_database(down_and_up)


CHECKS: dict[str, Callable[[DriftCheck], None]] = {
    "test_single_head": check_single_head,
    "test_upgrade_from_empty_to_head": check_upgrade,
    "test_models_match_migrations": check_models_match_migrations,
    "test_downgrades_undo_upgrades": check_downgrades,
}


def _differences(connection: Connection, metadata: MetaData) -> tuple[list[str], str]:
    """What autogenerate finds between the database and `metadata`: described, and as code."""
    from alembic.autogenerate import produce_migrations, render_python_code
    from alembic.runtime.migration import MigrationContext

    context = MigrationContext.configure(connection, opts={"compare_type": _compare_type})
    script = produce_migrations(context, metadata)
    assert script.upgrade_ops is not None
    if connection.dialect.name == "sqlite":
        _drop_identity_changes(script.upgrade_ops)
    diffs = script.upgrade_ops.as_diffs()
    return [_describe(diff) for diff in diffs], render_python_code(script.upgrade_ops)


def _drop_identity_changes(upgrade_ops: Any) -> None:
    """SQLite has no identity columns: a model's Identity() can never be found there, yet
    Alembic before 1.18 reports it as a changed default. Not a difference."""
    from alembic.operations.ops import AlterColumnOp

    for table_ops in list(upgrade_ops.ops):
        column_ops = getattr(table_ops, "ops", None)
        if column_ops is None:
            continue
        for op in list(column_ops):
            if isinstance(op, AlterColumnOp) and isinstance(op.modify_server_default, Identity):
                op.modify_server_default = False
                if not op.has_changes():
                    column_ops.remove(op)
        if not column_ops:
            upgrade_ops.ops.remove(table_ops)


def _compare_type(
    context: Any, _inspected: Any, metadata_column: Any, inspected_type: Any, _metadata_type: Any
) -> bool | None:
    """Alembic's type comparison (None), except for the integer keys the harness declares
    INTEGER on SQLite."""
    if context.dialect.name == "sqlite" and same_integer_key(inspected_type, metadata_column):
        return False
    return None


def _describe(diff: Any) -> str:
    """One autogenerate difference in words, with the table and column names."""
    if isinstance(diff, list):  # column modifications come grouped per column
        return "; ".join(_describe(part) for part in diff)
    kind, *rest = diff
    if kind == "add_table":
        return f"table {rest[0].name!r} is in the models, but no migration creates it"
    if kind == "remove_table":
        return f"table {rest[0].name!r} is created by the migrations, but not in the models"
    if kind in ("add_column", "remove_column"):
        _schema, table, column = rest
        where = (
            "in the models, but no migration adds it"
            if kind == "add_column"
            else ("added by the migrations, but not in the models")
        )
        return f"column {table}.{column.name} is {where}"
    if kind.startswith("modify_"):
        _schema, table, column, _info, old, new = rest
        what = kind.removeprefix("modify_")
        return f"column {table}.{column} {what}: {old!r} in the migrations, {new!r} in the models"
    if kind in ("add_index", "remove_index", "add_constraint", "remove_constraint"):
        target = rest[0]
        table = getattr(getattr(target, "table", None), "name", "?")
        columns = ", ".join(column.name for column in getattr(target, "columns", ()))
        return f"{kind.replace('_', ' ')} {target.name!r} on {table} ({columns})"
    if kind in ("add_fk", "remove_fk"):
        target = rest[0]
        columns = ", ".join(column.name for column in target.columns)
        return f"{kind.replace('_', ' ')} on {target.table.name} ({columns})"
    return " ".join(str(part) for part in diff)


def _schema_snapshot(connection: Connection) -> dict[str, dict[str, Any]]:
    """The database's schema as plain data, the version table left out."""
    inspector = inspect(connection)
    snapshot = {}
    for table in inspector.get_table_names():
        if table == "alembic_version":
            continue
        snapshot[table] = {
            "columns": [
                (c["name"], str(c["type"].compile(connection.dialect)), c["nullable"])
                for c in inspector.get_columns(table)
            ],
            "primary key": inspector.get_pk_constraint(table).get("constrained_columns"),
            "foreign keys": sorted(
                (fk.get("name") or "", tuple(fk["constrained_columns"]), fk["referred_table"])
                for fk in inspector.get_foreign_keys(table)
            ),
            "indexes": sorted(
                (ix.get("name") or "", tuple(map(str, ix["column_names"])), bool(ix["unique"]))
                for ix in inspector.get_indexes(table)
            ),
            "unique constraints": sorted(
                (uq.get("name") or "", tuple(uq["column_names"]))
                for uq in inspector.get_unique_constraints(table)
            ),
        }
    return snapshot


def _snapshot_differences(
    before: dict[str, dict[str, Any]], after: dict[str, dict[str, Any]]
) -> Iterable[str]:
    for table in sorted(before.keys() | after.keys()):
        if table not in after:
            yield f"  - table {table!r} is gone"
        elif table not in before:
            yield f"  - table {table!r} is new"
        else:
            for part, was in before[table].items():
                if after[table][part] != was:
                    yield f"  - {table} {part}: {was} before, {after[table][part]} after"


async def _run_on(engine: AsyncEngine, work: Callable[[Connection], None]) -> None:
    async with engine.connect() as connection:
        sqlite = engine.dialect.name == "sqlite"
        if sqlite:  # as when the migrations build the test database
            await connection.run_sync(sqlite_foreign_keys, False)
        await connection.run_sync(work)
        await connection.commit()


def _run_in_new_loop(coroutine: Coroutine[Any, Any, None]) -> None:
    # A loop of the check's own, never installed as the current one: the tests' session loop
    # (pytest-asyncio's) stays as it was.
    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(coroutine)
    finally:
        loop.close()
