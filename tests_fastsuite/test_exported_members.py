"""fastsuite.__all__ lists exactly the package's public names (as httpx's own test does)."""

import __future__

import types

import fastsuite


def test_all_public_names_are_exported():
    # AsyncFactory is imported on first use (it brings factory_boy): every listed name resolves.
    for name in fastsuite.__all__:
        getattr(fastsuite, name)
    public = sorted(
        name
        for name, value in vars(fastsuite).items()
        if not name.startswith("_")
        # Submodules (fastsuite.plugin is the pytest11 entry point) become attributes of the
        # package once imported; `from __future__ import annotations` leaves `annotations`.
        and not isinstance(value, types.ModuleType | __future__._Feature)
    )
    assert fastsuite.__all__ == public
