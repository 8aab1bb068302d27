"""fastsuite-warm: served warm when it can be, cold when it must, and the same outcome either way.

Each test gets its own state folder (FASTSUITE_WARM_DIR) and stops its zygotes at the end. The
rules are tested in a throwaway virtual environment that sees this repository's packages
through a .pth file and owns one third-party module of its own (`warmprobe`), so a test can
change a preloaded file without touching the environment other runs use.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import os
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

import pytest

from fastsuite._warm import control
from fastsuite._warm.fallback import cold_reason
from fastsuite._warm.learning import is_forbidden, is_preloadable, packages_of
from fastsuite._warm.protocol import receive_message, receive_request, send_request
from fastsuite._warm.tracing import reaching, traced_imports
from fastsuite._warm.watching import watch

REPO = Path(__file__).resolve().parents[1]
WARM_COMMAND = Path(sys.executable).parent / "fastsuite-warm"

PASSING_AND_FAILING = """
import warmprobe

def test_passes():
    assert warmprobe.VALUE == 1

def test_fails():
    assert warmprobe.VALUE == 2
"""


@pytest.mark.parametrize(
    ("args", "tty", "reason"),
    [
        (["-x", "tests"], True, None),
        (["--pdb"], False, "--pdb needs the debugger on the terminal"),
        (["--trace", "-x"], False, "--trace needs the debugger on the terminal"),
        (["-n", "2"], False, "-n: xdist starts worker processes of its own"),
        (["-xn2"], False, "-n: xdist starts worker processes of its own"),
        (["--numprocesses=2"], False, "--numprocesses: xdist starts worker processes of its own"),
        (["-s"], True, "-s with a terminal (interactive use)"),
        (["-xs"], True, "-s with a terminal (interactive use)"),
        (["-s"], False, None),
        (["--capture=no"], True, "--capture=no with a terminal (interactive use)"),
        (["-k", "slow"], True, None),
        (["-ks"], True, None),
        (["-p", "no:randomly"], False, None),
        (["--", "-n"], False, None),
    ],
)
def test_cold_reason_from_the_command_line(args, tty, reason):
    assert cold_reason(args, stdin_is_tty=tty) == reason


def test_only_third_party_modules_that_pytest_leaves_alone_are_preloadable():
    import _pytest.python
    import sqlalchemy.orm

    from tests_fastsuite import conftest  # a module of this project

    assert is_preloadable("sqlalchemy.orm", sqlalchemy.orm, rewrite_marked=[])
    assert is_preloadable("_pytest.python", _pytest.python, rewrite_marked=[])
    assert not is_preloadable("sqlalchemy.orm", sqlalchemy.orm, rewrite_marked=["sqlalchemy"])
    assert not is_preloadable("tests_fastsuite.conftest", conftest, rewrite_marked=[])
    # A module pytest rewrote (its loader is pytest's), wherever it lives.
    assert type(conftest.__loader__).__name__ == "AssertionRewritingHook"
    assert not is_preloadable("sqlalchemy.orm", conftest, rewrite_marked=[])


def test_this_package_is_preloadable_where_pytest_leaves_it_alone():
    import fastsuite._blocker

    # Pytest marks the package for rewriting (`-p fastsuite`); its modules opt out.
    assert is_preloadable("fastsuite._blocker", fastsuite._blocker, rewrite_marked=["fastsuite"])
    assert is_forbidden("fastsuite._blocker", never=["pytest_asyncio"]) is False
    # One that would not opt out is rewritten by pytest: never preloaded, nor what imports it.
    rewritten = ModuleType("fastsuite._rewritten", "A module with asserts pytest rewrites.")
    rewritten.__spec__ = importlib.util.spec_from_file_location(rewritten.__name__, __file__)
    assert not is_preloadable(rewritten.__name__, rewritten, rewrite_marked=[])
    with pytest.MonkeyPatch.context() as patch:
        patch.setitem(sys.modules, rewritten.__name__, rewritten)
        assert is_forbidden(rewritten.__name__, never=[]) is True
    # Nor one the zygote found importing such a module (listed as never to preload).
    assert is_forbidden("fastsuite._blocker", never=["fastsuite._blocker"]) is True
    assert is_forbidden("pytest_asyncio.plugin", never=["pytest_asyncio"]) is True


def test_a_marked_name_clashes_with_a_preloaded_module_when_it_is_that_module_or_above_it():
    packages = packages_of(["sqlalchemy.orm.session", "anyio"])

    assert {"sqlalchemy", "sqlalchemy.orm", "sqlalchemy.orm.session", "anyio"} <= packages
    assert "sqlalchemy.orm.session.extra" not in packages
    assert "sqlalchemy.ext" not in packages
    assert "anyio.pytest_plugin" not in packages  # a submodule the zygote lacks: no clash
    assert "any" not in packages


def test_every_module_of_this_package_leaves_rewriting_off():
    """What makes preloading the package exact (fastsuite._warm.learning): pytest's rewriting
    of such a module is no rewriting at all."""
    source = REPO / "src" / "fastsuite"
    lacking = [
        str(path.relative_to(source))
        for path in sorted(source.rglob("*.py"))
        if "PYTEST_DONT_REWRITE" not in (ast.get_docstring(ast.parse(path.read_text())) or "")
    ]

    assert lacking == []


def test_every_importer_of_a_rewritten_module_is_found_cache_hits_included(tmp_path, monkeypatch):
    package = tmp_path / "tracedpkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "rewritten.py").write_text("")
    (package / "first.py").write_text("from . import middle\n")
    (package / "middle.py").write_text("import tracedpkg.rewritten\n")
    (package / "second.py").write_text("from tracedpkg import rewritten\n")  # a cache hit
    (package / "clean.py").write_text("import json\n")
    monkeypatch.syspath_prepend(str(tmp_path))

    try:
        with traced_imports() as graph:
            for name in ("first", "second", "clean"):
                importlib.import_module(f"tracedpkg.{name}")
    finally:
        for name in [name for name in sys.modules if name.startswith("tracedpkg")]:
            del sys.modules[name]

    assert reaching(graph, lambda module: module == "tracedpkg.rewritten") == {
        "tracedpkg.first",
        "tracedpkg.middle",
        "tracedpkg.second",
    }


FORK_SAFETY_PROBE = """
import threading, time
from fastsuite._warm.checks import open_descriptors, unsafe_to_fork

allowed = set(open_descriptors())
print(unsafe_to_fork(allowed))
with open(__file__) as stray:
    print(unsafe_to_fork(allowed).replace(f"descriptor {stray.fileno()} ", "descriptor N "))
thread = threading.Thread(target=time.sleep, args=(1,))
thread.start()
print(unsafe_to_fork(allowed))
"""


def test_a_zygote_will_not_fork_beside_a_thread_or_a_stray_descriptor(tmp_path):
    probe = tmp_path / "probe.py"
    probe.write_text(FORK_SAFETY_PROBE)

    result = subprocess.run(  # noqa: S603 (this interpreter, our own probe)
        [sys.executable, str(probe)], capture_output=True, text=True, check=True
    )

    assert result.stdout.splitlines() == [
        "None",
        f"descriptor N is open ({probe})",
        "2 threads are running",
    ]


def test_a_watcher_reports_a_change_in_a_watched_folder_once(tmp_path):
    probe = watch([str(tmp_path)])
    if probe is None:
        pytest.skip("no inotify here: every run compares the stamps")
    probe.close()
    module = tmp_path / "watched.py"
    module.write_text("VALUE = 1\n")
    watcher = watch([str(module)])
    assert watcher is not None
    try:
        assert watcher.quiet()
        (tmp_path / "__pycache__").mkdir()  # bytecode written beside a module: no change
        assert watcher.quiet()
        module.write_text("VALUE = 2\n")
        assert not watcher.quiet()
        assert watcher.quiet()  # read once
        os.utime(module, ns=(0, 0))
        assert not watcher.quiet()
        (tmp_path / "added.py").write_text("")
        assert not watcher.quiet()
    finally:
        watcher.close()


def test_a_request_and_its_descriptors_cross_the_socket(tmp_path):
    client, server = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    readable, writable = os.pipe()
    with client, server:
        request = {"op": "run", "env": {"A": "\udcff surrogate"}, "argv": ["-q"], "sent": 1.5}
        send_request(client, request, [writable])
        received, fds = receive_request(server)
        assert received == request
        assert len(fds) == 1
        os.write(fds[0], b"through the descriptor")
        assert os.read(readable, 100) == b"through the descriptor"
        for fd in (readable, writable, *fds):
            os.close(fd)

        client.sendall(b"X")  # no request marker
        with pytest.raises(ConnectionError, match="not a fastsuite-warm request"):
            receive_request(server)
        client.sendall((5).to_bytes(4, "big") + b"\xff\xff\xff\xff\xff")
        with pytest.raises(ConnectionError, match="not a fastsuite-warm message"):
            receive_message(server)
        client.close()
        with pytest.raises(EOFError):
            receive_message(server)


def test_status_removes_sockets_nobody_serves_and_leaves_other_versions_alone(
    state_dir, monkeypatch
):
    monkeypatch.setenv("FASTSUITE_WARM_DIR", str(state_dir))
    stale = state_dir / "0000000000000000.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as gone:
        gone.bind(str(stale))  # then closed: nobody serves it
    other = state_dir / "1111111111111111.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as listener:
        listener.bind(str(other))
        listener.listen(1)
        # A zygote that does not speak this version's protocol: it hangs up on the request.
        answer = threading.Thread(target=lambda: listener.accept()[0].close())
        answer.start()

        assert control._zygotes() == []

        answer.join()
    assert not stale.exists()
    assert other.exists()


@dataclass
class Warm:
    """fastsuite-warm in a throwaway environment, with a project folder."""

    command: Path
    project: Path
    env: dict[str, str]
    site_packages: Path
    runs: list[subprocess.CompletedProcess[str]] = field(default_factory=list)

    def run(self, *args: str, **extra_env: str) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(  # noqa: S603 (our own command)
            [str(self.command), *args],
            cwd=self.project,
            env={**self.env, **extra_env},
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=300,
        )
        self.runs.append(result)
        return result

    def status(self) -> str:
        return self.run("--status").stdout

    def wait_for_zygote(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while "serves this environment" not in self.status():
            assert time.monotonic() < deadline, f"no zygote started: {self.log()}"
            time.sleep(0.2)

    def log(self) -> str:
        state = Path(self.env["FASTSUITE_WARM_DIR"])
        return "\n".join(log.read_text() for log in state.glob("*.log"))


def served(result: subprocess.CompletedProcess[str]) -> str:
    """How fastsuite-warm says it ran (FASTSUITE_WARM_VERBOSE): 'warm' or 'cold run: why'.

    The last word counts: a child that finds it must not run says so before a cold run.
    """
    lines = [line for line in result.stderr.splitlines() if line.startswith("fastsuite-warm: ")]
    assert lines, result.stderr
    said = lines[-1].removeprefix("fastsuite-warm: ")
    return "warm" if said.startswith("warm run") else said


def _base_env(state: Path) -> dict[str, str]:
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("PYTEST_", "FASTSUITE_", "COV_", "VIRTUAL_ENV"))
    }
    env.update(FASTSUITE_WARM_DIR=str(state), FASTSUITE_WARM_VERBOSE="1")
    return env


@pytest.fixture
def state_dir() -> Iterator[Path]:
    # Short: a Unix socket's path must fit in about 100 bytes.
    state = Path(tempfile.mkdtemp(prefix="fsw-"))
    yield state
    shutil.rmtree(state, ignore_errors=True)


def _stop_zygotes(warm: Warm) -> None:
    pids = [
        int(line.split()[2])
        for line in warm.run("--status").stdout.splitlines()
        if line.startswith("fastsuite-warm: zygote ")
    ]
    warm.run("--stop")
    deadline = time.monotonic() + 30
    for pid in pids:
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.fixture
def warm(tmp_path: Path, state_dir: Path) -> Iterator[Warm]:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)  # noqa: S603
    site_packages = Path(
        sysconfig.get_path("purelib", vars={"base": str(venv), "platbase": str(venv)})
    )
    # The other packages of this repository's environment, seen from outside the new
    # environment's own site-packages: to the zygote they are not third-party, so only
    # `warmprobe`, fastsuite (a copy, installed here) and the standard library are preloaded.
    outer = sysconfig.get_paths()["purelib"].split(os.pathsep)
    (site_packages / "outer.pth").write_text("\n".join(outer) + "\n")
    shutil.copytree(
        REPO / "src" / "fastsuite",
        site_packages / "fastsuite",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    (site_packages / "warmprobe.py").write_text(
        "import random\n\nVALUE = 1\nRNG = random.Random()\n"
    )
    (site_packages / "warmprobe-1.0.dist-info").mkdir()
    (site_packages / "warmprobe-1.0.dist-info" / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: warmprobe\nVersion: 1.0\n"
    )
    command = venv / "bin" / "fastsuite-warm"
    command.write_text(
        f"#!{venv}/bin/python\nimport sys\nfrom fastsuite._warm.client import main\n"
        "sys.exit(main())\n"
    )
    command.chmod(0o755)
    project = tmp_path / "project"
    project.mkdir()
    (project / "pytest.ini").write_text("[pytest]\naddopts = -p no:cacheprovider\n")
    (project / "test_probe.py").write_text(PASSING_AND_FAILING)
    env = {**_base_env(state_dir), "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    handle = Warm(command, project, env, site_packages)
    yield handle
    _stop_zygotes(handle)


def _started(warm: Warm) -> Warm:
    """The first run is cold and learns; the zygote it starts serves the next."""
    first = warm.run("-q")
    assert served(first) == "cold run: no zygote serves this environment yet"
    warm.wait_for_zygote()
    return warm


def _without_durations(output: str) -> str:
    return "\n".join(line.rsplit(" in ", 1)[0] for line in output.splitlines())


@pytest.mark.slow
def test_a_warm_run_prints_and_exits_as_a_cold_run(warm):
    cold = warm.run("-q", "-p", "no:randomly")
    warm.wait_for_zygote()

    hot = warm.run("-q", "-p", "no:randomly")

    assert served(hot) == "warm"
    assert hot.returncode == cold.returncode == 1
    assert _without_durations(hot.stdout) == _without_durations(cold.stdout)
    assert "assert 1 == 2" in hot.stdout
    assert "1 failed, 1 passed" in hot.stdout


@pytest.mark.slow
def test_each_warm_run_has_fresh_random_state(warm):
    _started(warm)
    (warm.project / "test_probe.py").write_text(
        "import random, warmprobe\n\n"
        "def test_draws():\n"
        "    print('draws', warmprobe.RNG.random(), random.random())\n"
    )

    runs = [warm.run("-q", "-s") for _ in range(2)]

    assert [served(run) for run in runs] == ["warm", "warm"]
    draws = [next(line for line in run.stdout.splitlines() if "draws" in line) for run in runs]
    assert draws[0] != draws[1]


@pytest.mark.slow
def test_a_changed_preloaded_file_runs_cold_and_restarts_the_zygote(warm):
    _started(warm)
    probe = warm.site_packages / "warmprobe.py"
    assert served(warm.run("-q")) == "warm"
    os.utime(probe, ns=(probe.stat().st_atime_ns, probe.stat().st_mtime_ns + 10**9))

    stale = warm.run("-q")

    assert served(stale) == f"cold run: {probe} changed since it was preloaded"
    assert stale.returncode == 1
    warm.wait_for_zygote()
    assert served(warm.run("-q")) == "warm"


@pytest.mark.slow
def test_a_usage_error_reads_as_a_cold_run(warm):
    _started(warm)
    # Another environment (one more variable): no zygote serves it yet.
    cold = warm.run("--no-such-option", FASTSUITE_PROBE_VARIABLE="1")
    hot = warm.run("--no-such-option")

    def without_ours(stderr: str) -> list[str]:
        return [line for line in stderr.splitlines() if not line.startswith("fastsuite-warm")]

    assert served(cold) == "cold run: no zygote serves this environment yet"
    assert served(hot) == "warm"
    assert hot.returncode == cold.returncode == 4
    assert without_ours(hot.stderr) == without_ours(cold.stderr)
    assert "error: unrecognized arguments: --no-such-option" in hot.stderr
    assert "pytest.main()" not in hot.stderr


@pytest.mark.slow
def test_an_edited_test_module_is_rewritten_ahead_and_runs_as_edited(warm):
    """The spare rewrites the asserts of a test module the last run imported, once it is edited
    (fastsuite._warm.prerewrite): the run finds them in its cache, as pytest wrote them."""
    _started(warm)
    assert served(warm.run("-q")) == "warm"  # it records what pytest rewrote
    probe = warm.project / "test_probe.py"
    cache = Path(warm.env["FASTSUITE_WARM_DIR"]) / "pycache"
    cached = [path for path in cache.rglob("test_probe.*.pyc") if "pytest" in path.name]
    assert len(cached) == 1, cached
    before = cached[0].read_bytes()
    probe.write_text(PASSING_AND_FAILING.replace("VALUE == 2", "VALUE != 2"))

    deadline = time.monotonic() + 60
    while cached[0].read_bytes() == before:
        assert time.monotonic() < deadline, warm.log()
        time.sleep(0.1)
    edited = warm.run("-q")

    assert served(edited) == "warm"
    assert edited.returncode == 0
    assert "2 passed" in edited.stdout


@pytest.mark.slow
def test_changed_metadata_of_a_distribution_runs_cold_and_restarts_the_zygote(warm):
    """The zygote reads the distributions' metadata once (fastsuite._warm.metadata); an edit
    in place must not leave a run with what the file said before."""
    (warm.project / "test_probe.py").write_text(
        "import importlib.metadata\n\n"
        "def test_version():\n"
        "    print('version', importlib.metadata.version('warmprobe'))\n"
    )
    _started(warm)
    assert "version 1.0" in warm.run("-q", "-s").stdout
    metadata = warm.site_packages / "warmprobe-1.0.dist-info" / "METADATA"
    metadata.write_text(metadata.read_text().replace("Version: 1.0", "Version: 2.0"))

    stale = warm.run("-q", "-s")

    assert served(stale) == f"cold run: {metadata} changed since it was preloaded"
    assert "version 2.0" in stale.stdout
    warm.wait_for_zygote()
    fresh = warm.run("-q", "-s")
    assert served(fresh) == "warm"
    assert "version 2.0" in fresh.stdout


@pytest.mark.slow
def test_a_run_with_other_arguments_than_the_last_prints_as_a_cold_run(warm):
    """The spare builds pytest's first Config for the last run's arguments (child.prepare);
    a run with others must build its own, and each prints what a cold run prints."""
    first, second = ("-q", "-p", "no:randomly"), ("-rA", "-p", "no:randomly", "-p", "no:warnings")
    cold_first = warm.run(*first)
    warm.wait_for_zygote()
    # Another environment (one more variable): no zygote serves it yet.
    cold_second = warm.run(*second, FASTSUITE_PROBE_VARIABLE="1")
    assert served(cold_second) == "cold run: no zygote serves this environment yet"

    runs = [(args, warm.run(*args)) for args in (first, first, second, first, second, second)]

    assert [served(run) for _, run in runs] == ["warm"] * 6
    for args, run in runs:
        cold = cold_first if args == first else cold_second
        assert run.returncode == cold.returncode == 1
        assert _without_durations(run.stdout) == _without_durations(cold.stdout)


@pytest.mark.slow
def test_an_edited_module_of_this_package_runs_cold_and_restarts_the_zygote(warm):
    (warm.project / "pytest.ini").write_text(
        "[pytest]\naddopts = -p no:cacheprovider -p fastsuite.plugin\n"
    )
    cold = warm.run("-q", "-p", "no:randomly")
    warm.wait_for_zygote()
    hot = warm.run("-q", "-p", "no:randomly")
    assert served(hot) == "warm"
    assert hot.returncode == cold.returncode == 1
    assert _without_durations(hot.stdout) == _without_durations(cold.stdout)
    module = warm.site_packages / "fastsuite" / "_config.py"  # imported by every run
    module.write_text(module.read_text() + "\n# edited\n")

    stale = warm.run("-q")

    assert served(stale) == f"cold run: {module} changed since it was preloaded"
    assert stale.returncode == 1
    warm.wait_for_zygote()
    assert served(warm.run("-q")) == "warm"


def _spare(warm: Warm) -> int:
    """The child the zygote forked ahead for the next run, once it has one."""
    deadline = time.monotonic() + 60
    while " ready for the next run" not in (status := warm.status()):
        assert time.monotonic() < deadline, status
        time.sleep(0.1)
    return int(status.split(" ready for the next run")[0].rsplit(" ", 1)[1])


@pytest.mark.slow
def test_each_run_goes_to_a_child_forked_ahead_which_ends_with_the_zygote(warm):
    _started(warm)
    first = _spare(warm)

    runs = [warm.run("-q"), warm.run("-q")]

    assert [served(run) for run in runs] == ["warm", "warm"]
    assert f"fastsuite-warm: warm run: child {first}\n" in runs[0].stderr
    assert runs[0].returncode == runs[1].returncode == 1
    assert _without_durations(runs[0].stdout) == _without_durations(runs[1].stdout)
    waiting = _spare(warm)
    assert waiting != first
    _stop_zygotes(warm)
    deadline = time.monotonic() + 30
    while _alive(waiting):
        assert time.monotonic() < deadline
        time.sleep(0.1)


@pytest.mark.slow
def test_the_zygote_restarts_after_its_runs_are_spent(warm):
    warm.env["FASTSUITE_WARM_MAX_RUNS"] = "2"
    _started(warm)

    assert [served(warm.run("-q")) for _ in range(2)] == ["warm", "warm"]

    # The zygote replaces itself (exec: the same pid) after its second run.
    deadline = time.monotonic() + 120
    while warm.log().count(" serving ") < 2 or "0 runs" not in warm.status():
        assert time.monotonic() < deadline, warm.log()
        time.sleep(0.2)
    assert served(warm.run("-q")) == "warm"


@pytest.mark.slow
def test_a_changed_environment_runs_cold_and_gets_a_zygote_of_its_own(warm):
    _started(warm)

    changed = warm.run("-q", FASTSUITE_PROBE_VARIABLE="1")

    assert served(changed) == "cold run: no zygote serves this environment yet"
    assert changed.returncode == 1
    assert served(warm.run("-q")) == "warm"  # the first environment's zygote still serves it
    deadline = time.monotonic() + 120
    while served(warm.run("-q", FASTSUITE_PROBE_VARIABLE="1")) != "warm":
        assert time.monotonic() < deadline, warm.log()
        time.sleep(0.2)


@pytest.mark.slow
def test_a_debugger_or_xdist_runs_cold(warm):
    _started(warm)

    pdb = warm.run("-q", "--pdb", "-k", "passes")
    xdist = warm.run("-q", "-n", "1", "-k", "passes")

    assert served(pdb) == "cold run: --pdb needs the debugger on the terminal"
    assert pdb.returncode == 0
    assert served(xdist) == "cold run: -n: xdist starts worker processes of its own"


@pytest.mark.slow
def test_a_debugger_asked_for_in_the_ini_file_runs_cold(warm):
    _started(warm)
    (warm.project / "pytest.ini").write_text("[pytest]\naddopts = -p no:cacheprovider --pdb\n")

    result = warm.run("-q", "-k", "passes")

    assert served(result) == "cold run: --pdb/--trace needs the debugger on the terminal"
    assert result.returncode == 0
    assert "1 passed" in result.stdout


@pytest.mark.slow
def test_ctrl_c_on_the_client_interrupts_the_warm_run_with_exit_code_2(warm):
    _started(warm)
    started = warm.project / "started"
    (warm.project / "test_probe.py").write_text(
        "import pathlib, time\n\n"
        "def test_waits():\n"
        f"    pathlib.Path({str(started)!r}).write_text('')\n"
        "    time.sleep(60)\n"
    )
    client = subprocess.Popen(  # noqa: S603 (our own command)
        [str(warm.command), "-q"],
        cwd=warm.project,
        env=warm.env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while not started.exists():
        assert client.poll() is None
        assert time.monotonic() < deadline
        time.sleep(0.05)

    client.send_signal(signal.SIGINT)
    stdout, stderr = client.communicate(timeout=60)

    assert "fastsuite-warm: warm run" in stderr
    assert client.returncode == 2
    assert "KeyboardInterrupt" in stdout


@pytest.mark.slow
def test_status_and_stop(warm):
    assert "no zygote is running" in warm.status()
    _started(warm)
    assert "serves this environment" in warm.status()

    stopped = warm.run("--stop")

    assert stopped.stdout == "fastsuite-warm: stopped 1 zygote(s)\n"
    deadline = time.monotonic() + 30
    while "no zygote is running" not in warm.status():
        assert time.monotonic() < deadline
        time.sleep(0.1)


def test_stop_and_status_take_no_other_arguments(state_dir):
    result = subprocess.run(  # noqa: S603 (our own command)
        [str(WARM_COMMAND), "--stop", "-x"],
        env=_base_env(state_dir),
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 4
    assert result.stderr == "fastsuite-warm: --stop takes no other arguments\n"


def _outcomes(junitxml: Path) -> dict[str, str]:
    outcomes = {}
    for case in ET.parse(junitxml).getroot().iter("testcase"):  # noqa: S314 (our own run's)
        verdicts = [child.tag for child in case if child.tag in ("failure", "error", "skipped")]
        outcomes[f"{case.get('classname')}::{case.get('name')}"] = ",".join(verdicts) or "passed"
    return outcomes


@pytest.mark.slow
def test_the_whole_suite_warm_gives_the_ids_and_outcomes_of_a_cold_run(tmp_path, state_dir):
    env = _base_env(state_dir)
    args = ["-q", "-p", "no:cacheprovider", "--randomly-seed=1234"]

    def run(name: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(  # noqa: S603 (our own command)
            [str(WARM_COMMAND), *args, f"--junitxml={tmp_path / name}"],
            cwd=REPO,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=1200,
        )

    handle = Warm(WARM_COMMAND, REPO, env, Path())
    try:
        cold = run("cold.xml")
        assert served(cold) == "cold run: no zygote serves this environment yet"
        handle.wait_for_zygote()

        hot = run("warm.xml")

        assert served(hot) == "warm", hot.stderr
        assert hot.returncode == cold.returncode == 0, hot.stdout[-2000:]
        cold_outcomes = _outcomes(tmp_path / "cold.xml")
        assert len(cold_outcomes) > 500
        assert _outcomes(tmp_path / "warm.xml") == cold_outcomes
    finally:
        _stop_zygotes(handle)
