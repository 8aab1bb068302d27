"""The fixtures' types, exported by fastsuite, check users' annotations: a typed test module
runs green and passes mypy --strict, and misuses of each type are errors mypy reports."""

from __future__ import annotations

import sys

import pytest

TYPED_MODULE = "test_typed.py"

# Misuses appended to the typed test; each must be one error mypy names on its line.
MISUSES = {
    'assert_num_queries("one")': 'Argument 1 to "__call__" of "AssertNumQueries" has '
    'incompatible type "str"; expected "int"',
    "assert_max_queries(1, exact=True)": 'Unexpected keyword argument "exact" for "__call__" of '
    '"AssertMaxQueries"',
    "capture_on_commit_callbacks(True)": 'Too many positional arguments for "__call__" of '
    '"CaptureOnCommitCallbacks"',
    "client_factory().startswith('x')": '"AsyncClient" has no attribute "startswith"',
}


@pytest.fixture
def typed_project(items_project: pytest.Pytester) -> pytest.Pytester:
    items_project.copy_example("typed_tests/test_typed.py")
    return items_project


def run_mypy(project: pytest.Pytester, *modules: str) -> tuple[str, int]:
    # In a process of its own (mypy keeps state in its modules). The items app itself is not
    # typed strictly: only the test modules' errors count.
    result = project.run(
        sys.executable,
        "-m",
        "mypy",
        "--strict",
        "--follow-imports=silent",
        "--cache-dir=/dev/null",
        "--config-file=",
        *modules,
    )
    return result.stdout.str() + result.stderr.str(), result.ret


def test_the_typed_test_module_runs_green(typed_project):
    result = typed_project.runpytest(TYPED_MODULE)

    result.assert_outcomes(passed=1)


@pytest.mark.slow
def test_mypy_strict_passes_the_typed_module_and_reports_each_misuse(typed_project):
    # One mypy run (half a minute cold) for both: the typed module, and a copy with misuses
    # appended to its annotated test function, where the fixtures are in scope.
    source = (typed_project.path / TYPED_MODULE).read_text()
    misused = "misused_typed.py"
    body = "".join(f"    {misuse}\n" for misuse in MISUSES)
    (typed_project.path / misused).write_text(source + body)
    first_line = len(source.splitlines()) + 1

    output, status = run_mypy(typed_project, TYPED_MODULE, misused)

    assert status == 1, output
    assert TYPED_MODULE not in output
    for offset, message in enumerate(MISUSES.values()):
        assert f"{misused}:{first_line + offset}: error: {message}" in output, output
    assert f"Found {len(MISUSES)} errors in 1 file (checked 2 source files)" in output
