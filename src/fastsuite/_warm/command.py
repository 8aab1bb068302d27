"""The `fastsuite-warm` command (started by fastsuite._warm.client): pytest's arguments, run by a
warm zygote or else cold.

It imports neither pytest nor the stack: it hands its stdin, stdout and stderr, directory,
environment and arguments to the zygote of this environment, forwards signals to the child
that runs them, and exits with pytest's exit code. When no zygote serves, or it refuses, or the
arguments need the terminal or other processes (`--pdb`, `-n`), pytest runs cold, here
(fastsuite._warm.cold), and a zygote starts in the background for the next run.

A warm run's first result waits for this module's start-up: it imports only modules the
interpreter has loaded before any import or that are built into it (_socket and _signal, not
socket and signal with their enums; marshal, not json). What only a cold run, --stop or
--status needs is imported where it is used.

PYTEST_DONT_REWRITE: fastsuite-warm preloads this module (see fastsuite._warm.learning).
"""

from __future__ import annotations

import _signal  # type: ignore[import-not-found,unused-ignore]
import _socket
import os
import sys
import time

from fastsuite._warm import TYPE_CHECKING, fallback
from fastsuite._warm.protocol import receive_message, send_request
from fastsuite._warm.state import TIMING_ENV, VERBOSE_ENV, interpreter_flags, socket_path

if TYPE_CHECKING:
    from typing import Any

_FORWARDED = (
    _signal.SIGINT,
    _signal.SIGTERM,
    _signal.SIGHUP,
    _signal.SIGQUIT,
    _signal.SIGUSR1,
    _signal.SIGUSR2,
    _signal.SIGWINCH,
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
        from fastsuite._warm import control

        return control.stop() if args[0] == "--stop" else control.status()
    reason = _cold_reason(args)
    if reason is None:
        outcome = _run_warm(socket_path(dict(os.environ)), args)
        if isinstance(outcome, int):
            return outcome
        reason = outcome
    say(f"cold run: {reason}")
    from fastsuite._warm import cold

    return cold.run()


def _cold_reason(args: list[str]) -> str | None:
    if not hasattr(os, "fork") or not hasattr(_socket, "SCM_RIGHTS"):
        return "this platform cannot fork a zygote"
    return fallback.cold_reason(args, os.isatty(0))


def _run_warm(zygote_socket: str, args: list[str]) -> int | str:
    """Pytest's exit code from a warm child, or why the run must happen cold."""
    sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
    try:
        sock.connect(zygote_socket)
    except OSError:
        sock.close()
        return "no zygote serves this environment yet"
    request = {
        "op": "run",
        "argv": [sys.argv[0], *args],
        "cwd": os.getcwd(),
        "env": dict(os.environ),
        "umask": _umask(),
        "sys_path": sys.path,
        "flags": interpreter_flags(),
        "sent": time.monotonic(),
    }
    if os.environ.get(TIMING_ENV):
        cpu = 1000 * time.process_time()
        print(
            f"fastsuite-warm timing: client, {cpu:.1f} ms CPU before its request", file=sys.stderr
        )
    forwarder = _Forwarder()
    try:
        send_request(sock, request, [0, 1, 2])
        while True:
            reply: dict[str, Any] = receive_message(sock)
            if "pid" in reply:
                say(f"warm run: child {reply['pid']}")
                forwarder.child_started(reply["pid"])
            elif "refused" in reply or "fallback" in reply:
                if forwarder.interrupted:
                    return _INTERRUPTED
                return str(reply.get("refused") or reply.get("fallback"))
            elif "signal" in reply:
                forwarder.restore()
                _signal.signal(reply["signal"], _signal.SIG_DFL)
                os.kill(os.getpid(), reply["signal"])
                return 128 + int(reply["signal"])
            elif "exit" in reply:
                return int(reply["exit"])
    except (OSError, EOFError):
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
        self.previous = {signum: _signal.signal(signum, self._handle) for signum in _FORWARDED}

    def _handle(self, signum: int, frame: object) -> None:
        self.interrupted |= signum == _signal.SIGINT
        if self.child is None:
            self.pending.append(signum)
            return
        try:  # noqa: SIM105 (contextlib: an import before the first result)
            os.kill(self.child, signum)
        except ProcessLookupError:
            pass

    def child_started(self, pid: int) -> None:
        self.child = pid
        for signum in self.pending:
            self._handle(signum, None)
        self.pending.clear()

    def restore(self) -> None:
        for signum, handler in self.previous.items():
            _signal.signal(signum, handler)


def _umask() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return umask


def say(message: str) -> None:
    if os.environ.get(VERBOSE_ENV):
        print(f"fastsuite-warm: {message}", file=sys.stderr)
