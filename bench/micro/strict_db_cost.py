"""The strict SQLite layer's cost on the database work of one workload test, in one process.

    uv run python bench/micro/strict_db_cost.py [--rounds 400]

Two engines of the harness's own kind (fastsuite's provisioning: the reference backend's
schema, the harness's savepoint handling), one with every strict check on, one with all off,
run the database side of one workload test in turn, round after round: in a transaction, a
user and 5 contexts through the ORM (a SAVEPOINT each flush, as the harness's sessions do),
the owner's contexts listed, 3 more created in one flush, a rollback. Alternating per round, in
one process, the two see the same machine; the per-round difference is the layer's cost. The
HTTP and app side of a test is untouched by the layer, so this bounds its cost from above.

Prints µs per round (median, min–max over blocks of rounds) for both, and the difference.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT / "backend"), str(ROOT / "src")]

from app.models import Base, Context, User  # noqa: E402
from fastsuite import _savepoints  # noqa: E402
from fastsuite._provision import create_test_engine  # noqa: E402
from fastsuite._schema import build_schema  # noqa: E402
from fastsuite._strict_sqlite import CHECKS, columns_by_type  # noqa: E402
from fastsuite._strict_sqlite_engine import make_strict  # noqa: E402
from fastsuite._strict_sqlite_schema import install_schema_checks  # noqa: E402
from sqlalchemy import select  # noqa: E402
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession  # noqa: E402


async def engine_with(checks: frozenset[str]) -> AsyncEngine:
    engine = create_test_engine("sqlite://")
    make_strict(engine, checks, columns_by_type(Base.metadata))
    await build_schema(engine, Base.metadata)
    await install_schema_checks(engine, Base.metadata, checks)
    _savepoints.keep_committed_work_of_nested_sessions(engine)
    return engine


async def one_test(engine: AsyncEngine, i: int) -> None:
    async with engine.connect() as connection:
        transaction = await connection.begin()
        session = AsyncSession(
            bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
        )
        user = User(username=f"bench-{i}", password="x", email="", is_staff=True)
        session.add(user)
        await session.flush()
        session.add_all([Context(owner_id=user.id, name=f"c{n}") for n in range(5)])
        await session.commit()
        found = (await session.scalars(select(Context).where(Context.owner_id == user.id))).all()
        assert len(found) == 5
        session.add_all([Context(owner_id=user.id, name=f"bulk{n}") for n in range(3)])
        await session.commit()
        await session.close()
        await transaction.rollback()


async def main(rounds: int, block: int, only: list[str]) -> None:
    on = frozenset(only) if only else frozenset(CHECKS)
    engines = {"on": await engine_with(on), "off": await engine_with(frozenset())}
    for engine in engines.values():  # warm-up: compiled statement caches, processors
        for i in range(20):
            await one_test(engine, i)
    times: dict[str, list[float]] = {"on": [], "off": []}
    for i in range(rounds):
        for name in ("on", "off") if i % 2 == 0 else ("off", "on"):
            start = time.process_time()
            await one_test(engines[name], i)
            times[name].append(time.process_time() - start)
    blocks = {
        name: [statistics.median(v[j : j + block]) * 1e6 for j in range(0, len(v), block)]
        for name, v in times.items()
    }
    diffs = [on - off for on, off in zip(blocks["on"], blocks["off"], strict=True)]
    for name in ("on", "off"):
        b = blocks[name]
        print(f"layer {name}: {statistics.median(b):.0f} µs ({min(b):.0f}–{max(b):.0f})")
    print(f"difference: {statistics.median(diffs):.0f} µs ({min(diffs):.0f}–{max(diffs):.0f})")
    for engine in engines.values():
        await engine.dispose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=400)
    parser.add_argument("--block", type=int, default=50)
    parser.add_argument("--only", default="", help="comma-separated checks (default: all)")
    args = parser.parse_args()
    asyncio.run(main(args.rounds, args.block, [c for c in args.only.split(",") if c]))
