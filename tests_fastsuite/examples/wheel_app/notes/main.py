from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import Depends, FastAPI, HTTPException
from pydantic import BaseModel
from sqlalchemy import ForeignKey, String, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class Author(Base):
    __tablename__ = "author"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50), unique=True)


class Note(Base):
    __tablename__ = "note"
    id: Mapped[int] = mapped_column(primary_key=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("author.id"))
    author: Mapped[Author] = relationship()
    text: Mapped[str] = mapped_column(String(200))


_engine = None


def sessions():
    global _engine
    if _engine is None:
        _engine = create_async_engine("sqlite+aiosqlite:///./prod.db")
    return async_sessionmaker(_engine, expire_on_commit=False)


async def get_db() -> AsyncIterator[AsyncSession]:
    async with sessions()() as session:
        yield session


def current_user_name() -> str:
    return "anonymous"


class NoteIn(BaseModel):
    author_id: int
    text: str


def create_app() -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI):
        app.state.ready = True
        yield

    app = FastAPI(lifespan=lifespan)

    @app.get("/ready")
    async def ready():
        return {"ready": app.state.ready, "user": "?"}

    @app.get("/whoami")
    async def whoami(name: Annotated[str, Depends(current_user_name)]):
        return {"name": name}

    @app.post("/notes", status_code=201)
    async def add(note: NoteIn, db: Annotated[AsyncSession, Depends(get_db)]):
        if await db.get(Author, note.author_id) is None:
            raise HTTPException(404, "no such author")
        row = Note(author_id=note.author_id, text=note.text)
        db.add(row)
        await db.commit()
        return {"id": row.id}

    @app.get("/notes")
    async def notes(db: Annotated[AsyncSession, Depends(get_db)]):
        return [n.text for n in (await db.scalars(select(Note).order_by(Note.id))).all()]

    return app
