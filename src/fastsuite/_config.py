"""The harness's configuration: resolved once per run (option, then environment, then ini).

PYTEST_DONT_REWRITE: fastsuite-warm preloads this module (see fastsuite._warm.learning).
"""

from __future__ import annotations

import importlib
import os
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

DEFAULT_DB_URL = "sqlite://"
# The settings that name the project's objects (module:attr), resolved by _targets.
TARGET_SETTINGS = ("app", "metadata", "session_dependency", "sessionmaker")
SCHEMA_SOURCES = ("metadata", "migrations")
SQLITE_DRIVERS = ("loop", "aiosqlite")
FLAG_VALUES = ("true", "false")
# Other ways people spell a true/false setting in the environment or an ini file.
_FLAG_SPELLINGS = {"1": "true", "yes": "true", "on": "true", "0": "false", "no": "false"}


@dataclass(frozen=True)
class SettingSpec:
    """One configurable value: where it can come from and what it means."""

    name: str
    help: str
    default: str | None = None
    option: str | None = None
    env: str | None = None
    choices: tuple[str, ...] | None = None
    # A flag's option takes no value (its presence means "true"); env and ini say true or false.
    flag: bool = False
    # What a good value looks like, for the message when a value is malformed.
    example: str | None = None
    # Takes several values, in one string (a TOML list is not a string).
    several: bool = False

    @property
    def ini(self) -> str:
        return f"fastsuite_{self.name}"


SETTING_SPECS: tuple[SettingSpec, ...] = (
    SettingSpec(
        "app",
        "module:attr of the FastAPI app, or of a factory returning one",
        example="myapp.main:app",
    ),
    SettingSpec(
        "metadata",
        "module:attr of the SQLAlchemy MetaData or declarative base",
        example="myapp.models:Base",
    ),
    SettingSpec(
        "session_dependency",
        "module:attr of the app's session dependency",
        example="myapp.db:get_session",
    ),
    SettingSpec(
        "sessionmaker",
        "module:attr of the app's async_sessionmaker (or a function returning it); "
        "sessions the app opens from it join the test's transaction",
        example="myapp.db:SessionLocal",
    ),
    SettingSpec(
        "session_class",
        "module:attr of the app's AsyncSession subclass, or of an async_sessionmaker whose class "
        "and options fastsuite's sessions copy; default: learned from fastsuite_sessionmaker or "
        "from the session dependency's annotations",
        option="--fastsuite-session-class",
        env="FASTSUITE_SESSION_CLASS",
    ),
    SettingSpec(
        "db_url",
        "database URL; default: in-memory SQLite",
        default=DEFAULT_DB_URL,
        option="--fastsuite-db-url",
        env="FASTSUITE_DB_URL",
    ),
    SettingSpec(
        "schema",
        "how the test database's schema is built: metadata (create_all) or migrations",
        default="metadata",
        option="--fastsuite-schema",
        env="FASTSUITE_SCHEMA",
        choices=SCHEMA_SOURCES,
    ),
    SettingSpec(
        "sqlite_driver",
        "in-memory SQLite driver: loop (sqlite3 on the event loop thread) or aiosqlite",
        default="loop",
        option="--fastsuite-sqlite-driver",
        env="FASTSUITE_SQLITE_DRIVER",
        choices=SQLITE_DRIVERS,
    ),
    SettingSpec(
        "sqlite_lenient",
        "strict SQLite checks to turn off, comma-separated, or all: string_length, bound_types, "
        "integer_range, unordered, aborted_transaction, unicode_case, division_by_zero, "
        "timezone, sequence_ids, group_by (default: every check on)",
        option="--fastsuite-sqlite-lenient",
        env="FASTSUITE_SQLITE_LENIENT",
        example="timezone, unordered",
        several=True,
    ),
    SettingSpec(
        "alembic_config",
        "path of alembic.ini (relative to the rootdir), used by --fastsuite-schema=migrations",
        default="alembic.ini",
        option="--fastsuite-alembic-config",
        env="FASTSUITE_ALEMBIC_CONFIG",
    ),
    SettingSpec(
        "drift_checks",
        "add the migration drift checks to the run (single head, upgrade, models match "
        "migrations, downgrades), on a scratch database",
        default="false",
        option="--fastsuite-drift",
        env="FASTSUITE_DRIFT_CHECKS",
        choices=FLAG_VALUES,
        flag=True,
    ),
    SettingSpec(
        "base_url",
        "base URL of the client fixtures' requests (the Host header comes from it)",
        default="http://test",
        option="--fastsuite-base-url",
        env="FASTSUITE_BASE_URL",
    ),
    SettingSpec(
        "client_headers",
        "headers every client of the client fixtures sends: `Name: value` entries separated "
        "by newlines or commas",
        option="--fastsuite-client-headers",
        env="FASTSUITE_CLIENT_HEADERS",
        example="X-API-Key: secret, Accept-Language: en",
        several=True,
    ),
    SettingSpec(
        "allow_non_test_db",
        "let the harness use a database server whose database name lacks 'test' (it refuses "
        "by default, so a test run cannot touch a production database)",
        default="false",
        option="--fastsuite-allow-non-test-db",
        env="FASTSUITE_ALLOW_NON_TEST_DB",
        choices=FLAG_VALUES,
        flag=True,
    ),
    SettingSpec(
        "allow_db_urls",
        "databases besides the run's test databases that SQLAlchemy may connect to during the "
        "run (URLs separated by spaces or commas; `*` globs the database name); every other "
        "connection is refused",
        option="--fastsuite-allow-db-urls",
        env="FASTSUITE_ALLOW_DB_URLS",
        example="sqlite:///reports_test.db, postgresql://localhost/analytics_*",
        several=True,
    ),
    SettingSpec(
        "bytecode_cache",
        "directory (relative to the rootdir) for bytecode and rewritten asserts, written even "
        "where Python may not write bytecode (PYTHONDONTWRITEBYTECODE); default: off",
        option="--fastsuite-bytecode-cache",
        env="FASTSUITE_BYTECODE_CACHE",
    ),
)


@dataclass(frozen=True)
class Setting:
    """An effective value and where it came from, for the report header and error messages."""

    value: str | None
    source: str

    def describe(self, spec: SettingSpec) -> str:
        value = _shown(spec, self.value)
        if self.source == "option":
            return f"{spec.option}" if spec.flag else f"{spec.option}={value}"
        if self.source == "env":
            return f"{spec.env}={value} (environment)"
        if self.source == "ini":
            return f"{spec.ini} = {value} (ini)"
        return f"{spec.ini} = {value} (default)"


def _shown(spec: SettingSpec, value: str | None) -> str | None:
    """The value as messages may show it: a database URL's password hidden."""
    if spec.name != "db_url" or value is None:
        return value
    # Here, not at the top: a project that does not use fastsuite never imports SQLAlchemy
    # through it (plugin.py).
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(value).render_as_string(hide_password=True)
    except ArgumentError:
        return value


@dataclass(frozen=True)
class Settings:
    """Every fastsuite setting of this run, with its source."""

    values: dict[str, Setting] = field(default_factory=dict)

    def __getitem__(self, name: str) -> str | None:
        return self.values[name].value

    def describe(self, name: str) -> str:
        return self.values[name].describe(spec_named(name))

    def flag(self, name: str) -> bool:
        """The value of a true/false setting."""
        return self[name] == "true"

    @property
    def configured(self) -> bool:
        """True when the project set any of the keys that point the harness at its code.

        Until then fastsuite leaves the run alone (it may be installed for another project).
        """
        return any(self[name] is not None for name in TARGET_SETTINGS)


def spec_named(name: str) -> SettingSpec:
    return next(spec for spec in SETTING_SPECS if spec.name == name)


settings_key = pytest.StashKey[Settings]()


# pytest 9 reads [tool.pytest] as TOML, where a flag is naturally written `true`; from 9.2 an
# ini key may take a bool as well as a string (ini files and -o still give the string).
_FLAGS_TAKE_TOML_BOOLS = pytest.version_tuple >= (9, 2)

NOT_A_STRING = 'fastsuite: {error}. Write its value as one string{several}: {ini} = "{example}".'


def add_options(parser: pytest.Parser) -> None:
    group = parser.getgroup("fastsuite", "fastsuite: FastAPI + SQLAlchemy test harness")
    for spec in SETTING_SPECS:
        ini_type: Any = str | bool if spec.flag and _FLAGS_TAKE_TOML_BOOLS else "string"
        parser.addini(spec.ini, spec.help, type=ini_type, default=None)
        if spec.option and spec.flag:
            group.addoption(
                spec.option, dest=spec.ini, action="store_const", const="true", help=spec.help
            )
        elif spec.option:
            group.addoption(spec.option, dest=spec.ini, default=None, help=spec.help)


def resolve_settings(config: pytest.Config) -> Settings:
    """Resolve every setting once: command-line option, then environment, then ini, then default."""
    values: dict[str, Setting] = {}
    for spec in SETTING_SPECS:
        setting = _resolve_one(config, spec)
        if spec.flag and setting.value is not None:
            spelled = setting.value.strip().lower()
            setting = Setting(_FLAG_SPELLINGS.get(spelled, spelled), setting.source)
        values[spec.name] = setting
    return Settings(values)


def check_choices(settings: Settings) -> None:
    """A setting with a fixed set of values stops the run if it has another one."""
    for spec in SETTING_SPECS:
        setting = settings.values[spec.name]
        if spec.choices and setting.value not in spec.choices:
            raise pytest.UsageError(
                f"fastsuite: {setting.describe(spec)} is not valid; "
                f"expected one of: {', '.join(spec.choices)}."
            )


def _resolve_one(config: pytest.Config, spec: SettingSpec) -> Setting:
    if spec.option and (value := config.getoption(spec.ini)) is not None:
        return Setting(str(value), "option")
    if spec.env and (value := os.environ.get(spec.env)):
        return Setting(value, "env")
    if value := ini_value(config, spec):
        return Setting(value, "ini")
    return Setting(spec.default, "default")


def ini_value(config: pytest.Config, spec: SettingSpec) -> str | None:
    """The setting's value in the configuration file, as a string.

    TOML gives other types: a bool (a flag, from pytest 9.2; before it pytest refuses it), and a
    list, which pytest 8 hands over as it is and pytest 9 refuses: a refusal becomes a usage
    error saying how to write the value.
    """
    try:
        value = config.getini(spec.ini)
    except (TypeError, ValueError, pytest.UsageError) as error:
        several = ", the values separated by commas" if spec.several else ""
        example = "true" if spec.flag else spec.example or "..."
        error_text = str(error).rstrip(".")
        message = NOT_A_STRING.format(
            error=error_text, several=several, ini=spec.ini, example=example
        )
        raise pytest.UsageError(message) from error
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    return str(value) if value else None


# fastsuite imports the app at the end of pytest_configure, after the conftests' hooks (unless
# theirs are trylast too): what a conftest sets up later than that is not there yet.
WHEN_THE_APP_IS_IMPORTED = (
    " It is imported when pytest configures, after the pytest_configure hooks of your "
    "conftests: the environment (or settings) the module reads must be set by then (when a "
    "conftest is imported or configured, or in the ini file with pytest-env)."
)


def import_from_string(
    settings: Settings, name: str, expected: str, check: Callable[[Any], bool]
) -> Any:
    """Import the `module:attr` of setting `name`; a bad value stops the run with a UsageError."""
    where = settings.describe(name)
    path = settings[name]
    if path is None:
        raise pytest.UsageError(
            f"fastsuite: {spec_named(name).ini} is not set; set it in the [tool.pytest.ini_options]"
            f' (or pytest.ini) of your project to "module:attr" of {expected}.'
        )
    module_name, sep, attr_path = path.partition(":")
    if not sep or not module_name or not attr_path:
        raise pytest.UsageError(
            f'fastsuite: {where}: expected "module:attr" of {expected}, '
            f'e.g. "{spec_named(name).example}".'
        )
    try:
        target: Any = importlib.import_module(module_name)
    except ImportError as error:
        raise pytest.UsageError(
            f"fastsuite: {where}: cannot import module {module_name!r} ({error}). "
            f"Check the spelling, and that the module is importable from the rootdir "
            f"(pytest's `pythonpath` ini key can add a source folder)."
        ) from error
    except Exception as error:
        # The module was found but raised while importing (a NameError in the app, say): without
        # this, pytest_configure reports an INTERNALERROR that names neither the key nor the value.
        where_raised = traceback.extract_tb(error.__traceback__)[-1]
        raise pytest.UsageError(
            f"fastsuite: {where}: importing module {module_name!r} raised "
            f"{type(error).__name__}: {error} "
            f"(at {where_raised.filename}:{where_raised.lineno}). Fix the module, or point "
            f"{spec_named(name).ini} at another one.{WHEN_THE_APP_IS_IMPORTED}"
        ) from error
    for part in attr_path.split("."):
        try:
            target = getattr(target, part)
        except AttributeError:
            raise pytest.UsageError(
                f"fastsuite: {where}: module {module_name!r} has no attribute {attr_path!r}; "
                f"expected {expected}."
            ) from None
    if not check(target):
        raise pytest.UsageError(
            f"fastsuite: {where} is {type(target).__name__} {target!r:.80}, not {expected}."
        )
    return target
