import factory
import pytest
from notes.main import Author, Note, current_user_name
from sqlalchemy import func, select

from fastsuite import AsyncFactory, assert_num_queries


class AuthorFactory(AsyncFactory[Author]):
    class Meta:
        model = Author

    name = factory.Sequence(lambda n: f"author{n}")


class NoteFactory(AsyncFactory[Note]):
    class Meta:
        model = Note

    author = factory.SubFactory(AuthorFactory)
    text = factory.Sequence(lambda n: f"note {n}")


async def test_lifespan_ran(client):
    r = await client.get("/ready")
    assert r.json()["ready"] is True
    assert str(client.base_url) == "http://test"


@pytest.mark.parametrize("n", range(3))
async def test_app_and_test_share_the_transaction(client, db_session, n):
    assert (await db_session.scalar(select(func.count()).select_from(Note))) == 0
    author = await AuthorFactory.acreate()
    await NoteFactory.acreate_batch(2, author=author)
    r = await client.post("/notes", json={"author_id": author.id, "text": "from app"})
    assert r.status_code == 201
    assert (await client.get("/notes")).json()[-1] == "from app"
    assert (await db_session.scalar(select(func.count()).select_from(Note))) == 3


async def test_overrides_are_undone(app, client):
    app.dependency_overrides[current_user_name] = lambda: "alice"
    assert (await client.get("/whoami")).json() == {"name": "alice"}


async def test_after_override(client):
    assert (await client.get("/whoami")).json() == {"name": "anonymous"}


async def test_foreign_keys_enforced(client):
    r = await client.post("/notes", json={"author_id": 999, "text": "x"})
    assert r.status_code == 404


async def test_query_budget(client, db_session):
    await NoteFactory.acreate()
    with assert_num_queries(1):
        await client.get("/notes")
