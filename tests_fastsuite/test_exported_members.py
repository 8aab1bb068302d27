"""fastsuite.__all__ lists exactly the package's public names (as httpx's own test does), and
every module but the plugin's two public ones is private."""

import pkgutil
import subprocess
import sys

import fastsuite


def test_all_public_names_are_exported():
    # dir(), not vars(): the package imports its public names on first use.
    public = sorted(name for name in dir(fastsuite) if not name.startswith("_"))

    assert fastsuite.__all__ == public
    for name in public:
        assert getattr(fastsuite, name) is not None


def test_modules_other_than_the_plugin_and_its_fixtures_are_private():
    modules = [module.name for module in pkgutil.iter_modules(fastsuite.__path__)]

    assert {name for name in modules if not name.startswith("_")} == {"fixtures", "plugin"}
    assert len(modules) > 2


def test_importing_the_package_imports_neither_pytest_nor_the_stack():
    # The fastsuite-warm client imports the package and must start in milliseconds.
    imported = "{'pytest', 'sqlalchemy', 'factory'} & {*sys.modules}"
    code = f"import sys, fastsuite._warm.client; print(sorted({imported}))"

    result = subprocess.run(  # noqa: S603 (this interpreter, fixed code)
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )

    assert result.stdout.strip() == "[]"
