"""--fastsuite-drift: the checks catch migrations and models that tell different stories."""

from __future__ import annotations

import pytest
from postgresql_server import (
    POSTGRESQL_URL,
    database_of_its_own,
    databases_made_beside,
    requires_postgresql,
    url_with,
)

DATABASES = {
    "sqlite": [],
    "postgresql": pytest.param(
        [f"--fastsuite-db-url={POSTGRESQL_URL}"], marks=[requires_postgresql, pytest.mark.slow]
    ),
}
CHECKS = [
    "test_single_head",
    "test_upgrade_from_empty_to_head",
    "test_models_match_migrations",
    "test_downgrades_undo_upgrades",
]
PROBE = """
def test_probe():
    pass
"""

NOTES = """
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"


def upgrade():
    op.create_table(
        "notes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(["author_id"], ["authors.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade():
{downgrade}
"""
# A downgrade that forgets its table, and one that changes what its upgrade never touched.
KEEPS_THE_TABLE = "    pass"
ADDS_AN_INDEX = """    op.drop_table("notes")
    op.create_index("ix_authors_name", "authors", ["name"])"""

SECOND_HEAD = """
revision = "0003"
down_revision = "0001"


def upgrade():
    pass


def downgrade():
    pass
"""


@pytest.fixture
def notes_project(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.copy_example("notes_app")
    pytester.makepyfile(test_probe=PROBE)
    return pytester


@pytest.mark.parametrize("database", DATABASES.values(), ids=DATABASES.keys())
def test_drift_checks_pass_when_migrations_match_the_models(notes_project, database):
    result = notes_project.runpytest("-v", "--fastsuite-drift", *database)

    result.assert_outcomes(passed=5)
    result.stdout.fnmatch_lines([f"*fastsuite-drift::{check} PASSED*" for check in CHECKS])


@pytest.mark.parametrize("database", DATABASES.values(), ids=DATABASES.keys())
def test_drift_check_names_the_table_the_migrations_forgot(notes_project, database):
    (notes_project.path / "migrations" / "versions" / "0002_notes.py").unlink()

    result = notes_project.runpytest("--fastsuite-drift", *database)

    result.assert_outcomes(passed=4, failed=1)
    result.stdout.fnmatch_lines(
        [
            "fastsuite drift: the schema the migrations build (fastsuite_alembic_config = "
            "alembic.ini (ini)) differs from the models (fastsuite_metadata = notes_app:Base "
            "(ini)):",
            "  - table 'notes' is in the models, but no migration creates it",
            "*op.create_table('notes',*",
            "FAILED *fastsuite-drift::test_models_match_migrations*",
        ]
    )


def test_drift_check_names_a_column_the_migrations_forgot(notes_project):
    migration = notes_project.path / "migrations" / "versions" / "0002_notes.py"
    migration.write_text(
        migration.read_text().replace(
            'sa.Column("text", sa.String(length=200), nullable=False),', ""
        )
    )

    result = notes_project.runpytest("--fastsuite-drift")

    result.assert_outcomes(passed=4, failed=1)
    result.stdout.fnmatch_lines(
        ["  - column notes.text is in the models, but no migration adds it", "*op.add_column*"]
    )


@pytest.mark.parametrize("database", DATABASES.values(), ids=DATABASES.keys())
def test_drift_check_catches_a_downgrade_that_leaves_its_table(notes_project, database):
    migration = notes_project.path / "migrations" / "versions" / "0002_notes.py"
    migration.write_text(NOTES.format(downgrade=KEEPS_THE_TABLE))

    result = notes_project.runpytest("--fastsuite-drift", *database)

    result.assert_outcomes(passed=4, failed=1)
    result.stdout.fnmatch_lines(
        [
            "fastsuite drift: alembic upgrade 0002 failed after downgrading it (its downgrade() "
            "leaves something behind): *notes*already exists*",
            "FAILED *fastsuite-drift::test_downgrades_undo_upgrades*",
        ]
    )


@pytest.mark.parametrize("database", DATABASES.values(), ids=DATABASES.keys())
def test_drift_check_catches_a_downgrade_that_changes_the_schema(notes_project, database):
    migration = notes_project.path / "migrations" / "versions" / "0002_notes.py"
    migration.write_text(NOTES.format(downgrade=ADDS_AN_INDEX))

    result = notes_project.runpytest("--fastsuite-drift", *database)

    result.assert_outcomes(passed=4, failed=1)
    result.stdout.fnmatch_lines(
        [
            "fastsuite drift: downgrading revision 0002 and upgrading again does not give back "
            "the same schema; its downgrade() does not undo its upgrade():",
            "  - authors indexes: * before, *('ix_authors_name', ('name',), False)] after",
        ]
    )


def test_drift_check_catches_two_heads(notes_project):
    (notes_project.path / "migrations" / "versions" / "0003_other.py").write_text(SECOND_HEAD)

    result = notes_project.runpytest("--fastsuite-drift", "-k", "single_head")

    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "fastsuite drift: the migrations (fastsuite_alembic_config = alembic.ini (ini)) have "
            "2 heads (*); expected exactly one. Merge them: alembic merge heads -m 'merge'."
        ]
    )


def test_drift_checks_enabled_in_the_ini_join_folder_runs_only(notes_project):
    ini = notes_project.path / "pytest.ini"
    ini.write_text(ini.read_text() + "fastsuite_drift_checks = true\n")

    folder_run = notes_project.runpytest()
    file_run = notes_project.runpytest("test_probe.py")

    folder_run.assert_outcomes(passed=5)
    file_run.assert_outcomes(passed=1)


@pytest.mark.slow
@requires_postgresql
def test_drift_checks_on_postgresql_leave_no_database_behind(notes_project):
    with database_of_its_own() as server_database:
        result = notes_project.runpytest(
            "--fastsuite-drift", f"--fastsuite-db-url={url_with(server_database)}"
        )

        result.assert_outcomes(passed=5)
        assert databases_made_beside(server_database) == set()


def test_drift_checks_name_a_missing_migrations_folder(notes_project):
    (notes_project.path / "alembic.ini").write_text("[alembic]\nscript_location = nowhere\n")

    result = notes_project.runpytest("--fastsuite-drift")

    result.assert_outcomes(passed=1, failed=4)
    result.stdout.fnmatch_lines(
        [
            "fastsuite: fastsuite_alembic_config = alembic.ini (ini): its script_location does not "
            "exist (Path doesn't exist: *nowhere*)*"
        ]
    )
