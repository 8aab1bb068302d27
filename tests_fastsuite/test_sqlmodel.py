"""A SQLModel app (examples/heroes_app), run as its users would: with the three keys only, and
with fastsuite_sessionmaker too. Its session class and options reach db_session, the seed
sessions and the app's requests; factories persist SQLModel table models and relationships.

This module must not import sqlmodel: its table models live in one process-wide MetaData, so
each inner run imports the example (and sqlmodel) afresh.
"""

from __future__ import annotations

import pytest
from postgresql_server import database_of_its_own, requires_postgresql, url_with

HEROES_TESTS = """
from sqlmodel import select

from heroes_app import Hero, HeroSession, Team
from heroes_factories import HeroFactory, TeamFactory


async def test_db_session_is_the_apps_session_class_with_its_options(db_session):
    assert type(db_session) is HeroSession
    assert db_session.autoflush is False
    assert db_session.sync_session.expire_on_commit is False


async def test_the_apps_requests_get_the_same_class_and_options(client):
    described = (await client.get("/session")).json()
    assert described == {"class": "HeroSession", "autoflush": False, "expire_on_commit": False}


async def test_autoflush_false_holds_in_db_session(db_session):
    db_session.add(Team(name="pending", headquarters="nowhere"))
    assert (await db_session.exec(select(Team))).all() == []
    await db_session.flush()
    assert [team.name for team in (await db_session.exec(select(Team))).all()] == ["pending"]


async def test_factories_persist_table_models_and_relationships(db_session):
    team = await TeamFactory.acreate(name="Preventers")
    heroes = await HeroFactory.acreate_batch(3, team=team)
    lone = await HeroFactory.acreate()

    assert all(hero.id is not None and hero.team_id == team.id for hero in heroes)
    assert lone.team is not None and lone.team_id == lone.team.id != team.id
    assert await db_session.heroes_of("Preventers") == heroes
    of_team = select(Hero).where(Hero.team_id == team.id).order_by(Hero.id)
    rows = (await db_session.exec(of_team)).all()
    assert [hero.id for hero in rows] == [hero.id for hero in heroes]


async def test_routes_calling_exec_see_what_the_test_made(client):
    team = await TeamFactory.acreate(name="Z-Force")
    heroes = await HeroFactory.acreate_batch(2, team=team)

    listed = (await client.get("/heroes/")).json()
    of_team = (await client.get("/teams/Z-Force/heroes")).json()

    assert [hero["id"] for hero in listed] == [hero.id for hero in heroes]
    assert of_team == [hero.name for hero in heroes]


async def test_the_test_sees_what_the_routes_wrote(client, db_session):
    preventers = {"name": "Preventers", "headquarters": "Sharp Tower"}
    team = (await client.post("/teams/", json=preventers)).json()
    rusty = {"name": "Rusty-Man", "secret_name": "Tommy Sharp", "team_id": team["id"]}
    hero = (await client.post("/heroes/", json=rusty)).json()

    found = (await db_session.exec(select(Hero).where(Hero.name == "Rusty-Man"))).one()
    assert (found.id, found.team_id) == (hero["id"], team["id"])
    assert [h.name for h in await db_session.heroes_of("Preventers")] == ["Rusty-Man"]
    assert (await client.delete(f"/heroes/{hero['id']}")).json() == {"ok": True}
    assert (await client.get(f"/heroes/{hero['id']}")).status_code == 404


async def test_what_the_tests_and_routes_wrote_was_rolled_back(client, db_session):
    assert (await db_session.exec(select(Team))).all() == []
    assert (await client.get("/heroes/")).json() == []
"""

HEROES_SEED_TESTS = """
import pytest

from heroes_app import Hero, HeroSession
from heroes_factories import TeamFactory


@pytest.fixture(scope="module")
async def seeded_team(module_db_session):
    assert type(module_db_session) is HeroSession and module_db_session.autoflush is False
    return await TeamFactory.acreate(name="Seeded")


@pytest.fixture(scope="class")
async def seeded_hero(class_db_session, seeded_team):
    assert type(class_db_session) is HeroSession and class_db_session.autoflush is False
    # The module's objects belong to its session: the class's refers to them by id.
    hero = Hero(name="Seedling", secret_name="seed", team_id=seeded_team.id)
    class_db_session.add(hero)
    await class_db_session.flush()
    return hero


class TestWithSeedData:
    async def test_seed_sessions_are_the_apps_class(self, client, db_session, seeded_hero):
        assert (await client.get("/teams/count")).json() == 1
        assert [hero.id for hero in await db_session.heroes_of("Seeded")] == [seeded_hero.id]
"""

KEYS_ONLY: list[str] = []
WITH_SESSIONMAKER = ["-o", "fastsuite_sessionmaker=heroes_app:SessionLocal"]
MODES = [
    pytest.param(
        KEYS_ONLY,
        "heroes_app.HeroSession from SessionLocal, the async_sessionmaker "
        "heroes_app:get_session opens; options: autoflush=False, expire_on_commit=False",
        id="keys-only",
    ),
    pytest.param(
        WITH_SESSIONMAKER,
        "heroes_app.HeroSession from fastsuite_sessionmaker = heroes_app:SessionLocal (ini); "
        "options: autoflush=False, expire_on_commit=False",
        id="with-sessionmaker",
    ),
]


@pytest.fixture
def heroes_project(pytester: pytest.Pytester) -> pytest.Pytester:
    """The SQLModel example project (examples/heroes_app), its factories and its pytest.ini."""
    pytester.copy_example("heroes_app")
    return pytester


@pytest.mark.parametrize(("args", "learned"), MODES)
def test_sqlmodel_app_runs_with_its_session_class_and_options(heroes_project, args, learned):
    heroes_project.makepyfile(test_heroes=HEROES_TESTS, test_heroes_seed=HEROES_SEED_TESTS)

    result = heroes_project.runpytest(*args)

    result.assert_outcomes(passed=8)
    result.stdout.fnmatch_lines(["fastsuite:", f"  session: {learned}"])
    assert not (heroes_project.path / "never-touched-by-tests.db").exists()


def test_sqlmodel_app_whose_dependency_builds_its_session_runs_with_the_keys(heroes_project):
    # As SQLModel's docs write it: `AsyncSession(engine)` in the dependency, no sessionmaker
    # to learn from, so the class comes from `SessionDep` and the options are fastsuite's.
    app_module = heroes_project.path / "heroes_app.py"
    source = app_module.read_text()
    opens_sessionmaker = "    async with SessionLocal() as session:\n"
    assert opens_sessionmaker in source
    app_module.write_text(
        source.replace(opens_sessionmaker, "    async with HeroSession(engine) as session:\n")
    )
    heroes_project.makepyfile(test_heroes=HEROES_TESTS)

    result = heroes_project.runpytest("-k", "not options and not autoflush")

    result.assert_outcomes(passed=4, deselected=3)
    result.stdout.fnmatch_lines(
        [
            "  session: heroes_app.HeroSession from parameter 'session' of "
            "heroes_app.create_team; options: unknown, so expire_on_commit=False*"
        ]
    )
    assert not (heroes_project.path / "never-touched-by-tests.db").exists()


@pytest.mark.slow
@requires_postgresql
@pytest.mark.parametrize(("args", "learned"), MODES)
def test_sqlmodel_app_runs_on_postgresql_too(heroes_project, args, learned):
    heroes_project.makepyfile(test_heroes=HEROES_TESTS, test_heroes_seed=HEROES_SEED_TESTS)

    with database_of_its_own() as database:
        result = heroes_project.runpytest(*args, f"--fastsuite-db-url={url_with(database)}")

    result.assert_outcomes(passed=8)
    result.stdout.fnmatch_lines(["  db_url: postgresql*", f"  session: {learned}"])
