"""Where fastsuite-warm keeps its state, and which zygote serves which environment.

PYTEST_DONT_REWRITE: fastsuite-warm preloads this module (see fastsuite._warm.learning).
"""

from __future__ import annotations

import os
import sys

from fastsuite._warm import TYPE_CHECKING, state_dir_name

if TYPE_CHECKING:
    from pathlib import Path
    from typing import Any

VERBOSE_ENV = "FASTSUITE_WARM_VERBOSE"
TIMING_ENV = "FASTSUITE_WARM_TIMING"  # when each phase of a warm run ended, on stderr
MAX_RUNS_ENV = "FASTSUITE_WARM_MAX_RUNS"
IDLE_ENV = "FASTSUITE_WARM_IDLE"
DEFAULT_MAX_RUNS = 50
DEFAULT_IDLE_SECONDS = 3600

# Variables a shell changes as it moves around, which no import depends on: a zygote serves
# the same shell after a `cd`. Every other variable is part of the environment's identity.
_VOLATILE_ENV = frozenset({"PWD", "OLDPWD", "_", "SHLVL", VERBOSE_ENV, TIMING_ENV})


def state_dir() -> Path:
    """A per-user directory, outside any repository: $XDG_RUNTIME_DIR or ~/.cache."""
    from pathlib import Path

    directory = Path(state_dir_name())
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    return directory


def socket_path(environ: dict[str, str]) -> str:
    """Where this environment's zygote listens (`Paths.socket`), found without pathlib."""
    return os.path.join(state_dir_name(), f"{environment_key(environ)}.sock")


def environment_key(environ: dict[str, str]) -> str:
    """One zygote per interpreter and environment: what imports may depend on."""
    digest = _sha256()
    for part in (sys.prefix, sys.executable):
        digest.update(part.encode() + b"\0")
    for name in sorted(environ):
        if name not in _VOLATILE_ENV:
            digest.update(f"{name}={environ[name]}".encode("utf-8", "surrogateescape") + b"\0")
    return str(digest.hexdigest()[:16])


def _sha256() -> Any:
    """hashlib's sha256 without importing hashlib (and OpenSSL's bindings): the client's
    start-up counts. The same digest either way."""
    try:
        from _sha256 import sha256  # type: ignore[import-not-found,unused-ignore]  # 3.11
    except ImportError:
        try:
            from _sha2 import sha256  # type: ignore[import-not-found,unused-ignore]
        except ImportError:
            from hashlib import sha256
    return sha256()


def interpreter_flags() -> list[object]:
    """What the interpreter was started with; a zygote serves only its own flags."""
    return [list(sys.flags), list(sys.warnoptions), sorted(map(str, sys._xoptions.items()))]


def setting(name: str, default: int) -> int:
    value = os.environ.get(name, "")
    return int(value) if value.isdigit() else default


class Paths:
    """The files of one environment's zygote."""

    def __init__(self, directory: Path, key: str) -> None:
        self.directory = directory
        self.key = key

    @property
    def socket(self) -> Path:
        return self.directory / f"{self.key}.sock"

    @property
    def lock(self) -> Path:
        return self.directory / f"{self.key}.lock"

    @property
    def learned(self) -> Path:
        # Not `.modules.json`: those, from before this package's modules were preloadable,
        # list the package as never to preload.
        return self.directory / f"{self.key}.preload.json"

    @property
    def rewritten(self) -> Path:
        """What pytest rewrote in the last run (fastsuite._warm.prerewrite)."""
        return self.directory / f"{self.key}.rewritten.json"

    @property
    def log(self) -> Path:
        return self.directory / f"{self.key}.log"

    @property
    def pycache(self) -> Path:
        return self.directory / "pycache"


def paths_for(environ: dict[str, str]) -> Paths:
    return Paths(state_dir(), environment_key(environ))
