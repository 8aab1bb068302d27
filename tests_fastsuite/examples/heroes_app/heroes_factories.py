"""factory_boy factories for the SQLModel table models, on fastsuite's AsyncFactory."""

import factory
from heroes_app import Hero, Team

from fastsuite import AsyncFactory


class TeamFactory(AsyncFactory[Team]):
    class Meta:
        model = Team

    name = factory.Sequence(lambda n: f"team{n}")
    headquarters = "Sharp Tower"


class HeroFactory(AsyncFactory[Hero]):
    class Meta:
        model = Hero

    name = factory.Sequence(lambda n: f"hero{n}")
    secret_name = factory.Sequence(lambda n: f"secret{n}")
    team = factory.SubFactory(TeamFactory)
