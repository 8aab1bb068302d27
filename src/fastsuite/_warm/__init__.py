"""fastsuite-warm: pytest's first result in a fraction of its start-up, from a forked zygote.

A zygote process per environment imports the third-party modules that earlier runs of the
suite imported (pytest, its plugins, FastAPI, SQLAlchemy, ...) and this package's plugin, never
the project's own code nor a module pytest rewrites, and forks a child per run; the child takes
the caller's descriptors, directory, environment and arguments, imports the project fresh and
runs pytest.

- `client`, `command`: the `fastsuite-warm` command (imports neither pytest nor the stack);
- `cold`, `control`: its cold runs, and `--status` and `--stop`;
- `zygote`: the server: preloading, staleness, fork safety, the spare child, restarts;
- `child`: what a forked child does before and after pytest runs;
- `learning`: which modules a zygote may preload, learned from earlier runs;
- `tracing`: who imports whom while the zygote preloads (what imports a rewritten module);
- `checks`: staleness stamps and fork-safety checks;
- `metadata`: the distributions' metadata files, read once by the zygote;
- `fallback`: what must run cold;
- `protocol`, `state`: the socket's messages, and where the state lives.

PYTEST_DONT_REWRITE: fastsuite-warm preloads this module (see fastsuite._warm.learning).
"""

import os

# typing's TYPE_CHECKING (mypy knows the name), without importing typing: the client's modules
# take it from here, as every run of `fastsuite-warm` imports them before its first result.
TYPE_CHECKING = False

STATE_DIR_ENV = "FASTSUITE_WARM_DIR"


def state_dir_name() -> str:
    """A per-user directory, outside any repository: $XDG_RUNTIME_DIR or ~/.cache (created by
    fastsuite._warm.state.state_dir, which the client's start-up does without)."""
    if configured := os.environ.get(STATE_DIR_ENV):
        return configured
    if runtime := os.environ.get("XDG_RUNTIME_DIR"):
        return os.path.join(runtime, "fastsuite")
    return os.path.join(os.path.expanduser("~"), ".cache", "fastsuite", "warm")
