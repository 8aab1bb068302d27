"""`fastsuite-warm --status` and `--stop`: the zygotes of this user, listed or stopped.

PYTEST_DONT_REWRITE: fastsuite-warm preloads this module (see fastsuite._warm.learning).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import signal
import socket
from pathlib import Path
from typing import Any

from fastsuite._warm.protocol import receive_message, send_request
from fastsuite._warm.state import paths_for, state_dir


def status() -> int:
    zygotes = _zygotes()
    if not zygotes:
        print(f"fastsuite-warm: no zygote is running (state in {state_dir()})")
        return 0
    mine = paths_for(dict(os.environ)).key
    for _path, found in zygotes:
        which = "this environment" if found["key"] == mine else "another environment"
        line = (
            f"fastsuite-warm: zygote {found['pid']} serves {which} ({found['prefix']}): "
            f"{found['runs']} runs, {found['running']} running, {found['modules']} modules "
            f"preloaded, up {found['uptime']} s"
        )
        if found.get("spare"):
            line += f", child {found['spare']} ready for the next run"
        if found["last_refusal"]:
            line += f"; last refusal: {found['last_refusal']}"
        print(line)
    return 0


def stop() -> int:
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


def _zygotes() -> list[tuple[str, dict[str, Any]]]:
    """Every zygote of this user: (socket, its status); sockets nobody serves are removed. A
    zygote that does not answer as this version's do (another version of fastsuite shares the
    folder, say) is left alone."""
    found = []
    for path in sorted(state_dir().glob("*.sock")):
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
                sock.connect(str(path))
                send_request(sock, {"op": "status"}, [])
                found.append((str(path), receive_message(sock)))
        except (ConnectionRefusedError, FileNotFoundError):
            path.unlink(missing_ok=True)
        except (OSError, EOFError):
            continue
    return found


def _lock_holder(lock: Path) -> int | None:
    fd = os.open(lock, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        content = os.pread(fd, 32, 0).decode(errors="replace")
        return int(content) if content.isdigit() else None
    finally:
        os.close(fd)  # releases the lock if this call took it
    return None
