"""The zygote: third-party modules preloaded once, a forked child per run.

Started in the background by the client (`python -m fastsuite._warm.zygote ARGS`), one per
environment (a lock file says which one serves). It refuses to fork, and the client runs cold,
when the request comes from other interpreter flags or another environment, when a preloaded
file changed (then it restarts itself, fresh; fastsuite._warm.watching says when to look), or
when forking is unsafe. After N runs it restarts (a fresh string hashing seed); after an idle
hour it exits. While it idles, the next run's child is already forked (a spare, its copy of the
heap made, pytest's first Config built for the last run's arguments, edited test modules
rewritten), waiting for the request.

PYTEST_DONT_REWRITE: fastsuite-warm preloads this module (see fastsuite._warm.learning).
"""

from __future__ import annotations

import contextlib
import fcntl
import gc
import importlib
import json
import os
import random
import selectors
import signal
import socket
import struct
import sys
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastsuite._warm import (
    checks,
    child,
    learning,
    metadata,
    prerewrite,
    tracing,
    watching,
)
from fastsuite._warm.protocol import MAX_FDS, receive_request, send_reply, send_request
from fastsuite._warm.state import (
    DEFAULT_IDLE_SECONDS,
    DEFAULT_MAX_RUNS,
    IDLE_ENV,
    MAX_RUNS_ENV,
    Paths,
    environment_key,
    interpreter_flags,
    setting,
)

# A zygote that keeps finding modules unsafe to preload gives up restarting after this many.
_MAX_GENERATIONS = 8


@dataclass
class _Spare:
    """A child forked ahead of the next run (`_fork_spare`), and the zygote's end of its line."""

    pid: int
    line: socket.socket


@dataclass
class _Zygote:
    paths: Paths
    arguments: dict[str, Any]
    lock_fd: int
    listener: socket.socket
    wakeup: tuple[int, int]
    selector: selectors.BaseSelector = field(default_factory=selectors.DefaultSelector)
    children: dict[int, socket.socket] = field(default_factory=dict)
    runs: int = 0
    started: float = field(default_factory=time.time)
    preloaded: int = 0
    stamps: dict[str, checks.Stamp | None] = field(default_factory=dict)
    random_states: list[random.Random] = field(default_factory=list)
    baseline: set[str] = field(default_factory=set)
    guarded: set[str] = field(default_factory=set)
    guarded_packages: frozenset[str] = frozenset()  # learning.packages_of(guarded)
    learned_mtime: int = 0
    last_refusal: str = ""
    restart_when_idle: bool = False
    stopping: bool = False
    spare: _Spare | None = None
    last_run: tuple[list[str], str] | None = None  # argv and directory, for the spare's guess
    watcher: watching.Watcher | None = None


def main() -> None:
    arguments = json.loads(sys.argv[1])
    paths = Paths(Path(arguments["directory"]), arguments["key"])
    lock_fd = arguments.get("lock_fd")
    if lock_fd is None:
        lock_fd = os.open(paths.lock, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return  # another zygote serves (or is starting for) this environment
        # `fastsuite-warm --stop` finds a zygote here even before it serves.
        os.ftruncate(lock_fd, 0)
        os.pwrite(lock_fd, str(os.getpid()).encode(), 0)
    os.set_inheritable(lock_fd, False)
    arguments["lock_fd"] = lock_fd
    sys.path[:] = arguments["sys_path"]
    # Pytest first: what it imports is there in a cold run before pytest marks anything for
    # rewriting, and pytest does not rewrite what is already imported.
    importlib.import_module("pytest")
    baseline = set(sys.modules)
    _preload(paths, arguments)
    zygote = _Zygote(paths, arguments, lock_fd, _listen(paths), os.pipe(), baseline=baseline)
    _settle(zygote)
    _log(f"serving {zygote.paths.socket} with {zygote.preloaded} modules")
    _serve(zygote)


def _preload(paths: Paths, arguments: dict[str, Any]) -> None:
    """Import what earlier runs imported, in their order; restart without the modules that
    import what pytest rewrites, and without one that starts a thread, opens a descriptor or
    warns when imported."""
    learned = learning.read(paths.learned)
    never = set(learned.never)
    before = set(sys.modules)
    draggers = set()  # what imported a rewritten module where tracing could not see it
    with tracing.traced_imports() as graph:
        for name in learned.modules:
            if name in sys.modules or learning.is_under(name, never):
                continue
            modules = set(sys.modules)
            problem = _import_checked(name)
            if problem == "failed":
                never.add(name)  # for this zygote only: a half-finished `uv sync`, say
            elif problem is not None:
                _restart_without([name], problem, paths, arguments)
            if any(learning.is_forbidden(new, never) for new in set(sys.modules) - modules):
                draggers.add(name)
    importing = tracing.reaching(graph, lambda module: learning.is_forbidden(module, never))
    forbidden = {name for name in set(sys.modules) - before if learning.is_forbidden(name, never)}
    if tainted := sorted(((importing | draggers | forbidden) & set(sys.modules)) - before):
        _restart_without(tainted, "they import what pytest rewrites", paths, arguments)


def _restart_without(names: list[str], why: str, paths: Paths, arguments: dict[str, Any]) -> None:
    learned = learning.read(paths.learned)
    learned.never += names
    learning.write(paths.learned, learned)
    _log(f"not preloading {', '.join(names)}: {why}; restarting without them")
    if arguments.get("generation", 0) < _MAX_GENERATIONS:
        _restart(arguments)


def _import_checked(name: str) -> str | None:
    threads, descriptors = checks.thread_count(), set(checks.open_descriptors())
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            importlib.import_module(name)
        except Exception:
            return "failed"
    if caught:
        return f"it warns when imported ({caught[0].category.__name__}: {caught[0].message})"
    if checks.thread_count() != threads:
        return "it starts a thread when imported"
    if new := set(checks.open_descriptors()) - descriptors:
        return f"it opens descriptor {min(new)} when imported"
    return None


def _settle(zygote: _Zygote) -> None:
    """After (more) preloading: random states to reseed, the heap frozen, files stamped."""
    _drop_spare(zygote)  # it has the heap as it was
    # What a run's entry-point scans read, in memory (stamped before it is read).
    absolute_folders = [folder for folder in sys.path if os.path.isabs(folder)]
    metadata_stamps = metadata.remember(absolute_folders, learning.THIRD_PARTY_ROOTS)
    zygote.preloaded = len(sys.modules)
    zygote.guarded = {
        name
        for name, module in sys.modules.items()
        if name not in zygote.baseline
        and not learning.is_own(name)  # preloaded only while pytest leaves them alone
        and not learning.rewrite_disabled(module)
    }
    zygote.guarded_packages = learning.packages_of(zygote.guarded)
    # Frozen objects are out of gc.get_objects()' reach: the list grows with each preload.
    zygote.random_states += [
        obj
        for obj in gc.get_objects()
        if isinstance(obj, random.Random) and not isinstance(obj, random.SystemRandom)
    ]
    gc.collect()
    gc.freeze()
    site_folders = [folder for folder in sys.path if folder.startswith(learning.THIRD_PARTY_ROOTS)]
    site_folders += [folder.rstrip(os.sep) for folder in learning.THIRD_PARTY_ROOTS]
    module_files = checks.module_files()
    if zygote.watcher is not None:
        zygote.watcher.close()
    # Watched from before the stamps are taken: a change after them is reported.
    zygote.watcher = watching.watch([*metadata_stamps, *module_files, *site_folders])
    zygote.stamps = {**metadata_stamps, **checks.take_stamps(module_files, site_folders)}
    zygote.learned_mtime = _mtime(zygote.paths.learned)


def _listen(paths: Paths) -> socket.socket:
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    temporary = paths.socket.with_name(f"{paths.socket.name}.{os.getpid()}")
    temporary.unlink(missing_ok=True)
    listener.bind(str(temporary))
    os.chmod(temporary, 0o600)
    listener.listen(16)
    os.replace(temporary, paths.socket)  # clients see the socket only once it serves
    return listener


def _serve(zygote: _Zygote) -> None:
    read_end, write_end = zygote.wakeup
    os.set_blocking(write_end, False)
    signal.set_wakeup_fd(write_end, warn_on_full_buffer=False)
    signal.signal(signal.SIGCHLD, lambda signum, frame: None)
    signal.signal(signal.SIGTERM, lambda signum, frame: _stop(zygote))
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    zygote.selector.register(zygote.listener, selectors.EVENT_READ, "accept")
    zygote.selector.register(read_end, selectors.EVENT_READ, "wakeup")
    idle = setting(IDLE_ENV, DEFAULT_IDLE_SECONDS)
    while True:
        _fork_spare(zygote)
        events = zygote.selector.select(timeout=None if zygote.children else idle)
        if not events and not zygote.children:
            _stop_accepting(zygote)
        for key, _mask in events:
            if key.data == "accept" and not zygote.stopping:
                _accept(zygote)
            elif key.data == "wakeup":
                os.read(read_end, 4096)
                _reap(zygote)
            elif isinstance(key.data, int):
                _client_gone(zygote, key.data)
        if zygote.stopping and not zygote.children:
            if zygote.restart_when_idle:
                _restart(zygote.arguments)
            return


def _accept(zygote: _Zygote) -> None:
    conn, _ = zygote.listener.accept()
    fds: list[int] = []
    try:
        conn.settimeout(5)
        if not _same_user(conn):
            raise ConnectionError("a connection from another user")
        request, fds = receive_request(conn)
        conn.settimeout(None)
        operation = request.get("op")
        if operation == "status":
            send_reply(conn, _status(zygote))
        elif operation == "run" and _run(zygote, conn, request, fds):
            return  # the connection now belongs to the child's run
    except (OSError, EOFError, ValueError, KeyError) as error:
        _log(f"bad request: {error!r}")
    finally:
        for fd in fds:
            os.close(fd)
    conn.close()


def _same_user(conn: socket.socket) -> bool:
    if not hasattr(socket, "SO_PEERCRED"):
        return True  # the socket's folder is the user's own (mode 0700)
    credentials = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    _pid, uid, _gid = struct.unpack("3i", credentials)
    return bool(uid == os.getuid())


def _run(zygote: _Zygote, conn: socket.socket, request: dict[str, Any], fds: list[int]) -> bool:
    refusal = _refusal(zygote, conn, request, fds)
    if refusal is not None:
        zygote.last_refusal = refusal
        send_reply(conn, {"refused": refusal})
        return False
    pid = _hand_to_spare(zygote, conn, request, fds)
    if pid is None:
        pid = os.fork()
        if pid == 0:
            _close_for_child(zygote)
            _run_child(zygote, conn, request, fds, child.prepare(zygote.paths, None))
    zygote.last_run = (list(request["argv"]), str(request["cwd"]))
    send_reply(conn, {"pid": pid})
    zygote.children[pid] = conn
    zygote.selector.register(conn, selectors.EVENT_READ, pid)
    zygote.runs += 1
    if zygote.runs >= setting(MAX_RUNS_ENV, DEFAULT_MAX_RUNS):
        _restart_when_idle(zygote)  # a fresh string hashing seed every N runs
    return True


def _run_child(
    zygote: _Zygote,
    conn: socket.socket,
    request: dict[str, Any],
    fds: list[int],
    prepared: child.Prepared,
) -> None:
    child.run(
        conn,
        request,
        fds,
        zygote.random_states,
        zygote.guarded_packages,
        prepared,
        zygote.paths.pycache,
    )


def _fork_spare(zygote: _Zygote) -> None:
    """Fork the next run's child ahead, while the zygote idles: fork's cost, and the copying of
    the heap's pages that a child's first writes (reference counts) cause, are paid before the
    run instead of during it. The spare is the child a fork at the request would have been:
    the zygote's heap is the same until it preloads more (then the spare is replaced), and what
    a request must find (fresh files, the same flags and environment) is checked at the request.
    """
    if zygote.spare is not None or zygote.children or zygote.stopping:
        return  # one at a time; never beside a running child (two cores or fewer, often)
    if checks.unsafe_to_fork(_allowed_descriptors(zygote)) is not None:
        return  # the request will find it too, and refuse
    line, spare_line = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        pid = os.fork()
    except OSError:
        line.close()
        spare_line.close()
        return  # no room for one now: the request forks
    if pid == 0:
        line.close()
        _wait_as_spare(zygote, spare_line)
    spare_line.close()
    zygote.spare = _Spare(pid, line)


def _wait_as_spare(zygote: _Zygote, line: socket.socket) -> None:
    """In the spare: the zygote's handlers and descriptors let go, the heap's pages copied (as
    the run's first touches would copy them), the next run's first steps taken (child.prepare;
    the test modules edited meanwhile rewritten, fastsuite._warm.prerewrite), then the
    request, or the end of the line."""
    signal.set_wakeup_fd(-1)
    for signum in (signal.SIGTERM, signal.SIGCHLD):
        signal.signal(signum, signal.SIG_DFL)
    _close_for_child(zygote)
    # Every object the collector tracks, referenced once: the pages holding them are copied
    # now. What the zygote froze stays frozen (unfrozen, listed, frozen again: the same set).
    gc.unfreeze()
    gc.get_objects()
    gc.freeze()
    # What the next run builds first, for the arguments and directory of the last one.
    guess = None if os.environ.get("PYTEST_DEBUG") else zygote.last_run  # traces to stderr
    prepared = child.prepare(zygote.paths, guess)
    # While it waits: the test modules of the last run rewritten ahead as they are edited, into
    # the cache the run reads (sys.pycache_prefix, as the run will have it).
    sys.pycache_prefix = str(zygote.paths.pycache)
    prerewrite.wait(line, zygote.paths.rewritten)
    try:
        request, fds = receive_request(line, max_fds=MAX_FDS + 1)
    except (OSError, EOFError, ValueError):
        os._exit(0)  # the zygote replaced this spare, or went away
    line.close()
    conn = socket.socket(fileno=fds[0])
    _run_child(zygote, conn, request, fds[1:], prepared)


def _hand_to_spare(
    zygote: _Zygote, conn: socket.socket, request: dict[str, Any], fds: list[int]
) -> int | None:
    """The spare's pid once it has the run (the connection and the caller's descriptors), or
    None when there is no spare to take it."""
    spare, zygote.spare = zygote.spare, None
    if spare is None:
        return None
    try:
        send_request(spare.line, request, [conn.fileno(), *fds])
    except OSError:
        _end_spare(spare)
        return None
    finally:
        spare.line.close()
    return spare.pid


def _drop_spare(zygote: _Zygote) -> None:
    spare, zygote.spare = zygote.spare, None
    if spare is not None:
        spare.line.close()  # it sees the end of its line and exits
        _end_spare(spare)


def _end_spare(spare: _Spare) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(spare.pid, signal.SIGKILL)
    with contextlib.suppress(ChildProcessError):
        os.waitpid(spare.pid, 0)


def _refusal(
    zygote: _Zygote, conn: socket.socket, request: dict[str, Any], fds: list[int]
) -> str | None:
    if request.get("flags") != interpreter_flags():
        return "the interpreter runs with other flags"
    if environment_key(request["env"]) != zygote.paths.key:
        return "the environment changed"
    quiet = zygote.watcher is not None and zygote.watcher.quiet()
    if not quiet and (changed := checks.first_change(zygote.stamps)) is not None:
        _restart_when_idle(zygote)
        return f"{changed} changed since it was preloaded"
    allowed = _allowed_descriptors(zygote) | {conn.fileno(), *fds}
    if (unsafe := checks.unsafe_to_fork(allowed)) is not None:
        _restart_when_idle(zygote)
        return f"unsafe to fork: {unsafe}"
    return None


def _allowed_descriptors(zygote: _Zygote) -> set[int]:
    """The zygote's own descriptors: any other one open at fork time is a stray."""
    read_end, write_end = zygote.wakeup
    allowed = {0, 1, 2, zygote.lock_fd, zygote.listener.fileno(), read_end, write_end}
    allowed.add(zygote.selector.fileno() if hasattr(zygote.selector, "fileno") else -1)
    allowed |= {other.fileno() for other in zygote.children.values()}
    if zygote.spare is not None:
        allowed.add(zygote.spare.line.fileno())
    if zygote.watcher is not None:
        allowed.add(zygote.watcher.fd)
    return allowed


def _close_for_child(zygote: _Zygote) -> None:
    zygote.selector.close()
    zygote.listener.close()
    for other in zygote.children.values():
        other.close()
    if zygote.spare is not None:
        zygote.spare.line.close()
    if zygote.watcher is not None:
        zygote.watcher.close()
    for fd in (*zygote.wakeup, zygote.lock_fd):
        os.close(fd)


def _reap(zygote: _Zygote) -> None:
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            break
        if pid == 0:
            break
        if zygote.spare is not None and pid == zygote.spare.pid:
            zygote.spare.line.close()  # it ended before a run came (killed, say)
            zygote.spare = None
            continue
        conn = zygote.children.pop(pid, None)
        if conn is None:
            continue
        with contextlib.suppress(KeyError):  # unregistered already if the client went away
            zygote.selector.unregister(conn)
        code = os.waitstatus_to_exitcode(status)
        with contextlib.suppress(OSError):  # the client went away
            send_reply(conn, {"exit": code} if code >= 0 else {"signal": -code})
        conn.close()
    _learn(zygote)


def _learn(zygote: _Zygote) -> None:
    """Preload what the last runs imported that the zygote lacks (their child recorded it)."""
    if zygote.stopping or zygote.children:
        return  # a restart (a module unsafe to preload) must not orphan a run
    if _mtime(zygote.paths.learned) == zygote.learned_mtime:
        return
    never = learning.read(zygote.paths.learned).never
    if any(learning.is_under(name, never) for name in zygote.guarded):
        _restart_when_idle(zygote)  # a run marked a preloaded module for rewriting
        return
    _preload(zygote.paths, zygote.arguments)
    _settle(zygote)


def _client_gone(zygote: _Zygote, pid: int) -> None:
    """The client closed its end before its run ended (killed, say): end the run too."""
    conn = zygote.children[pid]
    zygote.selector.unregister(conn)
    try:
        if conn.recv(1, socket.MSG_PEEK):
            return
    except OSError:
        pass
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGHUP)


def _status(zygote: _Zygote) -> dict[str, Any]:
    return {
        "pid": os.getpid(),
        "key": zygote.paths.key,
        "prefix": sys.prefix,
        "runs": zygote.runs,
        "running": len(zygote.children),
        "modules": zygote.preloaded,
        "uptime": round(time.time() - zygote.started),
        "last_refusal": zygote.last_refusal,
        "spare": zygote.spare.pid if zygote.spare is not None else None,
    }


def _stop_accepting(zygote: _Zygote) -> None:
    if zygote.stopping:
        return
    zygote.stopping = True
    _drop_spare(zygote)
    zygote.selector.unregister(zygote.listener)
    zygote.listener.close()
    zygote.paths.socket.unlink(missing_ok=True)


def _stop(zygote: _Zygote) -> None:
    """SIGTERM (`fastsuite-warm --stop`): exit once the running children have ended."""
    zygote.restart_when_idle = False
    _stop_accepting(zygote)


def _restart_when_idle(zygote: _Zygote) -> None:
    zygote.restart_when_idle = True
    _stop_accepting(zygote)


def _restart(arguments: dict[str, Any]) -> None:
    """Replace this process with a fresh zygote that keeps the lock (its open descriptor)."""
    os.set_inheritable(arguments["lock_fd"], True)
    fresh = {**arguments, "generation": arguments.get("generation", 0) + 1}
    sys.stdout.flush()
    sys.stderr.flush()
    command = [sys.executable, "-m", "fastsuite._warm.zygote", json.dumps(fresh)]
    os.execv(sys.executable, command)  # noqa: S606 (this interpreter, our own module)


def _mtime(path: Path) -> int:
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return 0


def _log(message: str) -> None:
    print(f"{time.strftime('%H:%M:%S')} zygote {os.getpid()}: {message}", file=sys.stderr)


if __name__ == "__main__":
    main()
