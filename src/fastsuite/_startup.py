"""Start-up costs of every run: the garbage collector during start-up, and the bytecode cache.

Start-up builds a heap of about a million objects (pytest, its plugins, FastAPI, SQLAlchemy,
pydantic, Faker) that lives until the process ends; every full collection walks all of it. The
collector is off while start-up builds it, and the heap is frozen (`gc.freeze()`: moved out of
the collector's reach) at the end of configuration and again after collection; then the
collector runs again, over what the tests themselves make.

Where Python may not write bytecode (PYTHONDONTWRITEBYTECODE), every run compiles the project's
modules and rewrites the asserts of every test module and conftest again. The opt-in setting
`bytecode_cache` names a directory that takes those files instead (`sys.pycache_prefix`), so
the source tree stays clean.

PYTEST_DONT_REWRITE: fastsuite-warm preloads this module (see fastsuite._warm.learning).
"""

from __future__ import annotations

import gc
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from fastsuite._config import ini_value, spec_named


@dataclass
class _Startup:
    """What this process did, once: pytester's in-process runs reuse the outer run's state."""

    begun: bool = False
    collector_was_enabled: bool = False
    finished: bool = False


_startup = _Startup()
_saved_bytecode_key = pytest.StashKey[tuple[str | None, bool]]()


def begin() -> None:
    """The collector off until collection ends (once per process)."""
    if _startup.begun:
        return
    _startup.begun = True
    _startup.collector_was_enabled = gc.isenabled()
    gc.disable()


def freeze() -> None:
    """Move what start-up built out of the collector's reach; it lives as long as the process."""
    if _startup.begun and not _startup.finished:
        gc.freeze()


def finish() -> None:
    """Start-up is over: freeze what collection built and give the collector back."""
    if not _startup.begun or _startup.finished:
        return
    _startup.finished = True
    gc.freeze()
    if _startup.collector_was_enabled:
        gc.enable()


def cancel() -> None:
    """The project does not use fastsuite: the collector back as it was, nothing frozen."""
    if _startup.begun and not _startup.finished:
        _startup.finished = True
        if _startup.collector_was_enabled:
            gc.enable()


def bytecode_cache_dir(config: pytest.Config) -> Path | None:
    """The `bytecode_cache` setting before options are parsed (conftests are not loaded yet)."""
    spec = spec_named("bytecode_cache")
    value = getattr(config.known_args_namespace, spec.ini, None)
    value = value or (spec.env and os.environ.get(spec.env)) or ini_value(config, spec)
    if not value:
        return None
    return config.rootpath / str(value)


def use_bytecode_cache(config: pytest.Config, directory: Path) -> None:
    """Write bytecode and rewritten asserts under `directory`, even where writing is off."""
    config.stash[_saved_bytecode_key] = (sys.pycache_prefix, sys.dont_write_bytecode)
    sys.pycache_prefix = str(directory)
    sys.dont_write_bytecode = False


def restore_bytecode_settings(config: pytest.Config) -> None:
    """Undo use_bytecode_cache (a pytester in-process run must not change its outer run)."""
    if (saved := config.stash.get(_saved_bytecode_key, None)) is not None:
        sys.pycache_prefix, sys.dont_write_bytecode = saved
        del config.stash[_saved_bytecode_key]
