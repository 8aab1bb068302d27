"""Floor (iii): an async test doing one aiosqlite INSERT + SELECT on an in-memory database."""

import os

import aiosqlite
import pytest

N = int(os.environ.get("BENCH_TESTS", "200"))


@pytest.fixture(scope="session")
async def conn():
    async with aiosqlite.connect(":memory:") as db:
        await db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT NOT NULL)")
        yield db


@pytest.mark.parametrize("i", range(N))
async def test_aiosqlite_insert_select(conn, i):
    cursor = await conn.execute("INSERT INTO t (name) VALUES (?)", (f"row-{i}",))
    row_id = cursor.lastrowid
    async with conn.execute("SELECT name FROM t WHERE id = ?", (row_id,)) as cur:
        assert await cur.fetchone() == (f"row-{i}",)
