"""Contexts, owned by a new user unless `owner=` is given.

Only what the model has no default for is declared: `description`, `data` and `is_active` take
the model's defaults when the row is inserted, so `acreate()` returns them filled ("", {}, True)
and `build()` leaves them None unless given. Each declaration costs a factory call more than
the column default (factory_boy resolves every one, for every object).
"""

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
