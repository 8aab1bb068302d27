"""fastsuite-warm: pytest's first result in a fraction of its start-up, from a forked zygote.

A zygote process per environment imports the third-party modules that earlier runs of the
suite imported (pytest, its plugins, FastAPI, SQLAlchemy, ...) and this package's plugin, never
the project's own code nor a module pytest rewrites, and forks a child per run; the child takes
the caller's descriptors, directory, environment and arguments, imports the project fresh and
runs pytest.

- `client`: the `fastsuite-warm` command (imports neither pytest nor the stack);
- `zygote`: the server: preloading, staleness, fork safety, the spare child, restarts;
- `child`: what a forked child does before and after pytest runs;
- `learning`: which modules a zygote may preload, learned from earlier runs;
- `tracing`: who imports whom while the zygote preloads (what imports a rewritten module);
- `checks`: staleness stamps and fork-safety checks;
- `fallback`: what must run cold;
- `protocol`, `state`: the socket's messages, and where the state lives.

PYTEST_DONT_REWRITE: fastsuite-warm preloads this module (see fastsuite._warm.learning).
"""

# typing's TYPE_CHECKING (mypy knows the name), without importing typing: the client's modules
# take it from here, as every run of `fastsuite-warm` imports them before its first result.
TYPE_CHECKING = False
