import pytest
from items_app import Item
from items_factories import ItemFactory
from sqlalchemy import func, select

pytestmark = pytest.mark.anyio


@pytest.fixture
async def two_items(db_session):
    """An async fixture of the project's, as anyio-style suites write them."""
    return await ItemFactory.acreate_batch(2)


async def test_the_app_sees_what_the_test_wrote(client, two_items):
    response = await client.get("/items")
    assert response.json() == [item.name for item in two_items]


async def test_the_test_sees_what_the_app_wrote(client, db_session):
    assert (await client.post("/items", json={"name": "from anyio"})).status_code == 201
    assert await db_session.scalar(select(func.count()).select_from(Item)) == 1


async def test_each_test_starts_empty(client):
    assert (await client.get("/items")).json() == []


async def test_anyio_plugin_is_on(request, anyio_backend):
    assert anyio_backend == "asyncio"
    assert "anyio" in [marker.name for marker in request.node.iter_markers()]
