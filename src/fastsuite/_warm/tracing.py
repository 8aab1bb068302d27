"""Who imports whom while a zygote preloads: `import` statements traced, cache hits included.

A module that imports something pytest rewrites (anyio, where pytest auto-loads its plugin)
must not be preloaded either, however it got there: the first importer drags the rewritten
module in, the others find it in sys.modules. Tracing `builtins.__import__` sees both.

PYTEST_DONT_REWRITE: fastsuite-warm preloads this module (see fastsuite._warm.learning).
"""

from __future__ import annotations

import builtins
import sys
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any


@contextmanager
def traced_imports() -> Iterator[dict[str, set[str]]]:
    """Yields the graph being recorded: importer -> absolute names it imported."""
    graph: dict[str, set[str]] = defaultdict(set)
    original = builtins.__import__

    def tracing_import(
        name: str,
        globals: Mapping[str, Any] | None = None,
        locals: Mapping[str, Any] | None = None,
        fromlist: Sequence[str] | None = (),
        level: int = 0,
    ) -> Any:
        module = original(name, globals, locals, fromlist, level)
        importer = (globals or {}).get("__name__")
        if isinstance(importer, str):
            target = _absolute(name, level, globals or {})
            graph[importer].add(target)
            for item in fromlist or ():
                if f"{target}.{item}" in sys.modules:
                    graph[importer].add(f"{target}.{item}")
        return module

    builtins.__import__ = tracing_import
    try:
        yield graph
    finally:
        builtins.__import__ = original


def _absolute(name: str, level: int, globals: Mapping[str, Any]) -> str:
    if not level:
        return name
    package = globals.get("__package__") or str(globals.get("__name__", "")).rpartition(".")[0]
    base = package.rsplit(".", level - 1)[0] if level > 1 else package
    return f"{base}.{name}" if name else base


def reaching(graph: Mapping[str, set[str]], bad: Callable[[str], bool]) -> set[str]:
    """The importers that reach a bad module, directly or through others."""
    importers: dict[str, set[str]] = defaultdict(set)
    for importer, targets in graph.items():
        for target in targets:
            importers[target].add(importer)
    pending = [node for node in {*graph, *importers} if bad(node)]
    reached: set[str] = set()
    while pending:
        for importer in importers.get(pending.pop(), ()):
            if importer not in reached:
                reached.add(importer)
                pending.append(importer)
    return reached
