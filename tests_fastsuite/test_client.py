"""The client: the app with its lifespan run once per process, and dependency overrides undone."""

from __future__ import annotations

LIFESPAN = """
async def test_{name}(client):
    response = await client.get("/lifespan")
    assert response.json() == {{"runs": 1, "started": True}}
"""


def test_lifespan_runs_once_per_process(items_project):
    items_project.makepyfile(
        test_lifespan_one=LIFESPAN.format(name="one") + LIFESPAN.format(name="two"),
        test_lifespan_two=LIFESPAN.format(name="three"),
    )

    result = items_project.runpytest()

    result.assert_outcomes(passed=3)


def test_lifespan_runs_for_an_app_factory_too(items_project):
    items_project.makepyfile(
        test_lifespan_factory=LIFESPAN.format(name="one") + LIFESPAN.format(name="two")
    )

    result = items_project.runpytest("-o", "fastsuite_app=items_app:create_app")

    result.assert_outcomes(passed=2)


BASE_URL = """
async def test_base_url(client):
    assert str(client.base_url) == "http://test"
    assert (await client.get("/base-url")).json() == "http://test/"


async def test_client_factory_makes_clients_like_client(client, client_factory):
    other = client_factory(headers={"X-Extra": "1"})
    assert other.base_url == client.base_url
    assert (await other.post("/items", json={"name": "via-other"})).status_code == 201
    assert (await client.get("/items")).json() == ["via-other"]
"""


def test_client_base_url_is_http_test(items_project):
    items_project.makepyfile(test_base_url=BASE_URL)

    result = items_project.runpytest()

    result.assert_outcomes(passed=2)


OVERRIDES_CONFTEST = """
import items_app

# An override the project sets up once, before any test: the harness must keep it.
items_app.app.dependency_overrides[items_app.get_greeting] = lambda: "from conftest"
"""

OVERRIDES = """
from items_app import get_greeting


async def test_override_made_in_the_test(client, app):
    app.dependency_overrides[get_greeting] = lambda: "from the test"
    assert (await client.get("/greeting")).json() == "from the test"


async def test_next_test_sees_the_project_override(client, app):
    assert (await client.get("/greeting")).json() == "from conftest"
    assert get_greeting in app.dependency_overrides


async def test_override_removed_in_the_test_comes_back(client, app):
    del app.dependency_overrides[get_greeting]
    assert (await client.get("/greeting")).json() == "hello"
"""


def test_overrides_made_in_a_test_are_undone_and_existing_ones_kept(items_project):
    items_project.makeconftest(OVERRIDES_CONFTEST)
    # The file twice, so that each test also runs after the others.
    items_project.makepyfile(test_overrides_a=OVERRIDES, test_overrides_b=OVERRIDES)

    result = items_project.runpytest()

    result.assert_outcomes(passed=6)


LEAKY_OVERRIDE = """
import pytest
from items_app import get_greeting


@pytest.fixture
def shouting(app):
    app.dependency_overrides[get_greeting] = lambda: "HELLO"  # and never undone


async def test_leaves_an_override_behind(shouting, client):
    assert (await client.get("/greeting")).json() == "HELLO"


async def test_next_test_gets_the_real_dependency(client):
    assert (await client.get("/greeting")).json() == "hello"


def test_without_client_either(app):
    app.dependency_overrides[get_greeting] = lambda: "HELLO"
"""


def test_override_leak_guard_fails_the_test_naming_the_dependency(items_project):
    items_project.makepyfile(test_leaky_override=LEAKY_OVERRIDE)

    result = items_project.runpytest()

    result.assert_outcomes(passed=3, errors=2)
    result.stdout.fnmatch_lines(
        [
            "*ERROR at teardown of test_leaves_an_override_behind*",
            "*fastsuite: this test left app.dependency_overrides changed for "
            "items_app.get_greeting.*",
            "*ERROR at teardown of test_without_client_either*",
            "*fastsuite: this test left app.dependency_overrides changed for "
            "items_app.get_greeting.*",
        ]
    )
