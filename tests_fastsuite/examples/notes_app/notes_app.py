"""A tiny FastAPI + SQLAlchemy 2 async app whose schema comes from Alembic migrations."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, FastAPI
from pydantic import BaseModel
from sqlalchemy import ForeignKey, String, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Author(Base):
    __tablename__ = "authors"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50), unique=True)


class Note(Base):
    __tablename__ = "notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("authors.id", ondelete="CASCADE"))
    text: Mapped[str] = mapped_column(String(200))


# Never reached by the tests: the harness serves every session from its own database.
engine = create_async_engine("sqlite+aiosqlite:///never-touched-by-tests.db")
SessionLocal = async_sessionmaker(engine, expire_on_commit=False)


async def get_session() -> AsyncIterator[AsyncSession]:
    async with SessionLocal() as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session)]


class NoteIn(BaseModel):
    author: str
    text: str


app = FastAPI()


@app.post("/notes", status_code=201)
async def create_note(data: NoteIn, session: SessionDep) -> dict[str, object]:
    author = await session.scalar(select(Author).where(Author.name == data.author))
    if author is None:
        author = Author(name=data.author)
        session.add(author)
        await session.flush()
    note = Note(author_id=author.id, text=data.text)
    session.add(note)
    await session.commit()
    return {"id": note.id, "author_id": author.id}


@app.get("/notes")
async def list_notes(session: SessionDep) -> list[str]:
    return list((await session.scalars(select(Note.text).order_by(Note.id))).all())
