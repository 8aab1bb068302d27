"""The `fastsuite-warm` command's entry point: fastsuite._warm.command, its bytecode cached.

Where Python may not write bytecode (PYTHONDONTWRITEBYTECODE), every run of the command would
compile its modules again before it could hand its run to the zygote: that is most of what
the client's own code costs. They are loaded with bytecode written to, and read from, the
private cache the warm children use (in the state folder, once it exists); then Python's
settings are as they were, for a cold run as for any other.

PYTEST_DONT_REWRITE: fastsuite-warm preloads this module (see fastsuite._warm.learning).
"""

from __future__ import annotations

import os
import sys

from fastsuite._warm import state_dir_name


def main() -> int:
    prefix, dont_write = sys.pycache_prefix, sys.dont_write_bytecode
    state = state_dir_name()
    if dont_write and os.path.isdir(state):
        sys.pycache_prefix = os.path.join(state, "pycache")
        sys.dont_write_bytecode = False
    try:
        from fastsuite._warm import command
    finally:
        sys.pycache_prefix, sys.dont_write_bytecode = prefix, dont_write
    return command.main()


if __name__ == "__main__":
    sys.exit(main())
