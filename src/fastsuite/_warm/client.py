"""The `fastsuite-warm` command: pytest's arguments, run by a warm zygote or else cold.

It imports neither pytest nor the stack: it hands its stdin, stdout and stderr, directory,
environment and arguments to the zygote of this environment, forwards signals to the child
that runs them, and exits with pytest's exit code. When no zygote serves, or it refuses, or the
arguments need the terminal or other processes (`--pdb`, `-n`), pytest runs cold, here, and a
zygote starts in the background for the next run.

PYTEST_DONT_REWRITE: fastsuite-warm preloads this module (see fastsuite._warm.learning).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import sys

from fastsuite._warm import TYPE_CHECKING, fallback
from fastsuite._warm.protocol import send_request
from fastsuite._warm.state import (
    VERBOSE_ENV,
    interpreter_flags,
    paths_for,
    socket_path,
    state_dir,
)

# What only a cold run, --stop or --status needs is imported where it is used: a warm run's
# first result waits for this module's start-up.
if TYPE_CHECKING:
    from pathlib import Path
    from typing import Any

    from fastsuite._warm.state import Paths

_FORWARDED = (
    signal.SIGINT,
    signal.SIGTERM,
    signal.SIGHUP,
    signal.SIGQUIT,
    signal.SIGUSR1,
    signal.SIGUSR2,
    signal.SIGWINCH,
)
# pytest's exit code for a run the user interrupted.
_INTERRUPTED = 2
_USAGE_ERROR = 4


def main() -> int:
    args = sys.argv[1:]
    if args and args[0] in ("--stop", "--status"):
        if len(args) > 1:
            print(f"fastsuite-warm: {args[0]} takes no other arguments", file=sys.stderr)
            return _USAGE_ERROR
        return _stop() if args[0] == "--stop" else _status()
    environ = dict(os.environ)
    reason = _cold_reason(args)
    if reason is None:
        outcome = _run_warm(socket_path(environ), args)
        if isinstance(outcome, int):
            return outcome
        reason = outcome
    _say(f"cold run: {reason}")
    return _run_cold(paths_for(environ))


def _cold_reason(args: list[str]) -> str | None:
    if not hasattr(os, "fork") or not hasattr(socket, "send_fds"):
        return "this platform cannot fork a zygote"
    return fallback.cold_reason(args, os.isatty(0))


def _run_warm(zygote_socket: str, args: list[str]) -> int | str:
    """Pytest's exit code from a warm child, or why the run must happen cold."""
    try:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.connect(zygote_socket)
    except OSError:
        return "no zygote serves this environment yet"
    request = {
        "op": "run",
        "argv": [sys.argv[0], *args],
        "cwd": os.getcwd(),
        "env": dict(os.environ),
        "umask": _umask(),
        "sys_path": sys.path,
        "flags": interpreter_flags(),
    }
    forwarder = _Forwarder()
    try:
        send_request(sock, request, [0, 1, 2])
        with sock.makefile("rb") as replies:
            for line in replies:
                reply: dict[str, Any] = json.loads(line)
                if "pid" in reply:
                    _say(f"warm run: child {reply['pid']}")
                    forwarder.child_started(reply["pid"])
                elif "refused" in reply or "fallback" in reply:
                    if forwarder.interrupted:
                        return _INTERRUPTED
                    return str(reply.get("refused") or reply.get("fallback"))
                elif "signal" in reply:
                    forwarder.restore()
                    signal.signal(reply["signal"], signal.SIG_DFL)
                    os.kill(os.getpid(), reply["signal"])
                    return 128 + int(reply["signal"])
                elif "exit" in reply:
                    return int(reply["exit"])
    except OSError:
        pass
    finally:
        forwarder.restore()
        sock.close()
    if forwarder.child is None:
        return "the zygote went away before the run started"
    print("fastsuite-warm: the zygote went away during the run", file=sys.stderr)
    return 1


class _Forwarder:
    """Signals to the client go to the child (Ctrl-C reaches only the terminal's foreground)."""

    def __init__(self) -> None:
        self.child: int | None = None
        self.pending: list[int] = []
        self.interrupted = False
        self.previous = {signum: signal.signal(signum, self._handle) for signum in _FORWARDED}

    def _handle(self, signum: int, frame: object) -> None:
        self.interrupted |= signum == signal.SIGINT
        if self.child is None:
            self.pending.append(signum)
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.child, signum)

    def child_started(self, pid: int) -> None:
        self.child = pid
        for signum in self.pending:
            self._handle(signum, None)
        self.pending.clear()

    def restore(self) -> None:
        for signum, handler in self.previous.items():
            signal.signal(signum, handler)


def _umask() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return umask


def _run_cold(paths: Paths) -> int:
    """Pytest in this process, as `pytest` would run it; then learn, and start a zygote."""
    sys_path = list(sys.path)  # before pytest adds the project's folders
    import pytest

    from fastsuite._warm import learning
    from fastsuite._warm.child import refusing_to_rewrite

    # Pytest imports the plugin itself; a module of this package it would rewrite must not be
    # there first (none is: each leaves rewriting off, see learning).
    learning.forget_rewritable_own_modules()
    before = set(sys.modules)

    with refusing_to_rewrite(set()) as marks:
        code = pytest.console_main()
    learning.record(paths.learned, sys.modules, before, marks.marked)
    _start_zygote(paths, sys_path)
    return code


def _start_zygote(paths: Paths, sys_path: list[str]) -> None:
    """A zygote for this environment, in the background, unless one serves or is starting."""
    import fcntl

    lock_fd = os.open(paths.lock, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return
    finally:
        os.close(lock_fd)
    import subprocess

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


def _zygotes() -> list[tuple[str, dict[str, Any]]]:
    """Every zygote of this user: (socket, its status); sockets nobody serves are removed."""
    found = []
    for path in sorted(state_dir().glob("*.sock")):
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
                sock.connect(str(path))
                send_request(sock, {"op": "status"}, [])
                found.append((str(path), json.loads(sock.makefile("rb").readline())))
        except (OSError, ValueError):
            path.unlink(missing_ok=True)
    return found


def _status() -> int:
    zygotes = _zygotes()
    if not zygotes:
        print(f"fastsuite-warm: no zygote is running (state in {state_dir()})")
        return 0
    mine = paths_for(dict(os.environ)).key
    for _path, status in zygotes:
        which = "this environment" if status["key"] == mine else "another environment"
        line = (
            f"fastsuite-warm: zygote {status['pid']} serves {which} ({status['prefix']}): "
            f"{status['runs']} runs, {status['running']} running, {status['modules']} modules "
            f"preloaded, up {status['uptime']} s"
        )
        if status.get("spare"):
            line += f", child {status['spare']} ready for the next run"
        if status["last_refusal"]:
            line += f"; last refusal: {status['last_refusal']}"
        print(line)
    return 0


def _stop() -> int:
    """SIGTERM to every zygote, serving or still preloading: each holds its lock file."""
    stopped = 0
    for lock in sorted(state_dir().glob("*.lock")):
        pid = _lock_holder(lock)
        if pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)  # a serving zygote lets its running children end
                stopped += 1
    print(f"fastsuite-warm: stopped {stopped} zygote(s)")
    return 0


def _lock_holder(lock: Path) -> int | None:
    import fcntl

    fd = os.open(lock, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        content = os.pread(fd, 32, 0).decode(errors="replace")
        return int(content) if content.isdigit() else None
    finally:
        os.close(fd)  # releases the lock if this call took it
    return None


def _say(message: str) -> None:
    if os.environ.get(VERBOSE_ENV):
        print(f"fastsuite-warm: {message}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
