"""The harness's markers: registered with their full signature, checked by calling it."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

__all__ = ["MARKERS", "DbMarkerOptions", "db_marker_options"]


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
    "postgresql_only: the test checks behaviour that differs on SQLite; it is skipped unless "
    "the suite runs on PostgreSQL.",
)


def db_marker_options(item: pytest.Item) -> DbMarkerOptions:
    marker = item.get_closest_marker("fastsuite_db")
    if marker is None:
        return DbMarkerOptions()
    return _fastsuite_db(*marker.args, **marker.kwargs)
