"""The test sees what its requests wrote, ORM objects included, and the requests see what the
test changed, as when the app shared the test's session."""

from __future__ import annotations

from typing import Any

import pytest
from postgresql_server import POSTGRESQL_URL, requires_postgresql
from sqlalchemy import (
    Column,
    Integer,
    MetaData,
    String,
    Table,
    create_engine,
    delete,
    insert,
    literal_column,
    select,
    text,
    update,
)
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from fastsuite._queries import QueryLog

FRESH = """
from sqlalchemy import select

from fastsuite import assert_num_queries
from items_app import Item, Owner
from items_factories import ItemFactory


async def test_an_object_the_request_changed_shows_the_change(client, db_session):
    item = await ItemFactory.acreate(name="old")

    response = await client.patch(f"/items/{item.id}", json={"name": "new"})

    assert response.status_code == 200
    assert item.name == "new"
    assert not db_session.is_modified(item)


async def test_an_object_the_request_deleted_leaves_the_session(client, db_session):
    item = await ItemFactory.acreate()
    item_id = item.id

    assert (await client.delete(f"/items/{item_id}")).status_code == 204

    assert item not in db_session
    assert await db_session.get(Item, item_id) is None


async def test_a_write_in_raw_sql_is_seen_too(client, db_session):
    item = await ItemFactory.acreate(name="quiet")

    assert (await client.post(f"/items/{item.id}/shout")).status_code == 204

    assert item.name == "QUIET"


async def test_loaded_relationships_stay_usable(client, db_session):
    item = await ItemFactory.acreate(name="old")

    await client.patch(f"/items/{item.id}", json={"name": "new"})

    assert item.owner.name.startswith("owner")  # no lazy load, no MissingGreenlet


async def test_objects_loaded_by_a_query_are_fresh_too(client, db_session):
    await ItemFactory.acreate_batch(2)
    items = (await db_session.scalars(select(Item).order_by(Item.id))).all()

    await client.patch(f"/items/{items[1].id}", json={"name": "renamed"})

    assert [item.name for item in items] == [items[0].name, "renamed"]


async def test_the_request_sees_what_the_test_changed_without_flushing(client, db_session):
    item = await ItemFactory.acreate(name="before")
    item.name = "changed by the test"

    assert (await client.get("/items")).json() == ["changed by the test"]
    assert item.name == "changed by the test"


async def test_the_request_sees_what_the_test_added_or_deleted_without_flushing(
    client, db_session
):
    kept, dropped = await ItemFactory.acreate_batch(2)
    await db_session.delete(dropped)
    db_session.add(Item(name="added by the test"))

    assert (await client.get("/items")).json() == [kept.name, "added by the test"]


async def test_a_request_that_only_reads_costs_no_statement_of_the_harness(client, db_session):
    await ItemFactory.acreate()
    with assert_num_queries(1) as captured:
        await client.get("/items")
    assert captured.statements[0].startswith("SELECT items.name")


async def test_reading_objects_again_is_not_counted_in_query_budgets(client, db_session):
    item = await ItemFactory.acreate(name="old")
    with assert_num_queries(2) as captured:  # the app's SELECT and UPDATE
        await client.patch(f"/items/{item.id}", json={"name": "new"})
    assert [s.split()[0] for s in captured.statements] == ["SELECT", "UPDATE"]
    assert item.name == "new"
"""

DATABASES = {
    "sqlite": [],
    "postgresql": pytest.param(
        [f"--fastsuite-db-url={POSTGRESQL_URL}"], marks=[requires_postgresql, pytest.mark.slow]
    ),
}
# With fastsuite_sessionmaker the app's own dependency opens its sessions; without it, the
# harness overrides the dependency: both are requests in sessions of their own.
SESSION_ROUTES = {"sessionmaker": [], "dependency-override": ["-o", "fastsuite_sessionmaker="]}


@pytest.mark.parametrize("database", DATABASES.values(), ids=DATABASES.keys())
@pytest.mark.parametrize("route", SESSION_ROUTES.values(), ids=SESSION_ROUTES.keys())
def test_the_test_and_its_requests_see_each_others_writes(items_project, database, route):
    items_project.makepyfile(test_fresh=FRESH)

    result = items_project.runpytest(*database, *route)

    result.assert_outcomes(passed=9)


# A library app whose foreign keys act in the database: deleting an author deletes its books
# (and their chapters), and unsets the author of its quotes; renaming an author's code renames
# it in its books. The routes write with Core statements, so that only the database's actions
# (not the ORM's cascades) change the referencing rows.
LIBRARY_APP = """
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, FastAPI, Response
from sqlalchemy import ForeignKey, String, delete, insert, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Author(Base):
    __tablename__ = "authors"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)


class Book(Base):
    __tablename__ = "books"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(50))
    author_code: Mapped[str] = mapped_column(
        ForeignKey("authors.code", ondelete="CASCADE", onupdate="CASCADE")
    )


class Chapter(Base):
    __tablename__ = "chapters"

    id: Mapped[int] = mapped_column(primary_key=True)
    book_id: Mapped[int] = mapped_column(ForeignKey("books.id", ondelete="CASCADE"))


class Edition(Base):
    # A composite primary key.
    __tablename__ = "editions"

    book_id: Mapped[int] = mapped_column(
        ForeignKey("books.id", ondelete="CASCADE"), primary_key=True
    )
    number: Mapped[int] = mapped_column(primary_key=True)


class Quote(Base):
    __tablename__ = "quotes"

    id: Mapped[int] = mapped_column(primary_key=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("authors.id", ondelete="SET NULL"))


class Loan(Base):
    # No action: deleting a book that is lent is refused, not carried on.
    __tablename__ = "loans"

    id: Mapped[int] = mapped_column(primary_key=True)
    book_id: Mapped[int | None] = mapped_column(ForeignKey("books.id"))


engine = create_async_engine("sqlite+aiosqlite:///never-touched-by-tests.db")
SessionLocal = async_sessionmaker(engine, expire_on_commit=False)


async def get_session() -> AsyncIterator[AsyncSession]:
    async with SessionLocal() as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session)]
app = FastAPI()


@app.delete("/authors/{author_id}", status_code=204, response_class=Response)
async def delete_author(author_id: int, session: SessionDep) -> Response:
    await session.execute(delete(Author).where(Author.id == author_id))
    await session.commit()
    return Response(status_code=204)


@app.put("/authors/{author_id}/code/{code}", status_code=204, response_class=Response)
async def recode_author(author_id: int, code: str, session: SessionDep) -> Response:
    await session.execute(update(Author).where(Author.id == author_id).values(code=code))
    await session.commit()
    return Response(status_code=204)


@app.post("/authors/{code}", status_code=204, response_class=Response)
async def add_author(code: str, session: SessionDep) -> Response:
    await session.execute(insert(Author).values(code=code))
    await session.commit()
    return Response(status_code=204)
"""

LIBRARY_TESTS = """
from contextlib import contextmanager

from sqlalchemy import event

from library_app import Author, Book, Chapter, Edition, Loan, Quote


async def shelf(db_session):
    author = Author(code="tolstoy")
    db_session.add(author)
    await db_session.flush()
    book = Book(title="War and Peace", author_code="tolstoy")
    quote = Quote(author_id=author.id)
    db_session.add_all([book, quote])
    await db_session.flush()
    chapter = Chapter(book_id=book.id)
    loan = Loan(book_id=None)
    db_session.add_all([chapter, loan])
    await db_session.flush()
    return author, book, quote, chapter, loan


async def test_objects_of_composite_keys_are_read_again_too(client, db_session):
    author, book, _, _, _ = await shelf(db_session)
    edition = Edition(book_id=book.id, number=1)  # one object: the one-row statement
    db_session.add(edition)
    await db_session.flush()

    assert (await client.put(f"/authors/{author.id}/code/lev")).status_code == 204
    assert edition in db_session
    assert (await client.delete(f"/authors/{author.id}")).status_code == 204

    assert edition not in db_session


@contextmanager
def every_statement(db_session):
    # The harness's own statements too (assert_num_queries leaves them out).
    engine = db_session.bind.engine.sync_engine
    sent = []

    def record(_connection, _cursor, statement, *_):
        sent.append(" ".join(statement.split()))

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", record)


async def test_rows_deleted_or_unset_by_a_cascade_leave_or_change(client, db_session):
    author, book, quote, chapter, loan = await shelf(db_session)

    with every_statement(db_session) as sent:
        assert (await client.delete(f"/authors/{author.id}")).status_code == 204

    assert author not in db_session
    assert book not in db_session
    assert chapter not in db_session  # two foreign keys down
    assert quote in db_session
    assert quote.author_id is None
    # Loans have no action on their foreign key: a delete of books does not change them.
    assert loan in db_session
    assert not [statement for statement in sent if "FROM loans" in statement]


async def test_a_key_renamed_by_a_cascade_is_renamed_in_the_objects(client, db_session):
    author, book, _, _, _ = await shelf(db_session)

    assert (await client.put(f"/authors/{author.id}/code/lev")).status_code == 204

    assert author.code == "lev"
    assert book.author_code == "lev"


async def test_a_plain_insert_reads_nothing_again(client, db_session):
    loaded = await shelf(db_session)  # held: the session keeps only the objects in use

    with every_statement(db_session) as sent:
        assert (await client.post("/authors/pushkin")).status_code == 204

    verbs = [statement.split()[0] for statement in sent]
    assert [verb for verb in verbs if verb not in ("SAVEPOINT", "RELEASE")] == ["INSERT"]
    assert loaded[0] in db_session
"""


@pytest.mark.parametrize("database", DATABASES.values(), ids=DATABASES.keys())
def test_changes_the_foreign_keys_carry_on_reach_the_objects(pytester, database):
    pytester.makepyfile(library_app=LIBRARY_APP, test_library=LIBRARY_TESTS)
    pytester.makeini(
        """
        [pytest]
        asyncio_mode = auto
        addopts = -p pytest_asyncio.plugin -p fastsuite
        filterwarnings = error
        fastsuite_app = library_app:app
        fastsuite_metadata = library_app:Base
        fastsuite_session_dependency = library_app:get_session
        fastsuite_sessionmaker = library_app:SessionLocal
        """
    )

    result = pytester.runpytest(*database)

    result.assert_outcomes(passed=4)


def _what_changed(statement: Any) -> tuple[list[str], list[str], bool]:
    engine = create_engine("sqlite://")
    metadata = MetaData()
    things = Table(
        "things", metadata, Column("id", Integer, primary_key=True), Column("name", String(20))
    )
    metadata.create_all(engine)
    log = QueryLog(engine)
    with engine.begin() as connection:
        connection.execute(insert(things).values(id=1, name="a"))
        with log.watching_writes() as writes:
            connection.execute(statement(things))
    engine.dispose()
    return sorted(writes.updated), sorted(writes.deleted), writes.unknown


WRITES = {
    "insert": (lambda t: insert(t).values(name="b"), ([], [], False)),
    "insert from select": (
        lambda t: insert(t).from_select(["name"], select(t.c.name)),
        ([], [], False),
    ),
    "on conflict do nothing": (
        lambda t: sqlite_insert(t).values(id=1, name="b").on_conflict_do_nothing(),
        ([], [], False),
    ),
    "on conflict do update": (
        lambda t: (
            sqlite_insert(t)
            .values(id=1, name="b")
            .on_conflict_do_update(index_elements=[t.c.id], set_={"name": "b"})
        ),
        (["things"], [], False),
    ),
    "insert or replace": (
        lambda t: insert(t).prefix_with("OR REPLACE").values(id=1, name="b"),
        ([], ["things"], False),
    ),
    "with ... insert": (
        lambda t: (
            insert(t)
            .from_select(["name"], select(literal_column("'b'")))
            .add_cte(select(t.c.id).cte("earlier"))
        ),
        ([], [], True),
    ),
    "update": (lambda t: update(t).values(name="b"), (["things"], [], False)),
    "delete": (lambda t: delete(t), ([], ["things"], False)),
    "raw SQL": (lambda t: text("INSERT INTO things (name) VALUES ('b')"), ([], [], True)),
    "a read": (lambda t: select(t), ([], [], False)),
}


@pytest.mark.parametrize(("statement", "expected"), WRITES.values(), ids=WRITES.keys())
def test_what_a_write_may_change_of_existing_rows_is_told_from_its_statement(
    statement: Any, expected: tuple[list[str], list[str], bool]
):
    assert _what_changed(statement) == expected
