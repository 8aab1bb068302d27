"""The harness's own suite: each test copies a tiny project and runs pytest on it (pytester).

The projects live in examples/<name>/, each with its own pytest.ini, so the inner runs never
read this repository's configuration; they are not collected by the outer run.
"""

from __future__ import annotations

import pytest

# The inner runs use the harness; an outer run that does not (.ci/versions-pytest.ini) would
# leave its first import to them, and pytester's in-process runs drop what a run imported when
# it ends: SQLAlchemy, imported a second time in one process, fails ("already registered").
import fastsuite.fixtures  # noqa: F401
from fastsuite._config import SETTING_SPECS

collect_ignore = ["examples"]


@pytest.fixture(autouse=True)
def _no_plugin_autoload(monkeypatch: pytest.MonkeyPatch) -> None:
    # The example projects list their plugins (see examples/items_app/pytest.ini); the
    # environment variable works on every pytest fastsuite supports, the option from 8.4 only.
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")


@pytest.fixture(autouse=True)
def _no_fastsuite_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    # An outer run configured through FASTSUITE_* (a PostgreSQL URL, say) must not configure
    # the inner projects: each test sets the variables it is about.
    for spec in SETTING_SPECS:
        if spec.env:
            monkeypatch.delenv(spec.env, raising=False)


@pytest.fixture
def items_project(pytester: pytest.Pytester) -> pytest.Pytester:
    """A project with the items app (examples/items_app), its factories and its pytest.ini."""
    pytester.copy_example("items_app")
    return pytester
