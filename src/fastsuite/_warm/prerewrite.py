"""An edited test module's asserts rewritten while the spare waits, not when its run imports it.

Rewriting a test module's asserts (parsing it, rewriting, compiling) is most of what a run
after an edit of a long test module costs: a 700-line module takes longer than pytest's whole
start-up in a warm child. Pytest keeps each rewritten module in a cache file (in the children's
private bytecode cache) that it uses only for the very source it was made from. So the spare
child, while it waits for its request, watches the files pytest rewrote in the last run (the
project's conftests and test modules, recorded by each child) and, when one changes, writes
that cache file with pytest's own functions, as pytest would when it imports the module. The
run then finds it and imports the module without rewriting it; if the source changed again,
or anything went wrong, pytest rewrites it itself. No module is imported here.

PYTEST_DONT_REWRITE: fastsuite-warm preloads this module (see fastsuite._warm.learning).
"""

from __future__ import annotations

import json
import os
import select
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from fastsuite._warm import checks, watching

_REWRITING_LOADER = "AssertionRewritingHook"


def record(path: Path, modules: dict[str, ModuleType]) -> None:
    """What pytest rewrote in this run (outside the environment's own folders), and the one
    setting the rewritten code depends on."""
    from fastsuite._warm.learning import THIRD_PARTY_ROOTS

    files, pass_hook = [], False
    for module in list(modules.values()):
        loader = getattr(module, "__loader__", None)
        origin = getattr(getattr(module, "__spec__", None), "origin", None)
        if type(loader).__name__ != _REWRITING_LOADER or not isinstance(origin, str):
            continue
        if not origin.startswith(THIRD_PARTY_ROOTS):
            files.append(origin)
        config = getattr(loader, "config", None)
        if config is not None:
            pass_hook = bool(_enable_assertion_pass_hook(config))
    temporary = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    stamps = {file: checks.stamp(file) for file in sorted(files)}
    temporary.write_text(json.dumps({"files": stamps, "pass_hook": pass_hook}))
    os.replace(temporary, path)


def _enable_assertion_pass_hook(config: Any) -> bool:
    try:
        return bool(config.getini("enable_assertion_pass_hook"))
    except (ValueError, KeyError):
        return False


class _IniOnly:
    """The one thing rewriting reads from pytest's Config."""

    def __init__(self, pass_hook: bool) -> None:
        self.pass_hook = pass_hook

    def getini(self, name: str) -> object:
        if name != "enable_assertion_pass_hook":
            raise ValueError(f"rewriting read the setting {name}")
        return self.pass_hook


def wait(line: Any, recorded: Path) -> None:
    """Until `line` has something to read: the recorded files rewritten as they change."""
    try:
        data = json.loads(recorded.read_text())
        seen = {str(file): tuple(stamp) if stamp else None for file, stamp in data["files"].items()}
        config = _IniOnly(bool(data["pass_hook"]))
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return  # nothing recorded: the request is read as it comes
    watcher = watching.watch(seen) if seen else None
    if watcher is None:
        return
    try:
        # From the stamps the run left: an edit made before the watching began counts too.
        while True:
            for file, before in seen.items():
                if (stamp := checks.stamp(file)) != before:
                    seen[file] = stamp
                    _rewrite(file, config)
            while True:
                readable, _, _ = select.select([line, watcher.fd], [], [])
                if line in readable:
                    return
                if not watcher.quiet():
                    break
    finally:
        watcher.close()


def _rewrite(file: str, config: _IniOnly) -> None:
    """The cache file pytest would write when importing `file` (its private bytecode cache is
    sys.pycache_prefix here as in the run)."""
    try:
        from _pytest.assertion import rewrite

        path = Path(file)
        cache_dir = rewrite.get_cache_dir(path)
        if not rewrite.try_makedirs(cache_dir):
            return
        # pytest 9: (the source's hash, code); pytest 8: (the source's stat, code). Either way,
        # what its _write_pyc takes.
        source_key, code = rewrite._rewrite_test(path, config)  # type: ignore[arg-type]
        pyc = cache_dir / (path.name[:-3] + rewrite.PYC_TAIL)
        rewrite._write_pyc(_Silent(), code, source_key, pyc)  # type: ignore[arg-type]
    except Exception as error:  # a half-saved file, say: the run rewrites it itself
        print(f"fastsuite-warm: not rewritten ahead: {file}: {error!r}", file=sys.stderr)


class _Silent:
    """AssertionState's trace, which _write_pyc calls on errors."""

    def trace(self, message: str) -> None:
        pass
