"""An app whose integer primary keys are not INTEGER: BigInteger, SmallInteger, Identity()."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, FastAPI
from sqlalchemy import BigInteger, ForeignKey, Identity, SmallInteger, String
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Account(Base):
    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    name: Mapped[str] = mapped_column(String(50))


class Color(Base):
    __tablename__ = "colors"

    id: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    name: Mapped[str] = mapped_column(String(50))


class Event(Base):
    __tablename__ = "events"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    account_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("accounts.id"))
    what: Mapped[str] = mapped_column(String(50))


class Tagging(Base):
    """A composite key: nothing to assign, left as it is."""

    __tablename__ = "taggings"

    account_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("accounts.id"), primary_key=True)
    color_id: Mapped[int] = mapped_column(SmallInteger, ForeignKey("colors.id"), primary_key=True)


# The app's own engine: the harness must leave its DDL alone (BIGINT stays BIGINT).
engine = create_async_engine("sqlite+aiosqlite:///never-touched-by-tests.db")
SessionLocal = async_sessionmaker(engine, expire_on_commit=False)


async def get_session() -> AsyncIterator[AsyncSession]:
    async with SessionLocal() as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session)]

app = FastAPI()


@app.post("/accounts", status_code=201)
async def create_account(name: str, session: SessionDep) -> dict[str, int]:
    account = Account(name=name)
    color = Color(name=f"{name}'s color")
    session.add_all([account, color])
    await session.flush()
    event = Event(account_id=account.id, what="created")
    session.add_all([event, Tagging(account_id=account.id, color_id=color.id)])
    await session.commit()
    return {"account": account.id, "color": color.id, "event": event.id}
