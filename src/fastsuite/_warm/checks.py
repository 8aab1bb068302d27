"""What a zygote checks before it forks: that its modules are fresh, and that forking is safe.

PYTEST_DONT_REWRITE: fastsuite-warm preloads this module (see fastsuite._warm.learning).
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Iterable

Stamp = tuple[int, int, int]  # inode, mtime in ns, size

_FD_DIRS = ("/proc/self/fd", "/dev/fd")


def stamp(path: str) -> Stamp | None:
    try:
        status = os.stat(path)
    except OSError:
        return None
    return (status.st_ino, status.st_mtime_ns, status.st_size)


def take_stamps(paths: Iterable[str], site_folders: Iterable[str]) -> dict[str, Stamp | None]:
    """Every loaded module's file, and the site-packages folders (a package added or removed)."""
    stamps = {path: stamp(path) for path in paths}
    for folder in site_folders:
        if os.path.isdir(folder):
            stamps[folder] = stamp(folder)
    return stamps


def module_files() -> list[str]:
    files = []
    for module in list(sys.modules.values()):
        origin = getattr(getattr(module, "__spec__", None), "origin", None)
        if isinstance(origin, str) and os.path.isabs(origin):
            files.append(origin)
    return files


def first_change(stamps: dict[str, Stamp | None]) -> str | None:
    """The first preloaded file (or sys.path folder) changed since the zygote loaded it."""
    for path, taken in stamps.items():
        if stamp(path) != taken:
            return path
    return None


def thread_count() -> int:
    """Threads of this process, including those started from C (/proc on Linux)."""
    try:
        return len(os.listdir("/proc/self/task"))
    except OSError:
        return threading.active_count()


def open_descriptors() -> dict[int, str]:
    """Open file descriptors and what they point at."""
    for folder in _FD_DIRS:
        try:
            names = os.listdir(folder)
        except OSError:
            continue
        found = {}
        for name in names:
            fd = int(name)
            try:
                os.fstat(fd)  # the listing's own descriptor is closed by now
            except OSError:
                continue
            try:
                found[fd] = os.readlink(f"{folder}/{name}")
            except OSError:
                found[fd] = "?"
        return found
    return {}


def unsafe_to_fork(allowed: set[int]) -> str | None:
    """Why forking now would hand a child shared state (threads, a loop, a connection)."""
    if (threads := thread_count()) > 1:
        return f"{threads} threads are running"
    asyncio = sys.modules.get("asyncio")
    if asyncio is not None and asyncio.events._get_running_loop() is not None:
        return "an event loop is running"
    stray = {fd: target for fd, target in open_descriptors().items() if fd not in allowed}
    if stray:
        fd, target = min(stray.items())
        return f"descriptor {fd} is open ({target})"
    return None
