from __future__ import annotations

import factory
from contexts.models import Context
from django.contrib.auth import get_user_model
from factory.django import DjangoModelFactory

DEFAULT_PASSWORD = "bench-password-123"


class UserFactory(DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ()

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password(DEFAULT_PASSWORD)
    is_active = True

    class Params:
        admin = factory.Trait(is_staff=True, is_superuser=True)


class ContextFactory(DjangoModelFactory):
    class Meta:
        model = Context

    owner = factory.SubFactory(UserFactory)
    name = factory.Sequence(lambda n: f"context-{n}")
    description = ""
    data = factory.LazyFunction(dict)
