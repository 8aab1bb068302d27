"""A bare async test importing what the fastsuite leg imports, and doing nothing else."""

from __future__ import annotations

import os

import app.main
import app.models  # noqa: F401
import factory  # noqa: F401
import fastapi  # noqa: F401
import httpx  # noqa: F401
import pytest
import sqlalchemy
import sqlalchemy.ext.asyncio  # noqa: F401
import tests.factories  # noqa: F401  the backend's factories (factory_boy + the models)

N = int(os.environ.get("BENCH_TESTS", "1"))


@pytest.mark.parametrize("i", range(N))
async def test_bare_stack(i):
    pass
