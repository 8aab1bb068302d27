"""An app written the naive way, for the tests that SQLite and PostgreSQL must agree on."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from decimal import Decimal

from fastapi import FastAPI
from sqlalchemy import BigInteger, DateTime, Numeric, SmallInteger, String
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Probe(Base):
    __tablename__ = "probes"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str | None] = mapped_column(String(5))
    count: Mapped[int | None]
    small: Mapped[int | None] = mapped_column(SmallInteger)
    big: Mapped[int | None] = mapped_column(BigInteger)
    price: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    flag: Mapped[bool | None]
    seen_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    local_at: Mapped[dt.datetime | None] = mapped_column(DateTime())


class Ticket(Base):
    """Only the id tests write here, so its ids say what the sequence handed out."""

    __tablename__ = "tickets"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(50))


engine = create_async_engine("sqlite+aiosqlite:///never-touched-by-tests.db")
SessionLocal = async_sessionmaker(engine, expire_on_commit=False)


async def get_session() -> AsyncIterator[AsyncSession]:
    async with SessionLocal() as session:
        yield session


app = FastAPI()
