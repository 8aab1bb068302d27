async def test_health(client):
    r = await client.get("/api/health")
    assert r.status_code == 200, r.text
    assert r.json() == {"status": "ok", "database": "ok"}


async def test_me(admin_client, admin_user):
    r = await admin_client.get("/api/auth/me")
    assert r.status_code == 200, r.text
    assert r.json()["username"] == "admin"
