"""An async SQLModel app written as SQLModel's and FastAPI's tutorials write one: Team and Hero
with a relationship, a `get_session` dependency, routes that call `session.exec(select(...))`.

Its sessions are of its own class (a helper method on SQLModel's AsyncSession) with options of
its own (`autoflush=False`); its engine points at a file no test may touch.
"""

from typing import Annotated

from fastapi import Depends, FastAPI, HTTPException, Query
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
from sqlmodel import Field, Relationship, SQLModel, func, select
from sqlmodel.ext.asyncio.session import AsyncSession


class TeamBase(SQLModel):
    name: str = Field(index=True)
    headquarters: str


class Team(TeamBase, table=True):
    id: int | None = Field(default=None, primary_key=True)

    heroes: list["Hero"] = Relationship(back_populates="team")


class TeamCreate(TeamBase):
    pass


class TeamPublic(TeamBase):
    id: int


class HeroBase(SQLModel):
    name: str = Field(index=True)
    secret_name: str
    age: int | None = Field(default=None, index=True)

    team_id: int | None = Field(default=None, foreign_key="team.id")


class Hero(HeroBase, table=True):
    id: int | None = Field(default=None, primary_key=True)

    team: Team | None = Relationship(back_populates="heroes")


class HeroCreate(HeroBase):
    pass


class HeroPublic(HeroBase):
    id: int


class HeroSession(AsyncSession):
    """The app's own session class: a helper its routes (and its tests) call."""

    async def heroes_of(self, team_name: str) -> list[Hero]:
        statement = select(Hero).join(Team).where(Team.name == team_name).order_by(Hero.id)
        return list((await self.exec(statement)).all())


engine = create_async_engine("sqlite+aiosqlite:///never-touched-by-tests.db")
SessionLocal = async_sessionmaker(
    engine, class_=HeroSession, expire_on_commit=False, autoflush=False
)


async def get_session():
    async with SessionLocal() as session:
        yield session


SessionDep = Annotated[HeroSession, Depends(get_session)]

app = FastAPI()


@app.post("/teams/", response_model=TeamPublic)
async def create_team(team: TeamCreate, session: SessionDep):
    db_team = Team.model_validate(team)
    session.add(db_team)
    await session.commit()
    await session.refresh(db_team)
    return db_team


@app.post("/heroes/", response_model=HeroPublic)
async def create_hero(hero: HeroCreate, session: SessionDep):
    db_hero = Hero.model_validate(hero)
    session.add(db_hero)
    await session.commit()
    await session.refresh(db_hero)
    return db_hero


@app.get("/heroes/", response_model=list[HeroPublic])
async def read_heroes(
    session: SessionDep, offset: int = 0, limit: Annotated[int, Query(le=100)] = 100
):
    heroes = await session.exec(select(Hero).order_by(Hero.id).offset(offset).limit(limit))
    return heroes.all()


@app.get("/heroes/{hero_id}", response_model=HeroPublic)
async def read_hero(hero_id: int, session: SessionDep):
    hero = await session.get(Hero, hero_id)
    if not hero:
        raise HTTPException(status_code=404, detail="Hero not found")
    return hero


@app.delete("/heroes/{hero_id}")
async def delete_hero(hero_id: int, session: SessionDep):
    hero = await session.get(Hero, hero_id)
    if not hero:
        raise HTTPException(status_code=404, detail="Hero not found")
    await session.delete(hero)
    await session.commit()
    return {"ok": True}


@app.get("/teams/{team_name}/heroes")
async def read_team_heroes(team_name: str, session: SessionDep) -> list[str]:
    return [hero.name for hero in await session.heroes_of(team_name)]


@app.get("/teams/count")
async def count_teams(session: SessionDep) -> int:
    return (await session.exec(select(func.count()).select_from(Team))).one()


@app.get("/session")
async def describe_session(session: SessionDep) -> dict[str, object]:
    """What the request's session is: its class and the options the app gave it."""
    return {
        "class": type(session).__qualname__,
        "autoflush": session.autoflush,
        "expire_on_commit": session.sync_session.expire_on_commit,
    }
