"""The harness's markers: registered with their full signature, checked by calling it.

PYTEST_DONT_REWRITE: fastsuite-warm preloads this module (see fastsuite._warm.learning).
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest


@dataclass(frozen=True)
class DbMarkerOptions:
    """What `@pytest.mark.fastsuite_db(...)` asks of a test's database."""

    transaction: bool = False


def _fastsuite_db(*, transaction: bool = False) -> DbMarkerOptions:
    """The marker's signature: a wrong keyword fails as an ordinary TypeError."""
    return DbMarkerOptions(transaction=transaction)


MARKERS = (
    "fastsuite_db(*, transaction=False): transaction=True runs the test with real commits "
    "(for concurrency and locking tests) and restores the database after it, instead of "
    "rolling it back.",
    "postgresql_only(reason=''): the test checks behaviour that differs on SQLite (see "
    "docs/postgresql.md); it is skipped unless the suite runs on PostgreSQL.",
)

POSTGRESQL_ONLY_SKIP = (
    "runs on PostgreSQL only{reason}; run the suite with "
    "--fastsuite-db-url=postgresql+asyncpg://.../app_test to run it"
)


def db_marker_options(item: pytest.Item) -> DbMarkerOptions:
    marker = item.get_closest_marker("fastsuite_db")
    if marker is None:
        return DbMarkerOptions()
    return _fastsuite_db(*marker.args, **marker.kwargs)


def _postgresql_only(reason: str = "") -> str:
    """The marker's signature: a wrong keyword fails as an ordinary TypeError."""
    return reason


def skip_postgresql_only(items: list[pytest.Item], backend: str) -> None:
    """Mark the postgresql_only tests to be skipped when the database is not PostgreSQL."""
    for item in items:
        marker = item.get_closest_marker("postgresql_only")
        if marker is None:
            continue
        reason = _postgresql_only(*marker.args, **marker.kwargs)
        if backend != "postgresql":
            because = f" ({reason})" if reason else ""
            item.add_marker(pytest.mark.skip(reason=POSTGRESQL_ONLY_SKIP.format(reason=because)))
