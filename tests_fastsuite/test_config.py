"""Configuration: resolved once (option, then environment, then ini), shown in the header,
and a bad value stops the run with a UsageError naming the key, the value and what was expected.
"""

from __future__ import annotations

import pytest

PROBE = """
def test_probe():
    pass
"""

CLIENT_PROBE = """
async def test_client_serves_the_app(client):
    response = await client.get("/greeting")
    assert response.json() == "hello"
"""


def test_report_header_shows_each_value_and_its_source(items_project):
    items_project.makepyfile(test_header_probe=PROBE)

    result = items_project.runpytest("--fastsuite-sqlite-driver=aiosqlite")

    result.assert_outcomes(passed=1)
    # The project's own pytest.ini is the one read, not this repository's pyproject.toml.
    result.stdout.fnmatch_lines(
        [
            "fastsuite:",
            "  app: items_app:app (ini)",
            "  metadata: items_app:Base (ini)",
            "  session_dependency: items_app:get_session (ini)",
            "  sessionmaker: items_app:SessionLocal (ini)",
            "  db_url: sqlite in-memory (default)",
            "  schema: metadata (default)",
            "  sqlite_driver: aiosqlite (option)",
            "rootdir: *",
            "configfile: pytest.ini",
        ]
    )


DRIVER_PROBE = """
async def test_engine_uses_the_resolved_driver(db_engine):
    assert db_engine.url.drivername == {drivername!r}
"""


@pytest.mark.parametrize(
    ("ini", "env", "option", "shown", "drivername"),
    [
        (None, None, None, "loop (default)", "sqlite+fastsuite_loop"),
        ("aiosqlite", None, None, "aiosqlite (ini)", "sqlite+aiosqlite"),
        ("aiosqlite", "loop", None, "loop (env)", "sqlite+fastsuite_loop"),
        ("loop", "aiosqlite", None, "aiosqlite (env)", "sqlite+aiosqlite"),
        ("aiosqlite", "loop", "aiosqlite", "aiosqlite (option)", "sqlite+aiosqlite"),
        ("loop", "aiosqlite", "loop", "loop (option)", "sqlite+fastsuite_loop"),
    ],
)
def test_option_beats_environment_beats_ini(
    items_project, monkeypatch, ini, env, option, shown, drivername
):
    items_project.makepyfile(test_driver_probe=DRIVER_PROBE.format(drivername=drivername))
    args = []
    if ini is not None:
        args += ["-o", f"fastsuite_sqlite_driver={ini}"]
    if env is not None:
        monkeypatch.setenv("FASTSUITE_SQLITE_DRIVER", env)
    if option is not None:
        args.append(f"--fastsuite-sqlite-driver={option}")

    result = items_project.runpytest(*args)

    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines([f"  sqlite_driver: {shown}"])


def test_db_url_option_beats_environment(items_project, monkeypatch):
    items_project.makepyfile(test_db_url_probe=PROBE)
    monkeypatch.setenv("FASTSUITE_DB_URL", "sqlite+aiosqlite://")

    from_env = items_project.runpytest()
    from_option = items_project.runpytest("--fastsuite-db-url=sqlite://")

    from_env.stdout.fnmatch_lines(["  db_url: sqlite in-memory (env)"])
    from_option.stdout.fnmatch_lines(["  db_url: sqlite in-memory (option)"])


def test_app_factory_is_accepted(items_project):
    items_project.makepyfile(test_factory_probe=CLIENT_PROBE)

    result = items_project.runpytest("-o", "fastsuite_app=items_app:create_app")

    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["  app: items_app:create_app (ini)"])


APP = "a FastAPI app or a factory returning one"
METADATA = "a SQLAlchemy MetaData or declarative base (or a list of them)"
DEPENDENCY = "the app's session dependency (a callable)"
SESSIONMAKER = "an async_sessionmaker or a function returning one"


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        pytest.param(
            "fastsuite_app",
            "no_such_module:app",
            "cannot import module 'no_such_module' (No module named 'no_such_module')*",
            id="module-does-not-import",
        ),
        pytest.param(
            "fastsuite_app",
            "items_app:nope",
            f"module 'items_app' has no attribute 'nope'; expected {APP}.",
            id="app-attribute-missing",
        ),
        pytest.param(
            "fastsuite_metadata",
            "items_app:Base.nope",
            f"module 'items_app' has no attribute 'Base.nope'; expected {METADATA}.",
            id="metadata-attribute-missing",
        ),
        pytest.param(
            "fastsuite_app",
            "items_app.app",
            f'expected "module:attr" of {APP}, e.g. "myapp.main:app".',
            id="no-colon",
        ),
        pytest.param(
            "fastsuite_session_dependency",
            "items_app:",
            f'expected "module:attr" of {DEPENDENCY}, e.g. "myapp.db:get_session".',
            id="no-attribute",
        ),
        pytest.param(
            "fastsuite_metadata",
            ":Base",
            f'expected "module:attr" of {METADATA}, e.g. "myapp.models:Base".',
            id="no-module",
        ),
        pytest.param(
            "fastsuite_sessionmaker",
            "items_app.SessionLocal",
            f'expected "module:attr" of {SESSIONMAKER}, e.g. "myapp.db:SessionLocal".',
            id="sessionmaker-no-colon",
        ),
    ],
)
def test_bad_import_path_stops_the_run_naming_key_value_and_expectation(
    items_project, key, value, message
):
    items_project.makepyfile(test_bad_path_probe=PROBE)

    result = items_project.runpytest("-o", f"{key}={value}")

    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"ERROR: fastsuite: {key} = {value} (ini)*: {message}"])


@pytest.mark.parametrize(
    ("key", "value", "shown", "expected"),
    [
        ("fastsuite_app", "items_app:VERSION", "str '1.0'", APP),
        ("fastsuite_metadata", "items_app:app", "FastAPI <fastapi*>", METADATA),
        ("fastsuite_session_dependency", "items_app:VERSION", "str '1.0'", DEPENDENCY),
        ("fastsuite_sessionmaker", "items_app:VERSION", "str '1.0'", SESSIONMAKER),
    ],
)
def test_attribute_of_the_wrong_kind_stops_the_run(items_project, key, value, shown, expected):
    items_project.makepyfile(test_wrong_kind_probe=PROBE)

    result = items_project.runpytest("-o", f"{key}={value}")

    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [f"ERROR: fastsuite: {key} = {value} (ini) is {shown}, not {expected}."]
    )


def test_sessionmaker_function_returning_something_else_stops_the_run(items_project):
    items_project.makepyfile(test_maker_probe=PROBE)

    result = items_project.runpytest("-o", "fastsuite_sessionmaker=items_app:version")

    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            "ERROR: fastsuite: fastsuite_sessionmaker = items_app:version (ini) returned str, "
            "not an async_sessionmaker."
        ]
    )


def test_sessionmaker_function_is_accepted(items_project):
    items_project.makepyfile(test_maker_probe=CLIENT_PROBE)

    result = items_project.runpytest("-o", "fastsuite_sessionmaker=items_app:get_sessionmaker")

    result.assert_outcomes(passed=1)


def test_missing_metadata_key_stops_the_run(items_project):
    items_project.makepyfile(test_missing_probe=PROBE)

    result = items_project.runpytest("-o", "fastsuite_metadata=")

    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: fastsuite: fastsuite_metadata is not set; *"])


def test_module_that_fails_while_importing_stops_the_run(items_project):
    items_project.makepyfile(broken_app="app = undefined_name\n", test_broken_probe=PROBE)

    result = items_project.runpytest("-o", "fastsuite_app=broken_app:app")

    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            "ERROR: fastsuite: fastsuite_app = broken_app:app (ini): importing module 'broken_app' "
            "raised NameError: name 'undefined_name' is not defined*broken_app.py:1*"
        ]
    )


SCHEMAS = "metadata, migrations"
DRIVERS = "loop, aiosqlite"


@pytest.mark.parametrize(
    ("args", "env", "described", "valid"),
    [
        (["--fastsuite-schema=bogus"], None, "--fastsuite-schema=bogus", SCHEMAS),
        (["--fastsuite-sqlite-driver=thread"], None, "--fastsuite-sqlite-driver=thread", DRIVERS),
        ([], "thread", "FASTSUITE_SQLITE_DRIVER=thread (environment)", DRIVERS),
        (["-o", "fastsuite_schema=tables"], None, "fastsuite_schema = tables (ini)", SCHEMAS),
    ],
)
def test_invalid_choice_stops_the_run_listing_the_valid_ones(
    items_project, monkeypatch, args, env, described, valid
):
    items_project.makepyfile(test_choice_probe=PROBE)
    if env is not None:
        monkeypatch.setenv("FASTSUITE_SQLITE_DRIVER", env)

    result = items_project.runpytest(*args)

    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [f"ERROR: fastsuite: {described} is not valid; expected one of: {valid}."]
    )


LOOP_SCOPES_FIRST = """
import pytest
from items_factories import OwnerFactory


@pytest.fixture(scope="module")
async def seed_owner(module_db_session):
    return await OwnerFactory.acreate(name="seed")


async def test_client_in_session_loop(client, seed_owner):
    assert (await client.get("/owners/count")).json() == 1


class TestInAClass:
    async def test_db_session(self, db_session, seed_owner):
        await OwnerFactory.acreate()
        assert (await db_session.get(type(seed_owner), seed_owner.id)).name == "seed"
"""

LOOP_SCOPES_SECOND = """
async def test_client_again(client):
    response = await client.post("/items", json={"name": "a"})
    assert response.status_code == 201
    assert (await client.get("/lifespan")).json()["runs"] == 1


def test_sync_test_between(app):
    assert app is not None


async def test_db_session_again(db_session, client):
    assert (await client.get("/items")).json() == []
"""


@pytest.mark.parametrize("driver", ["loop", "aiosqlite"])
def test_project_setting_only_asyncio_mode_runs_in_one_loop_without_warnings(items_project, driver):
    # The example's pytest.ini sets asyncio_mode = auto and no loop scope: the harness does.
    assert "loop_scope" not in (items_project.path / "pytest.ini").read_text()
    items_project.makepyfile(
        test_loop_scopes_first=LOOP_SCOPES_FIRST, test_loop_scopes_second=LOOP_SCOPES_SECOND
    )

    result = items_project.runpytest("-W", "error", f"--fastsuite-sqlite-driver={driver}")

    result.assert_outcomes(passed=5)
    result.stdout.fnmatch_lines(
        [
            "asyncio: mode=*AUTO*, asyncio_default_fixture_loop_scope=session, "
            "asyncio_default_test_loop_scope=session"
        ]
    )
    result.stdout.no_fnmatch_line("*attached to a different loop*")
    result.stdout.no_fnmatch_line("*loop scope*unset*")


def _pyproject(project: pytest.Pytester, table: str, *lines: str) -> None:
    """The items project's pytest.ini as a pyproject.toml table, with more `lines`."""
    project.path.joinpath("pytest.ini").unlink()
    native = table == "tool.pytest"
    addopts = (
        '["-p", "pytest_asyncio.plugin", "-p", "fastsuite"]'
        if native
        else ('"-p pytest_asyncio.plugin -p fastsuite"')
    )
    project.makefile(
        ".toml",
        pyproject="\n".join(
            [
                f"[{table}]",
                'asyncio_mode = "auto"',
                f"addopts = {addopts}",
                'filterwarnings = ["error"]',
                'fastsuite_app = "items_app:app"',
                'fastsuite_metadata = "items_app:Base"',
                'fastsuite_session_dependency = "items_app:get_session"',
                *lines,
            ]
        ),
    )


@pytest.mark.skipif(pytest.version_tuple < (9, 2), reason="TOML bools for ini keys: pytest 9.2")
def test_a_flag_written_as_a_toml_bool_is_read(items_project):
    _pyproject(
        items_project,
        "tool.pytest",
        "fastsuite_allow_non_test_db = true",
        "fastsuite_drift_checks = false",
    )
    items_project.makepyfile(test_toml_probe=PROBE)

    result = items_project.runpytest()

    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        ["  drift_checks: false (ini)", "  allow_non_test_db: true (ini)", "configfile: *"]
    )


@pytest.mark.skipif(pytest.version_tuple < (9,), reason="[tool.pytest] is read from pytest 9")
def test_a_toml_list_in_tool_pytest_stops_the_run_saying_how_to_write_it(items_project):
    # pytest 9 reads [tool.pytest] as TOML and refuses a list for a string key: before 9.2 with
    # an INTERNALERROR traceback from fastsuite's first read of its settings.
    _pyproject(
        items_project,
        "tool.pytest",
        'fastsuite_allow_db_urls = ["sqlite:///a_test.db", "sqlite:///b_test.db"]',
    )
    items_project.makepyfile(test_toml_probe=PROBE)

    result = items_project.runpytest()

    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            "ERROR: fastsuite: *pyproject.toml: config option 'fastsuite_allow_db_urls' expects a "
            "string, got list: *'sqlite:///b_test.db'*. Write its value as one string, "
            'the values separated by commas: fastsuite_allow_db_urls = "sqlite:///reports_test.db,'
            ' postgresql://localhost/analytics_*".'
        ]
    )
    result.stdout.no_fnmatch_line("*INTERNALERROR*")


@pytest.mark.skipif(pytest.version_tuple >= (9,), reason="pytest 9 refuses it (test above)")
def test_a_toml_list_in_ini_options_is_read_as_its_values(items_project):
    _pyproject(
        items_project,
        "tool.pytest.ini_options",
        'fastsuite_allow_db_urls = ["sqlite:///a_test.db", "sqlite:///b_test.db"]',
    )
    items_project.makepyfile(test_toml_probe=PROBE)

    result = items_project.runpytest()

    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["  allow_db_urls: sqlite:///a_test.db, sqlite:///b_test.db (ini)"])
