"""The types of the callables fixtures return, for annotating tests and fixtures that take them.

    async def test_listing(client: httpx.AsyncClient, assert_num_queries: AssertNumQueries):
        with assert_num_queries(2):
            await client.get("/items")

(pytest-django exports DjangoAssertNumQueries for the same purpose.)

PYTEST_DONT_REWRITE: fastsuite-warm preloads this module (see fastsuite._warm.learning).
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager, AbstractContextManager
from typing import Any, Protocol

import httpx

from fastsuite._background import CapturedCallbacks
from fastsuite._queries import CapturedQueries


class AssertNumQueries(Protocol):
    """The `assert_num_queries` fixture: `with assert_num_queries(n) as captured:`."""

    def __call__(
        self, expected: int, *, exact: bool = True
    ) -> AbstractContextManager[CapturedQueries]: ...


class AssertMaxQueries(Protocol):
    """The `assert_max_queries` fixture: `with assert_max_queries(n) as captured:`."""

    def __call__(self, limit: int) -> AbstractContextManager[CapturedQueries]: ...


class CaptureOnCommitCallbacks(Protocol):
    """The `capture_on_commit_callbacks` fixture: `async with capture_on_commit_callbacks()
    as tasks:`, then `await tasks.run()`."""

    def __call__(
        self, *, execute: bool = False
    ) -> AbstractAsyncContextManager[CapturedCallbacks]: ...


class ClientFactory(Protocol):
    """The `client_factory` fixture: `client_factory(headers=...)` takes httpx.AsyncClient's
    keyword arguments (base_url defaults to the client's) and returns a client like `client`."""

    def __call__(self, **options: Any) -> httpx.AsyncClient: ...
