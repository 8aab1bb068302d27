"""Floor (ii): an async test doing one ASGI GET through httpx on a trivial FastAPI app."""

import os

import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient

N = int(os.environ.get("BENCH_TESTS", "200"))

app = FastAPI()


@app.get("/")
async def root() -> dict[str, str]:
    return {"status": "ok"}


@pytest.mark.parametrize("i", range(N))
async def test_asgi_get(i):
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://test") as client:
        r = await client.get("/")
    assert r.status_code == 200
