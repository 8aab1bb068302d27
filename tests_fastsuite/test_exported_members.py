"""fastsuite.__all__ lists exactly the package's public names (as httpx's own test does)."""

import __future__

import types

import fastsuite

# Imported on first use: factory_boy (and Faker with it) only for projects that use it.
LAZY = ["AsyncFactory"]


def test_all_public_names_are_exported():
    public = sorted(
        name
        for name, value in vars(fastsuite).items()
        if not name.startswith("_")
        # Submodules (fastsuite.plugin is the pytest11 entry point) become attributes of the
        # package once imported; `from __future__ import annotations` leaves `annotations`.
        and not isinstance(value, types.ModuleType | __future__._Feature)
    )
    assert fastsuite.__all__ == sorted(public + LAZY)
    for name in LAZY:
        assert getattr(fastsuite, name).__name__ == name
