"""Users: plain by default; traits `staff`, `admin` (staff superuser) and `inactive`."""

from __future__ import annotations

from functools import cache
from typing import Any

import factory
from app.core.security import hash_password
from app.models import User

from fastsuite import AsyncFactory

DEFAULT_PASSWORD = "correct-horse-battery"

_HASH_PREFIXES = ("$argon2", "pbkdf2_sha256$")


@cache
def _hashed(password: str) -> str:
    # One hash per distinct password per process: hashing is the slowest thing a factory does.
    return hash_password(password)


class UserFactory(AsyncFactory[User]):
    """`password` is the plain password (DEFAULT_PASSWORD unless given); a value that is
    already a hash (Argon2 or Django's pbkdf2_sha256) is stored as it is."""

    class Meta:
        model = User

    class Params:
        staff = factory.Trait(is_staff=True)
        admin = factory.Trait(is_staff=True, is_superuser=True)
        inactive = factory.Trait(is_active=False)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.com")
    first_name = factory.Sequence(lambda n: f"First{n}")
    last_name = "Tester"
    password = DEFAULT_PASSWORD
    is_active = True
    is_staff = False
    is_superuser = False

    @classmethod
    def _adjust_kwargs(cls, **kwargs: Any) -> dict[str, Any]:
        password = kwargs["password"]
        if not password.startswith(_HASH_PREFIXES):
            kwargs["password"] = _hashed(password)
        return kwargs
