"""Contexts, owned by a new user unless `owner=` is given."""

from __future__ import annotations

import factory
from app.models import Context

from fastsuite import AsyncFactory
from tests.factories.users import UserFactory


class ContextFactory(AsyncFactory[Context]):
    class Meta:
        model = Context

    class Params:
        owner = factory.SubFactory(UserFactory)

    owner_id = factory.SelfAttribute("owner.id")
    name = factory.Sequence(lambda n: f"context {n}")
    description = ""
    data = factory.LazyFunction(dict)
    is_active = True
