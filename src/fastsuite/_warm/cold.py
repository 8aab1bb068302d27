"""A cold run of `fastsuite-warm`: pytest in the client's own process, as `pytest` would run
it; then what it imported is learned, and a zygote starts in the background for the next run.

PYTEST_DONT_REWRITE: fastsuite-warm preloads this module (see fastsuite._warm.learning).
"""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys

from fastsuite._warm.state import Paths, paths_for


def run() -> int:
    paths = paths_for(dict(os.environ))  # before the tests change the environment
    sys_path = list(sys.path)  # before pytest adds the project's folders
    import _pytest.config
    import pytest

    from fastsuite._warm import learning, prerewrite
    from fastsuite._warm.child import refusing_to_rewrite

    # Pytest imports the plugin itself; a module of this package it would rewrite must not be
    # there first (none is: each leaves rewriting off, see learning).
    learning.forget_rewritable_own_modules()
    before = set(sys.modules)

    # What the `pytest` script runs (console_main is its deprecated name since pytest 9.1).
    console_main = getattr(_pytest.config, "_console_main", pytest.console_main)
    with refusing_to_rewrite(set()) as marks:
        code = console_main()
    learning.record(paths.learned, sys.modules, before, marks.marked)
    prerewrite.record(paths.rewritten, sys.modules)
    start_zygote(paths, sys_path)
    return code


def start_zygote(paths: Paths, sys_path: list[str]) -> None:
    """A zygote for this environment, in the background, unless one serves or is starting."""
    lock_fd = os.open(paths.lock, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return
    finally:
        os.close(lock_fd)
    arguments = {"directory": str(paths.directory), "key": paths.key, "sys_path": sys_path}
    with open(paths.log, "ab") as log:
        subprocess.Popen(  # noqa: S603 (this interpreter, our own module)
            [sys.executable, "-m", "fastsuite._warm.zygote", json.dumps(arguments)],
            cwd=paths.directory,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            start_new_session=True,
        )
