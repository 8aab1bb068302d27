"""A forked child: become the caller's process, run pytest as a cold run would, report.

Everything the caller's process would have, the child takes: its stdin, stdout and stderr,
working directory, environment, umask, sys.path and arguments; fresh random state; the
project's code imported fresh (none of it is in the zygote). What differs: bytecode and
rewritten asserts go to a private cache, and the interpreter's own teardown is skipped (atexit
handlers and non-daemon threads are still waited for).

PYTEST_DONT_REWRITE: fastsuite-warm preloads this module (see fastsuite._warm.learning).
"""

from __future__ import annotations

import atexit
import io
import os
import random
import signal
import socket
import sys
import threading
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from fastsuite._warm import fallback, learning
from fastsuite._warm.protocol import send_reply


class Refusal(BaseException):
    """The child cannot run this as a cold run would; nothing has been written yet."""


def run(
    conn: socket.socket,
    request: dict[str, Any],
    fds: list[int],
    random_states: list[random.Random],
    guarded: set[str],
    learned_path: Path,
    pycache: Path,
) -> None:
    """Never returns: the child exits with pytest's exit code."""
    code = 1
    try:
        _become_caller(request, fds)
        for state in random_states:
            state.seed()
        sys.pycache_prefix = str(pycache)
        sys.dont_write_bytecode = False
        code = _run_pytest(conn, guarded, learned_path)
    except Refusal as refusal:
        send_reply(conn, {"fallback": str(refusal)})
        os._exit(0)
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else 1
    except BaseException:
        traceback.print_exc()
    _exit_as_interpreter(code)


def _become_caller(request: dict[str, Any], fds: list[int]) -> None:
    signal.set_wakeup_fd(-1)
    for signum in (signal.SIGCHLD, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    for target, fd in enumerate(fds):
        os.dup2(fd, target)
        os.close(fd)
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    os.umask(request["umask"])
    sys.argv = list(request["argv"])
    sys.path[:] = request["sys_path"]
    _reopen_standard_streams()


def _reopen_standard_streams() -> None:
    """Text streams on the caller's descriptors, buffered as the interpreter buffers them."""
    for fd, name in enumerate(("stdin", "stdout", "stderr")):
        old = getattr(sys, name)
        unbuffered = isinstance(getattr(old, "buffer", None), io.FileIO)  # -u, PYTHONUNBUFFERED
        raw = io.FileIO(fd, "r" if fd == 0 else "w", closefd=False)
        buffer: Any
        if fd == 0:
            buffer = io.BufferedReader(raw)
        elif unbuffered:
            buffer = raw
        else:
            buffer = io.BufferedWriter(raw)
        stream = io.TextIOWrapper(
            buffer,
            encoding=old.encoding,
            errors=old.errors,
            newline="\n" if fd else None,
            line_buffering=fd != 0 and not unbuffered and (raw.isatty() or fd == 2),
            write_through=fd != 0 and unbuffered,
        )
        stream.mode = "r" if fd == 0 else "w"  # type: ignore[misc]
        setattr(sys, name, stream)
        setattr(sys, f"__{name}__", stream)


def _run_pytest(conn: socket.socket, guarded: set[str], learned_path: Path) -> int:
    learning.forget_rewritable_own_modules()
    zygote_modules = set(sys.modules)
    with refusing_to_rewrite(guarded) as marks:
        code = pytest.main(sys.argv[1:], plugins=[_ColdOnlyGuard(marks, learned_path)])
    conn.close()
    sys.stdout.flush()
    learning.record(learned_path, sys.modules, zygote_modules, marks.marked)
    return int(code)


@dataclass
class Marks:
    """The names pytest marked for rewriting, and those of them the zygote had preloaded."""

    marked: set[str] = field(default_factory=set)
    preloaded: set[str] = field(default_factory=set)


@contextmanager
def refusing_to_rewrite(preloaded: set[str]) -> Iterator[Marks]:
    """Note what pytest marks for rewriting, and which of it the zygote preloaded (a new `-p`,
    an auto-loaded plugin's distribution): the child then refuses, before any output.

    `preloaded` leaves out what `import pytest` imports: a cold run has those too when pytest
    marks names, and pytest does not rewrite what is already imported. Pytest keeps no public
    hook for what it decides to rewrite: its rewriting import hook's mark_rewrite is wrapped.
    """
    from _pytest.assertion.rewrite import AssertionRewritingHook

    original = AssertionRewritingHook.mark_rewrite
    marks = Marks()

    def mark_rewrite(self: AssertionRewritingHook, *names: str) -> None:
        marks.marked.update(names)
        clashing = {name for name in names if learning.is_under_any(preloaded, name)}
        marks.preloaded |= clashing
        # Pytest would warn that it cannot rewrite them; the child refuses instead.
        original(self, *(name for name in names if name not in clashing))

    AssertionRewritingHook.mark_rewrite = mark_rewrite  # type: ignore[method-assign]
    try:
        yield marks
    finally:
        AssertionRewritingHook.mark_rewrite = original  # type: ignore[method-assign]


class _ColdOnlyGuard:
    """Once pytest has read every source of options: refuse what must run cold."""

    def __init__(self, marks: Marks, learned_path: Path) -> None:
        self.marks = marks
        self.learned_path = learned_path

    @pytest.hookimpl(tryfirst=True)
    def pytest_cmdline_main(self, config: pytest.Config) -> None:
        if clashing := sorted(self.marks.preloaded):
            learning.record(self.learned_path, {}, (), clashing)  # the zygote restarts without
            raise Refusal(f"pytest rewrites {', '.join(clashing)}, which the zygote preloaded")
        reason = fallback.cold_reason_for_options(config.option, os.isatty(0))
        if reason is not None:
            raise Refusal(reason)


def _exit_as_interpreter(code: int) -> None:
    """What the interpreter does at exit, minus tearing down its modules (about 150 ms)."""
    try:
        shutdown = getattr(threading, "_shutdown", None)
        if shutdown is not None:
            shutdown()  # waits for non-daemon threads, as a cold run's interpreter would
        atexit._run_exitfuncs()
        for stream in (sys.stdout, sys.stderr):
            stream.flush()
    except BaseException:
        traceback.print_exc()
    os._exit(code)
