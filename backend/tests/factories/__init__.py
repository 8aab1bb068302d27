"""Factories for the backend's models, persisting through the test's transaction.

`await UserFactory.acreate(...)`, `await ContextFactory.acreate_batch(5, owner=user)`.
"""

from tests.factories.contexts import ContextFactory
from tests.factories.users import DEFAULT_PASSWORD, UserFactory

__all__ = ["DEFAULT_PASSWORD", "ContextFactory", "UserFactory"]
