import pytest


@pytest.fixture
def anyio_backend():
    """As FastAPI's documentation writes it: a function-scoped backend."""
    return "asyncio"
