"""Public fixtures are override points: a project may wrap each (a fixture of the same name that
takes it) or replace it, and only its own tests see the difference; fastsuite's wiring goes
through internal fixtures. `app` is the exception: it may be wrapped, not replaced by another
app, and `client` says so in one line."""

from __future__ import annotations

import pytest

# Each public fixture, with its scope (a wrapper must have the scope of what it wraps).
PUBLIC_FIXTURES = {
    "db_engine": "session",
    "db_session": "function",
    "module_db_session": "module",
    "class_db_session": "class",
    "client": "function",
    "client_factory": "function",
    "assert_num_queries": "function",
    "assert_max_queries": "function",
    "capture_on_commit_callbacks": "function",
}

# What each fixture does in a test, used to check the others still work when one is replaced.
# `{talker}` is a client that reaches the app (client, or one from client_factory).
CHECKS = {
    "db_engine": """
    assert isinstance(db_engine, AsyncEngine)
""",
    "db_session": """
    db_session.add(Owner(name="by-session"))
    await db_session.flush()
    assert await db_session.scalar(select(func.count()).select_from(Owner)) >= 1
""",
    "module_db_session": """
    assert isinstance(module_db_session, AsyncSession)
""",
    "class_db_session": """
    assert isinstance(class_db_session, AsyncSession)
""",
    "client": """
    assert (await client.post("/items", json={"name": "by-client"})).status_code == 201
    assert "by-client" in (await client.get("/items")).json()
""",
    "client_factory": """
    other = client_factory(headers={"X-Other": "1"})
    assert (await other.post("/items", json={"name": "by-factory"})).status_code == 201
    assert "by-factory" in (await other.get("/items")).json()
""",
    "assert_num_queries": """
    with assert_num_queries(1):
        assert (await {talker}.get("/owners/count")).status_code == 200
""",
    "assert_max_queries": """
    with assert_max_queries(1):
        assert (await {talker}.get("/owners/count")).status_code == 200
""",
    "capture_on_commit_callbacks": """
    async with capture_on_commit_callbacks() as tasks:
        assert (await {talker}.post("/items", json={"name": "later"})).status_code == 201
    assert len(tasks) == 1
""",
}

HEADER = """
import pytest
from items_app import Item, Owner
from items_factories import OwnerFactory
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
"""

# Factories persist through the test's session whatever the project's fixtures are.
FACTORY_CHECK = """
    owner = await OwnerFactory.acreate(name="by-factory")
    assert owner.id is not None
"""


def _test_module(arguments: list[str], checked: list[str], extra_lines: str) -> str:
    """A test (in a class, for class_db_session) taking `arguments`, running the `checked`."""
    talker = "client" if "client" in checked else "client_factory()"
    body = "".join(CHECKS[name].replace("{talker}", talker) for name in checked)
    signature = ", ".join(["self", *arguments])
    return f"{HEADER}\n\nclass TestAll:\n    async def test_all({signature}):\n" + (
        (extra_lines + body + FACTORY_CHECK).replace("\n    ", "\n        ")
    )


@pytest.mark.parametrize("name", PUBLIC_FIXTURES)
def test_a_project_may_wrap_each_public_fixture(items_project, name):
    scope = PUBLIC_FIXTURES[name]
    items_project.makeconftest(
        f"""
import pytest

WRAPPED = []


@pytest.fixture(scope="{scope}")
def {name}({name}):
    WRAPPED.append({name})
    return {name}
"""
    )
    items_project.makepyfile(
        test_wrapped=_test_module(
            list(PUBLIC_FIXTURES),
            list(PUBLIC_FIXTURES),
            extra_lines=f"""
    from conftest import WRAPPED
    assert WRAPPED == [{name}]
""",
        )
    )

    result = items_project.runpytest()

    result.assert_outcomes(passed=1)


@pytest.mark.parametrize("name", PUBLIC_FIXTURES)
def test_a_project_may_replace_each_public_fixture_and_the_others_still_work(items_project, name):
    # The replacement is something else altogether: fastsuite's other fixtures must not use it.
    items_project.makeconftest(
        f"""
import pytest


@pytest.fixture(scope="{PUBLIC_FIXTURES[name]}")
def {name}():
    return "the project's own {name}"
"""
    )
    others = [other for other in PUBLIC_FIXTURES if other != name]
    items_project.makepyfile(
        test_replaced=_test_module(
            [name, *others],
            others,
            extra_lines=f"""
    assert {name} == "the project's own {name}"
""",
        )
    )

    result = items_project.runpytest()

    result.assert_outcomes(passed=1)


def test_a_project_db_engine_of_its_own_leaves_the_harness_on_the_test_database(items_project):
    # The case: the query log was wired inside db_engine (KeyError: <StashKey ...>).
    items_project.makeconftest(
        """
import pytest
from sqlalchemy.ext.asyncio import create_async_engine


@pytest.fixture(scope="session")
def db_engine():
    return create_async_engine("sqlite+aiosqlite://")
"""
    )
    items_project.makepyfile(
        test_engine="""
async def test_requests_and_budgets(db_engine, db_session, client, assert_num_queries):
    assert str(db_engine.url) == "sqlite+aiosqlite://"
    with assert_num_queries(1):
        assert (await client.get("/items")).json() == []
"""
    )

    result = items_project.runpytest()

    result.assert_outcomes(passed=1)
    assert not (items_project.path / "never-touched-by-tests.db").exists()


ALIASES_CONFTEST = """
import pytest


@pytest.fixture
def session(db_session):
    return db_session


@pytest.fixture
def ac(client):
    return client


@pytest.fixture
def async_client(client):
    return client
"""

ALIASES = """
from items_app import Item
from sqlalchemy import select


async def test_aliases_are_the_fixtures_they_name(session, db_session, ac, async_client, client):
    assert session is db_session
    assert ac is async_client is client
    assert (await ac.post("/items", json={"name": "aliased"})).status_code == 201
    assert (await session.scalars(select(Item.name))).all() == ["aliased"]
"""


def test_aliases_are_plain_fixtures_that_return_the_public_ones(items_project):
    items_project.makeconftest(ALIASES_CONFTEST)
    items_project.makepyfile(test_aliases=ALIASES)

    result = items_project.runpytest()

    result.assert_outcomes(passed=1)


WRAPPED_APP = """
import pytest
from items_app import get_greeting


@pytest.fixture
def app(app):
    app.dependency_overrides[get_greeting] = lambda: "from the project's app fixture"
    yield app
    del app.dependency_overrides[get_greeting]
"""

SAME_APP = """
import items_app
import pytest


@pytest.fixture
def app():
    return items_app.app
"""

GREETING = """
async def test_greeting(client, app):
    assert (await client.get("/greeting")).json() == {expected!r}
"""


def test_a_project_app_fixture_that_wraps_fastsuites_is_the_app_client_serves(items_project):
    items_project.makeconftest(WRAPPED_APP)
    items_project.makepyfile(
        test_greeting=GREETING.format(expected="from the project's app fixture")
    )

    result = items_project.runpytest()

    result.assert_outcomes(passed=1)


def test_a_project_app_fixture_returning_the_configured_app_works(items_project):
    items_project.makeconftest(SAME_APP)
    items_project.makepyfile(test_greeting=GREETING.format(expected="hello"))

    result = items_project.runpytest()

    result.assert_outcomes(passed=1)


ANOTHER_APP = """
import items_app
import pytest


@pytest.fixture
def app():
    return items_app.create_app()
"""


@pytest.mark.parametrize("fixture", ["client", "client_factory"])
def test_a_project_app_fixture_giving_another_app_fails_in_one_line(items_project, fixture):
    items_project.makeconftest(ANOTHER_APP)
    items_project.makepyfile(
        test_other_app=f"""
async def test_other_app({fixture}):
    pass
"""
    )

    result = items_project.runpytest()

    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [
            "fastsuite: this test's `app` fixture gives <fastapi.applications.FastAPI "
            "object at 0x*, not the app of fastsuite_app = items_app:app (ini), which `client` "
            "serves. Set fastsuite_app to the app to test (a factory works too), or make the "
            "project's `app` fixture return the `app` it receives."
        ]
    )
    assert "Traceback" not in result.stdout.str()
