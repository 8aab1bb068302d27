"""Per-statement cost: one INSERT + SELECT pair on in-memory SQLite, through several stacks.

    uv run python bench/micro/stmt_cost.py [--pairs 2000] [--repeats 7]

Prints one JSON object (µs per pair: median, min, max over repeats, and the ratio to the
synchronous baseline) on stdout. Every variant runs the same Core statements on one connection
inside one transaction that is rolled back at the end:

  sync        synchronous SQLAlchemy, pysqlite, in-memory (the baseline)
  aiosqlite   async SQLAlchemy + aiosqlite, in-memory, StaticPool (the usual recipe)
  fastsuite   async SQLAlchemy through fastsuite's default in-memory engine
  fastsuite-aiosqlite   the same provisioning with fastsuite's aiosqlite option

and the same pair the way the app's code does it, through the ORM (add + flush, then a
select of the entity) in a session joined to the connection with a SAVEPOINT, as the harness
runs it: sync-orm (the baseline of the -orm variants), aiosqlite-orm, fastsuite-orm.

Measurement only: nothing here asserts a timing.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column
from sqlalchemy.pool import StaticPool

metadata = MetaData()
t = Table("t", metadata, Column("id", Integer, primary_key=True), Column("name", String(50)))
INSERT = insert(t)


def _select(row_id: int) -> Any:
    return select(t.c.name).where(t.c.id == row_id)


def run_sync(pairs: int) -> float:
    engine = create_engine("sqlite://")
    with engine.connect() as conn:
        metadata.create_all(conn)
        conn.commit()
        with conn.begin() as trans:
            start = time.perf_counter()
            for i in range(pairs):
                row_id = conn.execute(INSERT, {"name": f"row-{i}"}).inserted_primary_key[0]
                assert conn.execute(_select(row_id)).scalar_one() == f"row-{i}"
            elapsed = time.perf_counter() - start
            trans.rollback()
    engine.dispose()
    return elapsed


async def _run_async(engine: AsyncEngine, pairs: int) -> float:
    async with engine.connect() as conn:
        await conn.run_sync(metadata.create_all)
        await conn.commit()
        trans = await conn.begin()
        start = time.perf_counter()
        for i in range(pairs):
            result = await conn.execute(INSERT, {"name": f"row-{i}"})
            row_id = result.inserted_primary_key[0]
            assert (await conn.execute(_select(row_id))).scalar_one() == f"row-{i}"
        elapsed = time.perf_counter() - start
        await trans.rollback()
    await engine.dispose()
    return elapsed


def run_aiosqlite(pairs: int) -> float:
    engine = create_async_engine("sqlite+aiosqlite://", poolclass=StaticPool)
    return asyncio.run(_run_async(engine, pairs))


# --- Hook: fastsuite's default in-memory engine -------------------------------------------------
# The harness exposes fastsuite._provision.create_test_engine(url, sqlite_driver=...). If that
# function moves, this is the one place to change.
def fastsuite_engine(sqlite_driver: str | None = None) -> AsyncEngine:
    from fastsuite._provision import create_test_engine

    if sqlite_driver is None:
        return create_test_engine("sqlite://")
    return create_test_engine("sqlite://", sqlite_driver=sqlite_driver)


def run_fastsuite(pairs: int) -> float:
    return asyncio.run(_run_async(fastsuite_engine(), pairs))


def run_fastsuite_aiosqlite(pairs: int) -> float:
    return asyncio.run(_run_async(fastsuite_engine("aiosqlite"), pairs))


class _Base(DeclarativeBase):
    pass


class Row(_Base):
    __tablename__ = "orm_row"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50))


def run_sync_orm(pairs: int) -> float:
    engine = create_engine("sqlite://", poolclass=StaticPool)
    _Base.metadata.create_all(engine)
    with engine.connect() as conn, conn.begin() as trans:
        session = Session(bind=conn, join_transaction_mode="create_savepoint")
        start = time.perf_counter()
        for i in range(pairs):
            row = Row(name=f"row-{i}")
            session.add(row)
            session.flush()
            assert session.scalars(select(Row).where(Row.id == row.id)).one() is row
        elapsed = time.perf_counter() - start
        session.close()
        trans.rollback()
    engine.dispose()
    return elapsed


async def _run_async_orm(engine: AsyncEngine, pairs: int) -> float:
    async with engine.begin() as conn:
        await conn.run_sync(_Base.metadata.create_all)
    async with engine.connect() as conn:
        trans = await conn.begin()
        session = AsyncSession(bind=conn, join_transaction_mode="create_savepoint")
        start = time.perf_counter()
        for i in range(pairs):
            row = Row(name=f"row-{i}")
            session.add(row)
            await session.flush()
            assert (await session.scalars(select(Row).where(Row.id == row.id))).one() is row
        elapsed = time.perf_counter() - start
        await session.close()
        await trans.rollback()
    await engine.dispose()
    return elapsed


def run_aiosqlite_orm(pairs: int) -> float:
    engine = create_async_engine("sqlite+aiosqlite://", poolclass=StaticPool)
    return asyncio.run(_run_async_orm(engine, pairs))


def run_fastsuite_orm(pairs: int) -> float:
    return asyncio.run(_run_async_orm(fastsuite_engine(), pairs))


VARIANTS: dict[str, Callable[[int], float]] = {
    "sync": run_sync,
    "aiosqlite": run_aiosqlite,
    "fastsuite": run_fastsuite,
    "fastsuite-aiosqlite": run_fastsuite_aiosqlite,
    "sync-orm": run_sync_orm,
    "aiosqlite-orm": run_aiosqlite_orm,
    "fastsuite-orm": run_fastsuite_orm,
}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--pairs", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()

    samples: dict[str, list[float]] = {name: [] for name in VARIANTS}
    errors: dict[str, str] = {}
    for name, fn in VARIANTS.items():  # warm-up: imports, statement caches
        try:
            fn(50)
        except Exception as exc:  # a variant that cannot run is reported, not fatal
            errors[name] = f"{type(exc).__name__}: {exc}"
    for _ in range(args.repeats):  # interleaved so that machine noise hits every variant
        for name, fn in VARIANTS.items():
            if name in errors:
                continue
            gc.collect()
            samples[name].append(fn(args.pairs) / args.pairs * 1e6)

    out: dict[str, Any] = {"pairs": args.pairs, "repeats": args.repeats, "variants": {}}
    for name, values in samples.items():
        if name in errors:
            out["variants"][name] = {"error": errors[name]}
            continue
        base = samples["sync-orm" if name.endswith("-orm") else "sync"]
        ratios = [v / b for v, b in zip(values, base, strict=True)]
        out["variants"][name] = {
            "us_per_pair": statistics.median(values),
            "us_min": min(values),
            "us_max": max(values),
            "ratio_to_sync": statistics.median(ratios),
            "ratio_min": min(ratios),
            "ratio_max": max(ratios),
        }
    json.dump(out, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
