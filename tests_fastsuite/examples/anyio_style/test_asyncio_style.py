from items_factories import ItemFactory


async def test_pytest_asyncio_runs_this_one(client, db_session):
    await ItemFactory.acreate(name="from asyncio")
    assert (await client.get("/items")).json() == ["from asyncio"]


async def test_and_this_one_starts_empty(client):
    assert (await client.get("/items")).json() == []
