"""The app's session class and options, learned once, in every session fastsuite opens; and
what stops the run when the session dependency yields something else than a session."""

from __future__ import annotations

import pytest

SESSIONS_APP = '''
"""An app whose sessions are of its own class, with dependencies declared in every style."""

from collections.abc import AsyncGenerator, AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI
from sqlalchemy import String, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Thing(Base):
    __tablename__ = "things"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50))


class MySession(AsyncSession):
    async def names(self) -> list[str]:
        return list(await self.scalars(select(Thing.name).order_by(Thing.id)))


class OtherSession(AsyncSession):
    pass


engine = create_async_engine("sqlite+aiosqlite:///never-touched-by-tests.db")
Expiring = async_sessionmaker(engine, class_=MySession, info={"app": "sessions_app"})
Bound = async_sessionmaker(binds={Base: engine}, class_=MySession, expire_on_commit=False)


async def annotated() -> AsyncIterator[MySession]:
    async with MySession(engine) as session:
        yield session


async def generator_annotated() -> AsyncGenerator[Annotated[MySession, "doc"], None]:
    async with MySession(engine) as session:
        yield session


async def unannotated():
    async with MySession(engine) as session:
        yield session


async def loose() -> AsyncIterator[Any]:
    async with MySession(engine) as session:
        yield session


async def from_expiring():
    async with Expiring() as session:
        yield session


async def from_bound():
    async with Bound() as session:
        yield session


def returns_maker() -> async_sessionmaker[MySession]:
    return Bound


async def yields_maker() -> AsyncIterator[async_sessionmaker[MySession]]:
    yield Bound


def returns_maker_unannotated():
    return Bound


SessionDep = Annotated[MySession, Depends(unannotated)]
BaseSessionDep = Annotated[AsyncSession, Depends(unannotated)]


async def current_names(session: SessionDep) -> list[str]:
    return await session.names()


def describe(session: AsyncSession) -> dict[str, object]:
    return {
        "class": type(session).__name__,
        "expire_on_commit": session.sync_session.expire_on_commit,
        "info": dict(session.info),
    }


def create_app() -> FastAPI:
    app = FastAPI()

    @app.get("/session")
    async def session_route(session: BaseSessionDep) -> dict[str, object]:
        return describe(session)

    things = APIRouter(prefix="/things")  # routes of an included router are read too

    @things.post("")
    async def add_thing(name: str, session: SessionDep) -> list[str]:
        session.add(Thing(name=name))
        await session.commit()
        return await session.names()

    @things.get("")
    async def list_things(names: Annotated[list[str], Depends(current_names)]) -> list[str]:
        return names

    app.include_router(things)
    return app


MakerDep = Annotated[async_sessionmaker[MySession], Depends(returns_maker_unannotated)]


def create_maker_app() -> FastAPI:
    """The app of a dependency that returns its sessionmaker (issue 9's second project)."""
    app = FastAPI()

    @app.post("/things")
    async def add_thing(name: str, maker: MakerDep) -> list[str]:
        async with maker() as session:
            session.add(Thing(name=name))
            await session.commit()
            return await session.names()

    return app


def create_conflicting_app() -> FastAPI:
    app = FastAPI()

    @app.get("/mine")
    async def mine(session: Annotated[MySession, Depends(unannotated)]) -> None: ...

    @app.get("/other")
    async def other(session: Annotated[OtherSession, Depends(unannotated)]) -> None: ...

    return app


app = create_app()
maker_app = create_maker_app()
conflicting_app = create_conflicting_app()
'''

INI = """
[pytest]
asyncio_mode = auto
addopts = -p pytest_asyncio.plugin -p fastsuite
filterwarnings = error
fastsuite_app = sessions_app:app
fastsuite_metadata = sessions_app:Base
"""

CLASS_PROBE = """
from sessions_app import {class_name}


async def test_db_session_is_of_the_learned_class(db_session):
    assert type(db_session) is {class_name}
    assert db_session.sync_session.expire_on_commit is {expire_on_commit}
"""

CLIENT_PROBE = """
from sessions_app import MySession


async def test_requests_and_db_session_share_the_class_and_the_transaction(client, db_session):
    assert (await client.post("/things", params={"name": "from the app"})).json() == [
        "from the app"
    ]
    assert type(db_session) is MySession
    assert await db_session.names() == ["from the app"]
    assert (await client.get("/things")).json() == ["from the app"]
"""


@pytest.fixture
def sessions_project(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makepyfile(sessions_app=SESSIONS_APP)
    pytester.makeini(INI)
    return pytester


def routes_on(dependency: str) -> str:
    """The app, its routes receiving their session from `dependency`."""
    return SESSIONS_APP.replace("Depends(unannotated)", f"Depends({dependency})")


UNKNOWN_OPTIONS = (
    "options: unknown, so expire_on_commit=False (fastsuite's default; fastsuite_session_class "
    "can name an async_sessionmaker to copy them from)"
)


@pytest.mark.parametrize(
    ("args", "learned"),
    [
        pytest.param(
            ["-o", "fastsuite_session_dependency=sessions_app:annotated"],
            "from the return annotation of sessions_app:annotated",
            id="return-annotation",
        ),
        pytest.param(
            ["-o", "fastsuite_session_dependency=sessions_app:generator_annotated"],
            "from the return annotation of sessions_app:generator_annotated",
            id="async-generator-annotated",
        ),
        pytest.param(
            ["-o", "fastsuite_session_dependency=sessions_app:unannotated"],
            "from parameter 'session' of sessions_app.create_app.<locals>.add_thing",
            id="routes",
        ),
        pytest.param(
            ["-o", "fastsuite_session_dependency=sessions_app:loose"],
            "from parameter 'session' of sessions_app.create_app.<locals>.add_thing",
            id="annotated-any-then-routes",
        ),
        pytest.param(
            [
                "-o",
                "fastsuite_session_dependency=sessions_app:unannotated",
                "-o",
                "fastsuite_app=sessions_app:create_app",
            ],
            "",
            id="routes-of-an-app-factory",
        ),
    ],
)
def test_class_is_learned_from_what_the_app_declares(sessions_project, args, learned):
    sessions_project.makepyfile(
        sessions_app=routes_on(args[1].partition(":")[2]),
        test_session_class_probe=CLASS_PROBE.format(class_name="MySession", expire_on_commit=False),
        test_session_client_probe=CLIENT_PROBE,
    )

    result = sessions_project.runpytest(*args)

    result.assert_outcomes(passed=2)
    if learned:
        result.stdout.fnmatch_lines(
            [f"  session: sessions_app.MySession {learned}; {UNKNOWN_OPTIONS}"]
        )
    else:
        result.stdout.fnmatch_lines(
            [
                "  session: the class the app's routes receive from the session dependency, "
                "read when the app factory has built the app"
            ]
        )
    assert not (sessions_project.path / "never-touched-by-tests.db").exists()


def test_a_route_naming_the_base_class_does_not_hide_the_apps_own(sessions_project):
    # /session receives the dependency as AsyncSession, /things as MySession.
    sessions_project.makepyfile(
        test_session_described_probe="""
async def test_the_request_session(client):
    described = (await client.get("/session")).json()
    assert described == {"class": "MySession", "expire_on_commit": False, "info": {}}
"""
    )

    result = sessions_project.runpytest(
        "-o", "fastsuite_session_dependency=sessions_app:unannotated"
    )

    result.assert_outcomes(passed=1)


def test_unknown_class_is_sqlalchemys_async_session(sessions_project):
    sessions_project.makepyfile(
        test_session_class_probe=CLASS_PROBE.format(
            class_name="AsyncSession", expire_on_commit=False
        ),
        # No route receives this dependency, and it declares nothing.
        sessions_app=SESSIONS_APP + "\n\nasync def bare():\n    yield None\n",
    )

    result = sessions_project.runpytest("-o", "fastsuite_session_dependency=sessions_app:bare")

    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        [
            "  session: sqlalchemy.ext.asyncio.session.AsyncSession from SQLAlchemy "
            f"(nothing in the app names its class); {UNKNOWN_OPTIONS}"
        ]
    )


EXPIRING_PROBE = """
from sqlalchemy import inspect

from sessions_app import MySession, Thing


async def test_db_session_keeps_the_apps_expire_on_commit(db_session):
    assert type(db_session) is MySession
    assert db_session.info == {"app": "sessions_app"}
    thing = Thing(name="a")
    db_session.add(thing)
    await db_session.commit()
    assert inspect(thing).expired  # the app's expire_on_commit=True won over fastsuite's default
    await db_session.refresh(thing)
    assert thing.name == "a"


async def test_the_request_session_too(client):
    described = (await client.get("/session")).json()
    assert described == {
        "class": "MySession", "expire_on_commit": True, "info": {"app": "sessions_app"}
    }
"""


@pytest.mark.parametrize(
    ("args", "learned"),
    [
        pytest.param(
            ["-o", "fastsuite_session_dependency=sessions_app:from_expiring"],
            "Expiring, the async_sessionmaker sessions_app:from_expiring opens",
            id="the-sessionmaker-the-dependency-opens",
        ),
        pytest.param(
            [
                "-o",
                "fastsuite_session_dependency=sessions_app:unannotated",
                "-o",
                "fastsuite_session_class=sessions_app:Expiring",
            ],
            "fastsuite_session_class = sessions_app:Expiring (ini)",
            id="session-class-setting",
        ),
        pytest.param(
            [
                "-o",
                "fastsuite_session_dependency=sessions_app:unannotated",
                "--fastsuite-session-class=sessions_app:Expiring",
            ],
            "--fastsuite-session-class=sessions_app:Expiring",
            id="session-class-option",
        ),
    ],
)
def test_options_are_the_apps_and_win_over_fastsuites_default(sessions_project, args, learned):
    sessions_project.makepyfile(
        sessions_app=routes_on(args[1].partition(":")[2]),
        test_session_expiring_probe=EXPIRING_PROBE,
    )

    result = sessions_project.runpytest(*args)

    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(
        [
            f"  session: sessions_app.MySession from {learned}; options: autoflush=True, "
            "expire_on_commit=True, info={'app': 'sessions_app'}"
        ]
    )


def test_session_class_setting_from_the_environment(sessions_project, monkeypatch):
    sessions_project.makepyfile(
        test_session_class_probe=CLASS_PROBE.format(
            class_name="OtherSession", expire_on_commit=False
        )
    )
    monkeypatch.setenv("FASTSUITE_SESSION_CLASS", "sessions_app:OtherSession")

    result = sessions_project.runpytest("-o", "fastsuite_session_dependency=sessions_app:annotated")

    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        [
            "  session: sessions_app.OtherSession from FASTSUITE_SESSION_CLASS="
            f"sessions_app:OtherSession (environment); {UNKNOWN_OPTIONS}"
        ]
    )


def test_session_class_of_the_wrong_kind_stops_the_run(sessions_project):
    sessions_project.makepyfile(test_session_probe="def test_probe():\n    pass\n")

    result = sessions_project.runpytest(
        "-o",
        "fastsuite_session_dependency=sessions_app:annotated",
        "-o",
        "fastsuite_session_class=sessions_app:Thing",
    )

    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            "ERROR: fastsuite: fastsuite_session_class = sessions_app:Thing (ini) is "
            "DeclarativeAttributeIntercept <class 'sessions_app.Thing'>, not an AsyncSession "
            "subclass, or an async_sessionmaker to copy the class and options from."
        ]
    )


def test_app_sessionmaker_with_binds_still_works_in_the_tests_transaction(sessions_project):
    # Bound's binds name the app's engine, a file no test may touch: dropped, like its bind.
    sessions_project.makepyfile(
        sessions_app=routes_on("from_bound"), test_session_client_probe=CLIENT_PROBE
    )

    result = sessions_project.runpytest(
        "-o",
        "fastsuite_session_dependency=sessions_app:from_bound",
        "-o",
        "fastsuite_sessionmaker=sessions_app:Bound",
        "-o",
        "fastsuite_app=sessions_app:create_app",
    )

    result.assert_outcomes(passed=1)
    assert not (sessions_project.path / "never-touched-by-tests.db").exists()


CONFLICT = (
    "fastsuite: the app's routes receive sessions_app:unannotated as unrelated session classes "
    "(sessions_app.MySession in parameter 'session' of "
    "sessions_app.create_conflicting_app.<locals>.mine, sessions_app.OtherSession in "
    "parameter 'session' of sessions_app.create_conflicting_app.<locals>.other); set "
    "fastsuite_session_class to the one the dependency yields."
)


def test_conflicting_classes_in_the_routes_stop_the_run(sessions_project):
    sessions_project.makepyfile(test_session_probe="def test_probe():\n    pass\n")

    result = sessions_project.runpytest(
        "-o",
        "fastsuite_session_dependency=sessions_app:unannotated",
        "-o",
        "fastsuite_app=sessions_app:conflicting_app",
    )

    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"ERROR: {CONFLICT}"])


def test_conflicting_classes_in_the_routes_of_an_app_factory_stop_the_run(sessions_project):
    # The factory is called by the first test that needs a session: the run stops there.
    sessions_project.makepyfile(test_session_probe="async def test_probe(db_session):\n    pass\n")

    result = sessions_project.runpytest(
        "-o",
        "fastsuite_session_dependency=sessions_app:unannotated",
        "-o",
        "fastsuite_app=sessions_app:create_conflicting_app",
    )

    output = result.stdout.str() + result.stderr.str()
    assert result.ret == pytest.ExitCode.USAGE_ERROR, output
    result.stdout.fnmatch_lines([f"!* _pytest.outcomes.Exit: {CONFLICT} !*"])
    assert "Traceback" not in output


NOT_A_SESSION_FIX = (
    "not an AsyncSession, so fastsuite cannot serve the test's session in its place. If the "
    "app gets its sessions from it, set fastsuite_sessionmaker to the app's async_sessionmaker "
    "(the dependency is then left to the app, and the sessions it opens join the test's "
    "transaction)."
)


@pytest.mark.parametrize(
    ("dependency", "app", "declares"),
    [
        pytest.param(
            "returns_maker",
            "app",
            "is declared to yield",
            id="return-annotation",
        ),
        pytest.param(
            "returns_maker_unannotated",
            "maker_app",
            "is received by parameter 'maker' of "
            "sessions_app.create_maker_app.<locals>.add_thing as",
            id="route-parameter",
        ),
    ],
)
def test_dependency_that_yields_a_sessionmaker_stops_the_run_naming_the_fix(
    sessions_project, dependency, app, declares
):
    sessions_project.makepyfile(test_session_probe="def test_probe():\n    pass\n")

    result = sessions_project.runpytest(
        "-o",
        f"fastsuite_session_dependency=sessions_app:{dependency}",
        "-o",
        f"fastsuite_app=sessions_app:{app}",
    )

    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            f"ERROR: fastsuite: fastsuite_session_dependency = sessions_app:{dependency} (ini) "
            f"{declares} sqlalchemy.ext.asyncio.session.async_sessionmaker, {NOT_A_SESSION_FIX}"
        ]
    )


def test_a_dependency_that_yields_the_sessionmaker_it_names_is_left_to_the_app(sessions_project):
    # The fix the refusal above suggests, made by fastsuite itself: the dependency's code names
    # the sessionmaker, which is sent into the test's transaction.
    sessions_project.makepyfile(test_session_probe="def test_probe():\n    pass\n")

    result = sessions_project.runpytest(
        "-o", "fastsuite_session_dependency=sessions_app:yields_maker"
    )

    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        [
            "  session dependency: sessions_app:yields_maker runs as written; its sessions "
            "(sessions_app:Bound) join the test's transaction"
        ]
    )


MAKER_APP_PROBE = """
from sessions_app import MySession


async def test_the_apps_sessionmaker_serves_its_routes(client, db_session):
    assert (await client.post("/things", params={"name": "via maker"})).json() == ["via maker"]
    assert type(db_session) is MySession
    assert await db_session.names() == ["via maker"]


async def test_and_is_rolled_back(db_session):
    assert await db_session.names() == []
"""


@pytest.mark.parametrize(
    "dependency",
    [pytest.param("", id="without-session-dependency"), pytest.param("returns_maker", id="with")],
)
def test_sessionmaker_alone_is_enough_for_an_app_whose_dependency_yields_it(
    sessions_project, dependency
):
    sessions_project.makepyfile(test_session_maker_app_probe=MAKER_APP_PROBE)

    result = sessions_project.runpytest(
        "-o",
        f"fastsuite_session_dependency={'sessions_app:' + dependency if dependency else ''}",
        "-o",
        "fastsuite_sessionmaker=sessions_app:Bound",
        "-o",
        "fastsuite_app=sessions_app:maker_app",
    )

    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(
        [
            "  session: sessions_app.MySession from fastsuite_sessionmaker = sessions_app:Bound "
            "(ini); options: autoflush=True, expire_on_commit=False"
        ]
    )


def test_neither_session_dependency_nor_sessionmaker_stops_the_run(sessions_project):
    sessions_project.makepyfile(test_session_probe="def test_probe():\n    pass\n")

    result = sessions_project.runpytest()

    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            "ERROR: fastsuite: neither fastsuite_session_dependency nor fastsuite_sessionmaker "
            'is set; set fastsuite_session_dependency to "module:attr" of the dependency that '
            "yields the app's AsyncSession, or fastsuite_sessionmaker to the app's "
            "async_sessionmaker."
        ]
    )


def test_session_class_named_alone_keeps_the_options_of_the_apps_factory(sessions_project):
    sessions_project.makepyfile(
        test_session_class_probe="""
from sessions_app import OtherSession


async def test_db_session(db_session):
    assert type(db_session) is OtherSession
    assert db_session.sync_session.expire_on_commit is True
    assert db_session.info == {"app": "sessions_app"}
"""
    )

    result = sessions_project.runpytest(
        "-o",
        "fastsuite_session_dependency=sessions_app:from_expiring",
        "-o",
        "fastsuite_session_class=sessions_app:OtherSession",
    )

    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        [
            "  session: sessions_app.OtherSession from fastsuite_session_class = "
            "sessions_app:OtherSession (ini), options from Expiring, the async_sessionmaker "
            "sessions_app:from_expiring opens; options: autoflush=True, expire_on_commit=True, "
            "info={'app': 'sessions_app'}"
        ]
    )


EVENTS_PROBE = """
import items_app


async def test_events_on_the_apps_session_class_hear_db_session(db_session):
    items_app.COMMITTED.clear()
    await db_session.commit()
    assert items_app.COMMITTED == ["commit"]
"""


@pytest.mark.parametrize(
    "args",
    [
        pytest.param([], id="with-sessionmaker"),
        pytest.param(["-o", "fastsuite_sessionmaker="], id="keys-only"),
    ],
)
def test_events_registered_on_the_apps_session_class_hear_db_session(items_project, args):
    # items_app's sessions are of sync_session_class=AppSession, which an after_commit
    # listener hears; its get_session opens them from SessionLocal.
    items_project.makepyfile(test_session_events_probe=EVENTS_PROBE)

    result = items_project.runpytest(*args)

    result.assert_outcomes(passed=1)
