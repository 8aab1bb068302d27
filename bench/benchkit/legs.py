"""The legs of the benchmark: which environment, which directory, which pytest arguments."""

from __future__ import annotations

import glob
import os
import shlex
import shutil
import subprocess
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "bench"
PEERS = BENCH / "peers"

# Every timed run: quiet, pytest-randomly off (order and reseeding cost the same in every leg),
# no cache written between runs.
COMMON_ARGS = ["-q", "-p", "no:randomly", "-p", "no:cacheprovider"]


@dataclass(frozen=True)
class Env:
    """A uv project whose .venv runs some legs."""

    name: str
    project: Path
    sync_args: tuple[str, ...] = ("--locked",)
    needs_python: str | None = None  # e.g. "3.12": uv must be told where that interpreter is

    @property
    def python(self) -> Path:
        return self.project / ".venv" / "bin" / "python"


@dataclass(frozen=True)
class Leg:
    name: str
    label: str
    env: str
    cwd: Path
    args: tuple[str, ...]
    kind: str = "workload"  # workload | floor
    extra_env: dict[str, str] = field(default_factory=dict)

    def command(self, env: Env, *extra: str) -> list[str]:
        return [str(env.python), "-m", "pytest", *COMMON_ARGS, *extra, *self.args]


ENVS: dict[str, Env] = {
    # The root project: synced from its lock as it stands (--frozen), never re-locked from here.
    "root": Env("root", ROOT, ("--frozen", "--inexact")),
    "django": Env("django", PEERS / "django"),
    "django6": Env("django6", PEERS / "django6", needs_python="3.12"),
    "recipe": Env("recipe", PEERS / "recipe"),
    "floor": Env("floor", PEERS / "floor"),
}

LEGS: dict[str, Leg] = {
    leg.name: leg
    for leg in [
        Leg(
            "fastsuite",
            "fastsuite + reference backend",
            "root",
            ROOT,
            ("bench/workloads/fastsuite/test_workload.py",),
        ),
        # The same, with every strict SQLite check off: the layer's cost is the ratio of the two.
        Leg(
            "fastsuite-lenient",
            "fastsuite, strict SQLite layer off",
            "root",
            ROOT,
            ("bench/workloads/fastsuite/test_workload.py",),
            extra_env={"FASTSUITE_SQLITE_LENIENT": "all"},
        ),
        Leg(
            "django",
            "Django 5.2 + pytest-django",
            "django",
            PEERS / "django",
            ("tests/test_workload.py",),
        ),
        Leg(
            "django6",
            "Django 6 + pytest-django (Python 3.12)",
            "django6",
            PEERS / "django",
            ("tests/test_workload.py",),
        ),
        Leg(
            "recipe",
            "FastAPI best-known recipe",
            "recipe",
            PEERS / "recipe",
            ("tests/test_workload.py",),
        ),
        Leg(
            "floor-empty",
            "floor: empty test",
            "floor",
            PEERS / "floor",
            ("tests/test_empty.py",),
            "floor",
        ),
        Leg(
            "floor-asgi",
            "floor: one ASGI GET",
            "floor",
            PEERS / "floor",
            ("tests/test_asgi_get.py",),
            "floor",
        ),
        Leg(
            "floor-sqlite",
            "floor: one aiosqlite INSERT+SELECT",
            "floor",
            PEERS / "floor",
            ("tests/test_aiosqlite.py",),
            "floor",
        ),
    ]
}


def _root_plugin_args() -> tuple[str, ...]:
    """The root config's plugin loading (autoload off, the listed `-p` plugins), fastsuite aside.

    The floor must load what the fastsuite leg loads except the fastsuite plugin itself; reading
    the list from the root pyproject.toml keeps the two in step when the project changes it.
    """
    try:
        ini = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        return ()
    addopts = ini.get("addopts", [])
    args = shlex.split(addopts) if isinstance(addopts, str) else list(addopts)
    out: list[str] = []
    for i, arg in enumerate(args):
        if arg == "--disable-plugin-autoload":
            out.append(arg)
        elif arg == "-p" and i + 1 < len(args):
            name = args[i + 1]
            blocked = name.startswith("no:") or f"no:{name}" in COMMON_ARGS
            if name != "fastsuite" and not blocked:
                out += ["-p", name]
    return tuple(out)


# Time to first result is compared with a bare async test importing the same stack, in the same
# root environment and with the same plugins, without the fastsuite plugin or the root conftest.
FLOOR_STACK = Leg(
    "floor-stack",
    "floor: bare async test importing the same stack",
    "root",
    ROOT,
    (
        "-c",
        "bench/workloads/floor_stack/pytest.ini",
        "--rootdir",
        "bench/workloads/floor_stack",
        *_root_plugin_args(),
        "-p",
        "no:fastsuite",
        "bench/workloads/floor_stack/test_bare_stack.py",
    ),
    "floor",
)


def uv() -> str:
    return os.environ.get("UV", "uv")


def find_python(version: str) -> str | None:
    """A working interpreter for `version` (pyenv shims may exist without the version selected)."""
    candidates = [os.environ.get(f"BENCH_PYTHON{version.replace('.', '')}", "")]
    candidates.append(shutil.which(f"python{version}") or "")
    candidates += sorted(
        glob.glob(os.path.expanduser(f"~/.pyenv/versions/{version}*/bin/python{version}"))
    )
    for candidate in filter(None, candidates):
        try:
            out = subprocess.run(
                [candidate, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                capture_output=True,
                text=True,
                timeout=30,
                check=False,
            )
        except OSError:
            continue
        if out.returncode == 0 and out.stdout.strip() == version:
            return candidate
    return None


def sync(env: Env) -> str | None:
    """Install the environment from its lock. Returns an error text, or None when ready."""
    cmd = [uv(), "sync", "--quiet", "--project", str(env.project), *env.sync_args]
    if env.needs_python:
        python = find_python(env.needs_python)
        if python is None:
            var = "BENCH_PYTHON" + env.needs_python.replace(".", "")
            return f"no Python {env.needs_python} found (set {var} to one)"
        cmd += ["--python", python]
    proc = subprocess.run(
        cmd, cwd=ROOT, capture_output=True, text=True, check=False, env=child_env()
    )
    if proc.returncode != 0:
        return f"`{' '.join(cmd)}` failed: {proc.stderr.strip()[-800:]}"
    return None


def child_env(**extra: str) -> dict[str, str]:
    """The environment of a timed child: ours, minus what would steer it to another venv."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k
        not in {
            "VIRTUAL_ENV",
            "PYTHONPATH",
            "PYTEST_ADDOPTS",
            "PYTHONHOME",
            "PYTEST_XDIST_AUTO_NUM_WORKERS",
        }
    }
    env.update(extra)
    return env


def versions(env: Env) -> dict[str, str]:
    """Interpreter and key package versions in an environment, for the report."""
    code = (
        "import sys, json, importlib.metadata as m\n"
        "out = {'python': sys.version.split()[0]}\n"
        "for p in ['pytest','django','pytest-django','fastapi','sqlalchemy','aiosqlite','httpx',"
        "'pytest-asyncio','pytest-xdist','factory-boy','fastsuite']:\n"
        "    try: out[p] = m.version(p)\n"
        "    except m.PackageNotFoundError: pass\n"
        "print(json.dumps(out))"
    )
    proc = subprocess.run(
        [str(env.python), "-c", code], capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        return {}
    import json

    return dict(json.loads(proc.stdout))
