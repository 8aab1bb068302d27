"""fastsuite.__all__ lists exactly the package's public names (as httpx's own test does)."""

import __future__

import types

import fastsuite


def test_all_public_names_are_exported():
    # dir(), not vars(): the package imports its public names on first use.
    public = sorted(
        name
        for name in dir(fastsuite)
        if not name.startswith("_")
        # Submodules (fastsuite.plugin is the pytest11 entry point) become attributes of the
        # package once imported; `from __future__ import annotations` leaves `annotations`.
        and not isinstance(getattr(fastsuite, name), types.ModuleType | __future__._Feature)
    )
    assert fastsuite.__all__ == public


def test_importing_the_package_imports_neither_pytest_nor_the_stack():
    # The fastsuite-warm client imports the package and must start in milliseconds.
    import subprocess
    import sys

    imported = "{'pytest', 'sqlalchemy', 'factory'} & {*sys.modules}"
    code = f"import sys, fastsuite._warm.client; print(sorted({imported}))"
    result = subprocess.run(  # noqa: S603 (this interpreter, fixed code)
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
