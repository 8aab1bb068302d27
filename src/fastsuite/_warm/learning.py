"""Which modules a zygote may preload, learned from what earlier runs imported.

Only third-party code qualifies: a module whose file lies in the standard library or in the
environment's site-packages (the project's own code, editable installs included, lies
elsewhere), that pytest did not rewrite, that is not under a name pytest marked for rewriting
(plugins given with -p, entry-point plugins' distributions), and that is not this package.
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


def is_under(name: str, packages: Iterable[str]) -> bool:
    return any(name == package or name.startswith(package + ".") for package in packages)


def is_under_any(names: Iterable[str], package: str) -> bool:
    """Whether any of `names` is `package` or one of its submodules."""
    prefix = package + "."
    return any(name == package or name.startswith(prefix) for name in names)


def is_preloadable(name: str, module: ModuleType, rewrite_marked: Iterable[str]) -> bool:
    if name in _NEVER or is_own(name) or is_under(name, rewrite_marked):
        return False
    # Pytest's rewriting loader, named rather than imported: the client never imports pytest.
    if type(getattr(module, "__loader__", None)).__name__ == "AssertionRewritingHook":
        return False
    spec = getattr(module, "__spec__", None)
    origin = getattr(spec, "origin", None)
    if not isinstance(origin, str) or not getattr(spec, "has_location", False):
        return False
    return origin.startswith(THIRD_PARTY_ROOTS)


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
    """Add what this run imported beyond `already`, and what pytest marked for rewriting."""
    marked = set(rewrite_marked)
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


def forget_own_modules() -> None:
    """Drop this package from sys.modules: pytest must import (and rewrite) the plugin fresh."""
    for name in [name for name in sys.modules if is_own(name)]:
        del sys.modules[name]
