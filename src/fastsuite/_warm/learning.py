"""Which modules a zygote may preload, learned from what earlier runs imported.

Two kinds qualify:

- third-party code: a module whose file lies in the standard library or in the environment's
  site-packages (the project's own code, editable installs included, lies elsewhere), that
  pytest did not rewrite and that is not under a name pytest marked for rewriting (plugins
  given with -p, entry-point plugins' distributions);
- this package's modules, wherever they lie, each of whose docstrings says PYTEST_DONT_REWRITE
  (a test holds every module to it). Pytest marks the package for rewriting (`-p fastsuite`,
  the entry point), but its rewriting hook leaves such a module exactly as Python's own loader
  would (no assert rewritten, no helper imported into its names), and pytest itself does not
  warn when such a module was imported before it marked it. What remains different is the
  module's loader (`__loader__`, `__spec__.loader`: pytest's hook in a cold run) and pytest's
  list of the modules its hook loaded, which it reads only to warn about modules imported too
  early to rewrite (never about these). Like every preloaded file, an edited module of this
  package makes the zygote refuse and restart.

Why not every module pytest would rewrite whose source has no assert statement (which would
take in plugins given with -p): pytest still rewrites such a module, adding two names to its
globals (`@py_builtins`, `@pytest_ar`) and taking its loader, so a preloaded one is not the
module a cold run has; and the plugins this would concern (pytest-asyncio, xdist, randomly,
pytester, anyio's) all have asserts anyway.

PYTEST_DONT_REWRITE: fastsuite-warm preloads this module.
"""

from __future__ import annotations

import json
import os
import sys
import sysconfig
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

# Modules a zygote never preloads, whatever runs did: __main__ is the running script; readline
# sets up the terminal it finds at import, and the zygote has none.
_NEVER = frozenset({"__main__", "__mp_main__", "readline", "rlcompleter"})
_OWN_PACKAGE = "fastsuite"


def _third_party_roots() -> tuple[str, ...]:
    paths = sysconfig.get_paths()
    roots = {paths[name] for name in ("stdlib", "platstdlib", "purelib", "platlib")}
    roots |= {os.path.realpath(root) for root in roots}
    return tuple(os.path.join(root, "") for root in sorted(roots))


THIRD_PARTY_ROOTS = _third_party_roots()


def is_own(name: str) -> bool:
    return name == _OWN_PACKAGE or name.startswith(_OWN_PACKAGE + ".")


def rewrite_disabled(module: object) -> bool:
    """Whether pytest leaves this module as it is (PYTEST_DONT_REWRITE in its docstring)."""
    return "PYTEST_DONT_REWRITE" in (getattr(module, "__doc__", None) or "")


def is_forbidden(name: str, never: Iterable[str]) -> bool:
    """A module a zygote must not hold: pytest would rewrite it (this package's modules
    excepted, while loaded and leaving rewriting off)."""
    if is_own(name):
        return is_under(name, never) or not rewrite_disabled(sys.modules.get(name))
    return is_under(name, never)


def is_under(name: str, packages: Iterable[str]) -> bool:
    return any(name == package or name.startswith(package + ".") for package in packages)


def packages_of(names: Iterable[str]) -> frozenset[str]:
    """Every name and every package above it: a package is in it when any of `names` is that
    package or one of its submodules."""
    packages: set[str] = set()
    for name in names:
        parts = name.split(".")
        packages.update(".".join(parts[:end]) for end in range(1, len(parts) + 1))
    return frozenset(packages)


def is_preloadable(name: str, module: ModuleType, rewrite_marked: Iterable[str]) -> bool:
    if name in _NEVER:
        return False
    if is_own(name):
        return rewrite_disabled(module) and _file_of(module) is not None
    if is_under(name, rewrite_marked):
        return False
    # Pytest's rewriting loader, named rather than imported: the client never imports pytest.
    if type(getattr(module, "__loader__", None)).__name__ == "AssertionRewritingHook":
        return False
    origin = _file_of(module)
    return origin is not None and origin.startswith(THIRD_PARTY_ROOTS)


def _file_of(module: ModuleType) -> str | None:
    """The file a module was loaded from (what the zygote stamps), if any."""
    spec = getattr(module, "__spec__", None)
    origin = getattr(spec, "origin", None)
    return origin if isinstance(origin, str) and getattr(spec, "has_location", False) else None


@dataclass
class Learned:
    """What runs in this environment imported (in import order), and what must never preload."""

    modules: list[str] = field(default_factory=list)
    never: list[str] = field(default_factory=list)


def read(path: Path) -> Learned:
    try:
        data = json.loads(path.read_text())
        return Learned(list(data["modules"]), list(data["never"]))
    except (OSError, ValueError, KeyError, TypeError):
        return Learned()


def record(
    path: Path,
    modules: Mapping[str, ModuleType],
    already: Iterable[str],
    rewrite_marked: Iterable[str],
) -> None:
    """Add what this run imported beyond `already`, and what pytest marked for rewriting (this
    package aside: its modules are preloadable whatever pytest marks)."""
    marked = {name for name in rewrite_marked if not is_own(name)}
    seen = set(already)
    new = [
        name
        for name, module in list(modules.items())
        if name not in seen and is_preloadable(name, module, marked)
    ]
    learned = read(path)
    known, never = set(learned.modules), set(learned.never)
    new = [name for name in new if name not in known]
    new_never = sorted(marked - never)
    if not new and not new_never:
        return
    learned.modules += new
    learned.never += new_never
    write(path, learned)


def write(path: Path, learned: Learned) -> None:
    temporary = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    temporary.write_text(json.dumps({"modules": learned.modules, "never": learned.never}))
    os.replace(temporary, path)


def forget_rewritable_own_modules() -> None:
    """Drop this package's modules that pytest would rewrite (a test holds every module to
    PYTEST_DONT_REWRITE, so none, normally): pytest must import and rewrite them itself."""
    for name, module in list(sys.modules.items()):
        if is_own(name) and not rewrite_disabled(module):
            del sys.modules[name]
