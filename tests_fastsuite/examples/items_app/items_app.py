"""A tiny FastAPI + SQLAlchemy 2 async app, as a project adopting fastsuite would have.

Its engine points at a file no test may touch: every session of a test must be redirected to
the harness's database (through the session dependency or the sessionmaker), or it fails.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import BackgroundTasks, Depends, FastAPI, HTTPException, Request, Response
from fastapi.middleware.trustedhost import TrustedHostMiddleware
from pydantic import BaseModel
from sqlalchemy import ForeignKey, String, event, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship

VERSION = "1.0"  # an attribute that is neither an app, a MetaData nor a callable


class Base(DeclarativeBase):
    pass


class Owner(Base):
    __tablename__ = "owners"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50))


class Item(Base):
    __tablename__ = "items"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("owners.id"))
    owner: Mapped[Owner | None] = relationship()


class Tag(Base):
    """A key the client generates: SQLAlchemy inserts a batch of these in one executemany.

    (Rows whose integer key the database assigns come back through one multi-row INSERT ...
    RETURNING on the harness's SQLite, as on PostgreSQL.)
    """

    __tablename__ = "tags"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    label: Mapped[str] = mapped_column(String(50))


class AuditEntry(Base):
    """Written by a background task, through the app's own sessionmaker."""

    __tablename__ = "audit"

    id: Mapped[int] = mapped_column(primary_key=True)
    message: Mapped[str] = mapped_column(String(100))


class AppSession(Session):
    """The app's sessions, so that its after_commit listener hears only them."""


# The commits the app's sessions made, heard by an after_commit listener.
COMMITTED: list[str] = []


@event.listens_for(AppSession, "after_commit")
def _remember_commit(session: Session) -> None:
    COMMITTED.append("commit")


engine = create_async_engine("sqlite+aiosqlite:///never-touched-by-tests.db")
SessionLocal = async_sessionmaker(engine, sync_session_class=AppSession, expire_on_commit=False)


def get_sessionmaker() -> async_sessionmaker[AsyncSession]:
    return SessionLocal


def version() -> str:
    """A callable that does not return a sessionmaker."""
    return VERSION


async def get_session() -> AsyncIterator[AsyncSession]:
    async with SessionLocal() as session:
        yield session


def get_greeting() -> str:
    return "hello"


SessionDep = Annotated[AsyncSession, Depends(get_session)]

# How many times a lifespan of this module's apps has started, in this process.
LIFESPAN_RUNS: list[int] = []


def make_lifespan(seed_owner: str | None):
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        LIFESPAN_RUNS.append(1)
        app.state.started = True
        if seed_owner is not None:  # reference data the app makes at startup, committed
            async with SessionLocal() as session:
                session.add(Owner(name=seed_owner))
                await session.commit()
        yield

    return lifespan


async def record_audit(item_id: int, verb: str = "created") -> None:
    """The background task: reads the item and writes an audit entry, in its own session."""
    async with SessionLocal() as session:
        item = await session.get(Item, item_id)
        assert item is not None, f"the background task cannot see item {item_id}"
        session.add(AuditEntry(message=f"{verb} {item.name}"))
        await session.commit()


class ItemIn(BaseModel):
    name: str
    owner_id: int | None = None


def create_app(seed_owner: str | None = None) -> FastAPI:
    app = FastAPI(lifespan=make_lifespan(seed_owner))

    @app.post("/items", status_code=201)
    async def create_item(
        data: ItemIn, session: SessionDep, background: BackgroundTasks
    ) -> dict[str, object]:
        item = Item(name=data.name, owner_id=data.owner_id)
        session.add(item)
        await session.commit()
        background.add_task(record_audit, item.id)
        return {"id": item.id, "name": item.name}

    @app.post("/items/{item_id}/touch", status_code=202)
    async def touch_item(item_id: int, session: SessionDep, background: BackgroundTasks) -> None:
        """Reads only; its task writes while the request's session is still open."""
        if await session.get(Item, item_id) is None:
            raise HTTPException(404)
        background.add_task(record_audit, item_id, "touched")

    @app.patch("/items/{item_id}")
    async def rename_item(item_id: int, data: ItemIn, session: SessionDep) -> dict[str, object]:
        item = await session.get(Item, item_id)
        if item is None:
            raise HTTPException(404)
        item.name = data.name
        await session.commit()
        return {"id": item.id, "name": item.name}

    # Responses without a body are returned as such: older FastAPI refuses a 204 route whose
    # return annotation is None ("must not have a response body").
    @app.post("/items/{item_id}/shout", status_code=204, response_class=Response)
    async def shout_item(item_id: int, session: SessionDep) -> Response:
        """A write in raw SQL: the harness cannot tell its table from the statement."""
        await session.execute(
            text("UPDATE items SET name = upper(name) WHERE id = :id"), {"id": item_id}
        )
        await session.commit()
        return Response(status_code=204)

    @app.delete("/items/{item_id}", status_code=204, response_class=Response)
    async def delete_item(item_id: int, session: SessionDep) -> Response:
        item = await session.get(Item, item_id)
        if item is None:
            raise HTTPException(404)
        await session.delete(item)
        await session.commit()
        return Response(status_code=204)

    @app.get("/items")
    async def list_items(session: SessionDep) -> list[str]:
        return list((await session.scalars(select(Item.name).order_by(Item.id))).all())

    @app.get("/owners/count")
    async def count_owners(session: SessionDep) -> int:
        return (await session.scalar(select(func.count()).select_from(Owner))) or 0

    @app.get("/audit")
    async def list_audit(session: SessionDep) -> list[str]:
        return list((await session.scalars(select(AuditEntry.message))).all())

    @app.get("/greeting")
    async def greeting(text: Annotated[str, Depends(get_greeting)]) -> str:
        return text

    @app.get("/lifespan")
    async def lifespan_state(request: Request) -> dict[str, object]:
        return {"runs": len(LIFESPAN_RUNS), "started": request.app.state.started}

    @app.get("/base-url")
    async def base_url(request: Request) -> str:
        return str(request.base_url)

    @app.get("/headers/{name}")
    async def header(name: str, request: Request) -> str | None:
        return request.headers.get(name)

    return app


def create_trusted_host_app() -> FastAPI:
    """The app behind TrustedHostMiddleware, which answers 400 to any other Host."""
    app = create_app()
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=["api.example.com"])
    return app


def create_seeding_app() -> FastAPI:
    """The app whose lifespan commits an owner, as apps that make reference data at startup do."""
    return create_app(seed_owner="from-lifespan")


app = create_app()
