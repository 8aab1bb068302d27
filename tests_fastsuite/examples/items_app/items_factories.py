"""factory_boy factories for the items app, on fastsuite's AsyncFactory."""

from __future__ import annotations

import factory
from items_app import Item, Owner, Tag

from fastsuite import AsyncFactory


class OwnerFactory(AsyncFactory[Owner]):
    class Meta:
        model = Owner

    name = factory.Sequence(lambda n: f"owner{n}")


class ItemFactory(AsyncFactory[Item]):
    class Meta:
        model = Item

    name = factory.Sequence(lambda n: f"item{n}")
    owner = factory.SubFactory(OwnerFactory)


class TagFactory(AsyncFactory[Tag]):
    class Meta:
        model = Tag

    label = factory.Sequence(lambda n: f"tag{n}")
