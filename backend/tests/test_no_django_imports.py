"""The product never imports Django: not the backend, not the harness, not their tests.

Only the benchmark's comparison peers (bench/) may. The check parses every Python file, so an
import hidden in a function, a conditional or `importlib.import_module("django...")` counts,
while a mention of Django in a string or comment does not.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHECKED = ("backend", "src/fastsuite", "tests_fastsuite")
SKIPPED_DIRS = {".venv", "__pycache__", ".mypy_cache", ".ruff_cache", ".pytest_cache", "var"}
FORBIDDEN = "django"
DYNAMIC_IMPORTERS = {"__import__", "import_module", "importorskip", "find_spec"}


def _is_forbidden(module: str | None) -> bool:
    return module is not None and (module == FORBIDDEN or module.startswith(FORBIDDEN + "."))


def _string_argument(call: ast.Call) -> str | None:
    if call.args and isinstance(call.args[0], ast.Constant) and isinstance(call.args[0].value, str):
        return call.args[0].value
    return None


def _called_name(call: ast.Call) -> str | None:
    if isinstance(call.func, ast.Name):
        return call.func.id
    if isinstance(call.func, ast.Attribute):
        return call.func.attr
    return None


def django_imports(source: str, filename: str = "<string>") -> list[int]:
    """Line numbers where `source` imports django (statements and dynamic imports)."""
    lines = []
    for node in ast.walk(ast.parse(source, filename=filename)):
        if isinstance(node, ast.Import):
            if any(_is_forbidden(alias.name) for alias in node.names):
                lines.append(node.lineno)
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0 and _is_forbidden(node.module):
                lines.append(node.lineno)
        elif (
            isinstance(node, ast.Call)
            and _called_name(node) in DYNAMIC_IMPORTERS
            and _is_forbidden(_string_argument(node))
        ):
            lines.append(node.lineno)
    return sorted(lines)


def _python_files() -> list[Path]:
    files = []
    for top in CHECKED:
        for path in (ROOT / top).rglob("*.py"):
            if not SKIPPED_DIRS.intersection(path.relative_to(ROOT).parts):
                files.append(path)
    return sorted(files)


def test_the_checked_trees_hold_the_product_code():
    # A wrong ROOT would make the guard below pass over nothing.
    files = {path.relative_to(ROOT).as_posix() for path in _python_files()}

    assert "backend/app/main.py" in files
    assert "src/fastsuite/plugin.py" in files
    assert Path(__file__).resolve().relative_to(ROOT).as_posix() in files


def test_no_product_or_test_file_imports_django():
    offenders = [
        f"{path.relative_to(ROOT)}:{line}"
        for path in _python_files()
        for line in django_imports(path.read_text(encoding="utf-8"), str(path))
    ]

    assert not offenders, (
        f"django is imported at {', '.join(offenders)}; the backend, the harness and their "
        "tests must not depend on Django (only bench/ peers may)"
    )


def test_nothing_in_this_test_process_has_imported_django():
    loaded = sorted(name for name in sys.modules if _is_forbidden(name))

    assert not loaded, f"django modules were imported by the suite: {loaded}"


@pytest.mark.parametrize(
    "source",
    [
        "import django",
        "import django.conf",
        "import os, django.db as db",
        "from django.conf import settings",
        "from django import forms",
        "def f():\n    import django",
        "try:\n    import django\nexcept ImportError:\n    pass",
        "import importlib\nimportlib.import_module('django.contrib.auth.hashers')",
        "__import__('django')",
        "pytest.importorskip('django')",
    ],
)
def test_the_guard_finds_every_way_of_importing_django(source):
    assert django_imports(source)


@pytest.mark.parametrize(
    "source",
    [
        "import djangoish",
        "from djangoish import x",
        "from . import django",
        "from .django import hashers",
        "text = 'import django'",
        "# import django",
        "DJANGO_HASH = 'pbkdf2_sha256$1$salt$hash'",
        "importlib.import_module(name)",
    ],
)
def test_the_guard_ignores_what_is_not_an_import_of_django(source):
    assert django_imports(source) == []
