"""Start-up: the collector off until collection ends, the heap frozen; the opt-in bytecode cache."""

from __future__ import annotations

import gc
import sys

import pytest

STARTUP_PROBE = """
import gc

COLLECTOR_ON_AT_CONFTEST = gc.isenabled()
"""

HEAP_PROBE = """
import gc

from conftest import COLLECTOR_ON_AT_CONFTEST


def test_collector_is_back_and_the_start_up_heap_frozen():
    assert COLLECTOR_ON_AT_CONFTEST is False
    assert gc.isenabled()
    assert gc.get_freeze_count() > 10_000
"""

CACHE_PROBE = """
import sys


def test_probe():
    assert sys.dont_write_bytecode is False
"""


@pytest.mark.slow
def test_the_collector_is_off_during_start_up_and_the_heap_frozen_for_the_tests(items_project):
    items_project.makeconftest(STARTUP_PROBE)
    items_project.makepyfile(test_heap_probe=HEAP_PROBE)

    # In a process of its own: this process's start-up is long over.
    result = items_project.runpytest_subprocess("-p", "no:cacheprovider")

    result.assert_outcomes(passed=1)


def test_an_in_process_run_leaves_the_outer_runs_collector_alone(items_project, monkeypatch):
    # pytester runs the project in this process, whose start-up is long over: the inner run
    # must neither turn the collector off nor freeze this process's garbage.
    items_project.makepyfile(test_probe="def test_probe():\n    pass\n")
    calls = []
    for name in ("disable", "freeze"):
        monkeypatch.setattr(gc, name, lambda name=name: calls.append(name))

    result = items_project.runpytest()

    result.assert_outcomes(passed=1)
    assert calls == []
    assert gc.isenabled()


@pytest.mark.parametrize("source", ["option", "env", "ini"])
def test_the_bytecode_cache_takes_the_rewritten_test_modules(items_project, monkeypatch, source):
    test_file = items_project.makepyfile(test_cache_probe=CACHE_PROBE)
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    prefix = sys.pycache_prefix
    args = []
    if source == "option":
        args.append("--fastsuite-bytecode-cache=.bytecode")
    elif source == "env":
        monkeypatch.setenv("FASTSUITE_BYTECODE_CACHE", ".bytecode")
    else:
        args += ["-o", "fastsuite_bytecode_cache=.bytecode"]

    result = items_project.runpytest(*args)

    result.assert_outcomes(passed=1)
    cached = items_project.path / ".bytecode" / test_file.parent.relative_to("/")
    assert [path.name.split(".")[0] for path in cached.glob("*pytest*.pyc")] == ["test_cache_probe"]
    assert not list(items_project.path.glob("**/__pycache__"))
    # The run gave the process's settings back (pytester ran it in this process).
    assert sys.dont_write_bytecode is True
    assert sys.pycache_prefix == prefix
