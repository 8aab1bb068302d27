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
import inspect
import io
import os
import random
import signal
import socket
import sys
import threading
import time
import traceback
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from _pytest.config import get_config as _get_config

from fastsuite._warm import fallback, learning, prerewrite
from fastsuite._warm.protocol import send_reply
from fastsuite._warm.state import TIMING_ENV, Paths


class Refusal(BaseException):
    """The child cannot run this as a cold run would; nothing has been written yet."""


def run(
    conn: socket.socket,
    request: dict[str, Any],
    fds: list[int],
    random_states: list[random.Random],
    guarded: frozenset[str],
    prepared: Prepared,
    pycache: Path,
) -> None:
    """Never returns: the child exits with pytest's exit code."""
    code = 1
    prepared.phases.begin(request.get("sent"))
    try:
        _become_caller(request, fds)
        for state in random_states:
            state.seed()
        sys.pycache_prefix = str(pycache)
        sys.dont_write_bytecode = False
        code = _run_pytest(conn, guarded, prepared)
    except Refusal as refusal:
        send_reply(conn, {"fallback": str(refusal)})
        os._exit(0)
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else 1
    except BaseException:
        traceback.print_exc()
    _exit_as_interpreter(code, prepared.phases if os.environ.get(TIMING_ENV) else None)


@dataclass
class Prepared:
    """What a child builds before its request comes: its plugins and, when it can guess the
    arguments and directory (those of the zygote's last run), pytest's first Config.

    That Config (`_pytest.config.get_config`: the plugin manager, pytest's builtin plugins
    registered, their options added) depends only on the arguments, the directory, the plugins
    passed and the environment (PYTEST_DEBUG, the same for every run a zygote serves); it reads
    no file of the project. A child whose request has other arguments or another directory
    builds its own, as a cold run does.
    """

    learned_path: Path
    rewritten_path: Path
    marks: Marks = field(default_factory=lambda: Marks())
    phases: _Phases = field(default_factory=lambda: _Phases())
    plugins: list[object] = field(default_factory=list)
    modules: set[str] = field(default_factory=set)  # the zygote's, before any run's import
    args: list[str] | None = None
    cwd: str | None = None
    config: pytest.Config | None = None

    def __post_init__(self) -> None:
        self.plugins = [_ColdOnlyGuard(self.marks, self.learned_path), self.phases]
        learning.forget_rewritable_own_modules()
        self.modules = set(sys.modules)


def prepare(paths: Paths, last_run: tuple[list[str], str] | None) -> Prepared:
    """A spare's preparation; with `last_run`'s arguments and directory, pytest's first Config."""
    prepared = Prepared(paths.learned, paths.rewritten)
    if last_run is None:
        return prepared
    argv, cwd = last_run
    try:
        os.chdir(cwd)
        keywords = _get_config_keywords(argv)
        prepared.config = _get_config(list(argv[1:]), prepared.plugins, **keywords)
    except Exception:
        return Prepared(paths.learned, paths.rewritten)  # the run builds its own
    prepared.args, prepared.cwd = list(argv[1:]), cwd
    return prepared


def _get_config_keywords(argv: list[str]) -> dict[str, str]:
    """What _run_pytest's call passes to get_config besides the arguments and plugins."""
    if "prog" not in inspect.signature(_get_config).parameters:
        return {}
    return {"prog": _prog(argv) or "pytest.main()"}


def _prog(argv: list[str]) -> str | None:
    """The program name a cold `pytest` shows in its usage and errors, where pytest takes one
    (9.1 and later; before, argparse's own: the script's name, the same warm or cold)."""
    import _pytest.config

    get_prog_name = getattr(_pytest.config, "_get_prog_name", None)
    main = getattr(_pytest.config, "_main", None)
    if get_prog_name is None or main is None or "prog" not in inspect.signature(main).parameters:
        return None
    return str(get_prog_name(argv))


def _pytest_main(args: list[str], plugins: list[object]) -> int:
    """pytest.main, but with the program name of a cold run (not "pytest.main()")."""
    import _pytest.config

    prog = _prog(sys.argv)
    if prog is None:
        return int(pytest.main(args, plugins=plugins))
    return int(_pytest.config._main(args=args, plugins=plugins, prog=prog))


@contextmanager
def _prepared_config(prepared: Prepared) -> Iterator[None]:
    """pytest.main's first Config: the prepared one, if it was built for this very call."""
    import _pytest.config

    prebuilt, prepared.config = prepared.config, None
    if prebuilt is None:
        yield
        return

    def get_config(args: Any = None, plugins: Any = None, **keywords: Any) -> pytest.Config:
        nonlocal prebuilt
        config, prebuilt = prebuilt, None
        if (
            config is not None
            and args == prepared.args
            and plugins is prepared.plugins
            and keywords == _get_config_keywords(sys.argv)
            and os.getcwd() == prepared.cwd
        ):
            return config
        return _get_config(args, plugins, **keywords)

    _pytest.config.get_config = get_config
    try:
        yield
    finally:
        _pytest.config.get_config = _get_config


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


def _run_pytest(conn: socket.socket, guarded: frozenset[str], prepared: Prepared) -> int:
    prepared.phases.mark("pytest.main")
    with refusing_to_rewrite(guarded, prepared.marks), _prepared_config(prepared):
        code = _pytest_main(sys.argv[1:], prepared.plugins)
    conn.close()
    sys.stdout.flush()
    learning.record(prepared.learned_path, sys.modules, prepared.modules, prepared.marks.marked)
    prerewrite.record(prepared.rewritten_path, sys.modules)
    prepared.phases.mark("recorded")
    return int(code)


@dataclass
class Marks:
    """The names pytest marked for rewriting, and those of them the zygote had preloaded."""

    marked: set[str] = field(default_factory=set)
    preloaded: set[str] = field(default_factory=set)


@contextmanager
def refusing_to_rewrite(preloaded: Iterable[str], marks: Marks | None = None) -> Iterator[Marks]:
    """Note what pytest marks for rewriting, and which of it the zygote preloaded (a new `-p`,
    an auto-loaded plugin's distribution): the child then refuses, before any output.

    `preloaded` (the modules' names, or their learning.packages_of) leaves out what
    `import pytest` imports: a cold run has those too when pytest
    marks names, and pytest does not rewrite what is already imported. Pytest keeps no public
    hook for what it decides to rewrite: its rewriting import hook's mark_rewrite is wrapped.
    """
    from _pytest.assertion.rewrite import AssertionRewritingHook

    original = AssertionRewritingHook.mark_rewrite
    marks = Marks() if marks is None else marks
    packages = preloaded if isinstance(preloaded, frozenset) else learning.packages_of(preloaded)

    def mark_rewrite(self: AssertionRewritingHook, *names: str) -> None:
        marks.marked.update(names)
        clashing = {name for name in names if name in packages}
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


class _Phases:
    """FASTSUITE_WARM_TIMING: when each phase of the run ended, wall and CPU time, on stderr.

    Wall time counts from the client's request (`sent`, CLOCK_MONOTONIC, which every process
    shares), CPU time is this child's since it took the request."""

    def __init__(self) -> None:
        self.begin(None)

    def begin(self, sent: float | None) -> None:
        self.sent = sent
        self.start = time.monotonic(), time.process_time()
        self.marks: list[tuple[str, float, float]] = []
        self.first_result = False
        self.mark("request taken")

    def mark(self, phase: str) -> None:
        self.marks.append((phase, time.monotonic(), time.process_time()))

    @pytest.hookimpl(tryfirst=True)
    def pytest_cmdline_main(self) -> None:
        self.mark("options parsed")

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionstart(self) -> None:
        self.mark("configured")

    def pytest_collection_finish(self) -> None:
        self.mark("collected")

    @pytest.hookimpl(trylast=True)
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if not self.first_result and (report.when == "call" or report.outcome != "passed"):
            self.first_result = True
            self.mark("first result")

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self) -> None:
        self.mark("session finished")

    def report(self) -> None:
        origin = self.sent if self.sent is not None else self.start[0]
        lines = [f"fastsuite-warm timing: child {os.getpid()}, ms since the request (CPU ms):"]
        previous_wall, previous_cpu = origin, self.start[1]
        for phase, wall, cpu in self.marks:
            since, step = 1000 * (wall - origin), 1000 * (wall - previous_wall)
            cpu_step = 1000 * (cpu - previous_cpu)
            lines.append(f"  {phase:<18} {since:7.1f}  +{step:6.1f}  (cpu +{cpu_step:6.1f})")
            previous_wall, previous_cpu = wall, cpu
        if sys.__stderr__ is not None:
            print("\n".join(lines), file=sys.__stderr__, flush=True)


def _exit_as_interpreter(code: int, phases: _Phases | None = None) -> None:
    """What the interpreter does at exit, minus tearing down its modules (about 150 ms)."""
    try:
        shutdown = getattr(threading, "_shutdown", None)
        if shutdown is not None:
            shutdown()  # waits for non-daemon threads, as a cold run's interpreter would
        atexit._run_exitfuncs()
        for stream in (sys.stdout, sys.stderr):
            stream.flush()
        if phases is not None:
            phases.mark("exit")
            phases.report()
    except BaseException:
        traceback.print_exc()
    os._exit(code)
