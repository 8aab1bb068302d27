"""Root wiring only: the plugin loads through its entry point and is configured in pyproject.toml;
the backend's fixtures live in backend/tests/conftest.py."""
