"""Whether anything in the folders of the preloaded files changed: inotify, where Linux has it.

Before each run the zygote must know that no preloaded file changed since it stamped them
(checks.first_change: a thousand stat calls, several milliseconds before the run can start).
Where the kernel offers inotify, the zygote watches the folders that hold those files (and the
stamped folders themselves) from before it stamps them, and compares the stamps only when the
kernel reports something there: a change made before the request is queued by the time the
request comes. Anything reported (other than a __pycache__ folder appearing), a full queue, a
watch the kernel dropped: the stamps are compared, as without inotify.

PYTEST_DONT_REWRITE: fastsuite-warm preloads this module (see fastsuite._warm.learning).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from typing import Any

_IN_MODIFY = 0x2
_IN_ATTRIB = 0x4
_IN_CLOSE_WRITE = 0x8
_IN_MOVED_FROM = 0x40
_IN_MOVED_TO = 0x80
_IN_CREATE = 0x100
_IN_DELETE = 0x200
_IN_DELETE_SELF = 0x400
_IN_MOVE_SELF = 0x800
_IN_ONLYDIR = 0x1000000
_MASK = (
    _IN_MODIFY
    | _IN_ATTRIB
    | _IN_CLOSE_WRITE
    | _IN_MOVED_FROM
    | _IN_MOVED_TO
    | _IN_CREATE
    | _IN_DELETE
    | _IN_DELETE_SELF
    | _IN_MOVE_SELF
    | _IN_ONLYDIR
)
_HEADER = 16  # struct inotify_event: int wd; uint32 mask, cookie, len; then the name
_IGNORABLE = frozenset({b"__pycache__"})  # bytecode written beside a module


class Watcher:
    """An inotify descriptor watching folders; `fd` must survive the zygote's fork checks."""

    def __init__(self, fd: int) -> None:
        self.fd = fd

    def quiet(self) -> bool:
        """Whether nothing was reported since the last call (what was is read and dropped)."""
        quiet = True
        while True:
            try:
                data = os.read(self.fd, 65536)
            except BlockingIOError:
                return quiet
            except OSError:
                return False
            if not data:
                return False
            quiet &= all(name in _IGNORABLE for name in _names(data))

    def close(self) -> None:
        os.close(self.fd)


def _names(data: bytes) -> Iterable[bytes]:
    """The names the events in `data` are about (b"" for a folder's own, or an overflow)."""
    offset = 0
    while offset + _HEADER <= len(data):
        length = int.from_bytes(data[offset + 12 : offset + _HEADER], sys.byteorder)
        yield data[offset + _HEADER : offset + _HEADER + length].rstrip(b"\0")
        offset += _HEADER + length


def watch(paths: Iterable[str]) -> Watcher | None:
    """A watcher of the folders of `paths` (a folder's own path: that folder), or None where
    inotify is not to be had (then every run compares the stamps)."""
    if not sys.platform.startswith("linux"):
        return None
    functions = _inotify()
    if functions is None:
        return None
    init1, add_watch = functions
    fd = init1(os.O_NONBLOCK | os.O_CLOEXEC)
    if fd < 0:
        return None
    folders = {path if os.path.isdir(path) else os.path.dirname(path) for path in paths}
    for folder in sorted(folders):
        if add_watch(fd, os.fsencode(folder), _MASK) < 0:
            os.close(fd)  # out of watches, or a folder missing: every run compares the stamps
            return None
    return Watcher(fd)


def _inotify() -> tuple[Any, Any] | None:
    """libc's inotify_init1 and inotify_add_watch, through ctypes. The zygote's own use: the
    modules ctypes brings are dropped from sys.modules again (a cold run need not have them;
    one that imports ctypes gets it fresh, as it would)."""
    before = set(sys.modules)
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        return libc.inotify_init1, libc.inotify_add_watch
    except (ImportError, OSError, AttributeError):
        return None
    finally:
        for name in set(sys.modules) - before:
            del sys.modules[name]
