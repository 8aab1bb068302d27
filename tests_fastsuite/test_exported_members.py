"""fastsuite.__all__ lists exactly the package's public names (as httpx's own test does), and
every module but the plugin's two public ones is private."""

import pkgutil

import fastsuite


def test_all_public_names_are_exported():
    # AsyncFactory is imported on first use (it brings factory_boy): every listed name resolves.
    for name in fastsuite.__all__:
        getattr(fastsuite, name)
    public = sorted(name for name in vars(fastsuite) if not name.startswith("_"))

    assert fastsuite.__all__ == public


def test_modules_other_than_the_plugin_and_its_fixtures_are_private():
    modules = [module.name for module in pkgutil.iter_modules(fastsuite.__path__)]

    assert {name for name in modules if not name.startswith("_")} == {"fixtures", "plugin"}
    assert len(modules) > 2
