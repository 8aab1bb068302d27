import os, pytest
N = int(os.environ.get("BENCH_TESTS", "200"))
@pytest.mark.parametrize("i", range(N))
async def test_a_empty_async(i): pass
@pytest.mark.parametrize("i", range(N))
async def test_b_transaction(_fastsuite_transaction, i): pass
@pytest.mark.parametrize("i", range(N))
async def test_c_db_session(db_session, i): pass
@pytest.mark.parametrize("i", range(N))
async def test_d_app(app, db_session, i): pass
@pytest.mark.parametrize("i", range(N))
async def test_e_client(client, db_session, i): pass
@pytest.mark.parametrize("i", range(N))
def test_f_sync_app(app, i): pass
@pytest.mark.parametrize("i", range(N))
def test_g_sync_empty(i): pass
