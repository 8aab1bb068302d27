"""Strict SQLite in the dialect's type map: the bound values asyncpg refuses are refused.

Bind processors wrap those of the integer, string, date/time and UUID types (one Python call per
bound value of those types), and `DateTime(timezone=True)` results come back aware, in UTC. A
UUID given as a string is taken as asyncpg takes it (SQLAlchemy's SQLite binding of `Uuid`
would fail with "'str' object has no attribute 'hex'"), and refused as asyncpg refuses it when
it is no UUID.

PYTEST_DONT_REWRITE: fastsuite-warm preloads this module (see fastsuite._warm.learning).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy import types
from sqlalchemy.dialects.sqlite import DATE, DATETIME
from sqlalchemy.engine import Dialect

from fastsuite._strict_sqlite import StrictSQLiteError, strict_message

_INTEGER_BITS: dict[type[Any], int] = {
    types.Integer: 32,
    types.INTEGER: 32,
    types.INT: 32,
    types.SmallInteger: 16,
    types.SMALLINT: 16,
    types.BigInteger: 64,
    types.BIGINT: 64,
}
_TEXT = {
    types.String,
    types.VARCHAR,
    types.Text,
    types.TEXT,
    types.Unicode,
    types.UnicodeText,
    types.CHAR,
    types.NVARCHAR,
    types.NCHAR,
}
_UUID = {types.Uuid, types.UUID}
_CLIENT_SIDE = "invalid input for query argument: {value!r} ({why})"
_strict_classes: dict[type[Any], type[Any]] = {}


def strict_types(dialect: Dialect, checks: frozenset[str], columns: dict[Any, str]) -> None:
    """Wrap the bind (and result) processors of the types the checks care about."""
    type_checks = checks & {"bound_types", "integer_range", "timezone"}
    if not type_checks:
        return
    type_descriptor = dialect.type_descriptor

    def strict_type_descriptor(typeobj: Any) -> Any:
        impl = type_descriptor(typeobj)
        kind = type(impl)
        if kind not in _INTEGER_BITS and kind not in _TEXT and kind not in (DATETIME, DATE, *_UUID):
            return impl
        strict: Any = impl.adapt(_strict_class(kind))
        strict.fastsuite_checks = type_checks
        strict.fastsuite_column = columns.get(typeobj)
        return strict

    dialect.type_descriptor = strict_type_descriptor  # type: ignore[method-assign]


def _strict_class(kind: type[Any]) -> type[Any]:
    if kind not in _strict_classes:
        _strict_classes[kind] = type(
            f"Strict{kind.__name__}",
            (kind,),
            {
                "fastsuite_checks": frozenset(),
                "fastsuite_column": None,
                "bind_processor": _bind_processor,
                "result_processor": _result_processor,
            },
        )
    return _strict_classes[kind]


def _refusal(check: str, value: Any, why: str, column: str | None) -> StrictSQLiteError:
    problem = _CLIENT_SIDE.format(value=value, why=why)
    return StrictSQLiteError(strict_message(check, problem, column), aborts=False)


def _bind_processor(self: Any, dialect: Dialect) -> Callable[[Any], Any] | None:
    inner = super(type(self), self).bind_processor(dialect)
    checks = self.fastsuite_checks
    column = self.fastsuite_column
    kind = type(self).__mro__[1]
    if kind in _INTEGER_BITS:
        return _integer_checker(_INTEGER_BITS[kind], checks, column, inner)
    if kind in _TEXT:
        return _text_checker(column, inner) if "bound_types" in checks else inner
    if kind in _UUID:
        return _uuid_reader(self, checks, column, inner)
    return _datetime_checker(self, checks, column, inner)


def _integer_checker(
    bits: int, checks: frozenset[str], column: str | None, inner: Any
) -> Callable[[Any], Any]:
    high = (1 << (bits - 1)) - 1 if "integer_range" in checks else 1 << 64
    low = -high - 1
    refuse_text = "bound_types" in checks

    def process(value: Any) -> Any:
        if value.__class__ is int or isinstance(value, int):
            if not low <= value <= high:
                raise _refusal("integer_range", value, f"value out of int{bits} range", column)
        elif refuse_text and isinstance(value, str | bytes):
            why = f"{type(value).__name__!r} object cannot be interpreted as an integer"
            raise _refusal("bound_types", value, why, column)
        return value if inner is None else inner(value)

    return process


def _text_checker(column: str | None, inner: Any) -> Callable[[Any], Any]:
    def process(value: Any) -> Any:
        if value is not None and not isinstance(value, str):
            why = f"expected str, got {type(value).__name__}"
            raise _refusal("bound_types", value, why, column)
        return value if inner is None else inner(value)

    return process


def _uuid_reader(
    self: Any, checks: frozenset[str], column: str | None, inner: Callable[[Any], Any] | None
) -> Callable[[Any], Any] | None:
    if not getattr(self, "as_uuid", True):
        return inner  # its values are strings already
    refuse = "bound_types" in checks

    def process(value: Any) -> Any:
        if isinstance(value, str):
            try:
                value = uuid.UUID(value)
            except ValueError as error:
                if refuse:
                    why = f"invalid UUID {value!r}: {error}"
                    raise _refusal("bound_types", value, why, column) from None
        return value if inner is None else inner(value)

    return process


def _datetime_checker(
    self: Any, checks: frozenset[str], column: str | None, inner: Any
) -> Callable[[Any], Any]:
    aware = bool(getattr(self, "timezone", False)) and isinstance(self, DATETIME)
    to_utc = aware and "timezone" in checks
    naive_column = isinstance(self, DATETIME) and not aware
    refuse = "bound_types" in checks

    def process(value: Any) -> Any:
        if isinstance(value, dt.datetime) and value.tzinfo is not None:
            if to_utc:
                value = value.astimezone(dt.UTC).replace(tzinfo=None)
            elif refuse and naive_column:
                why = "can't subtract offset-naive and offset-aware datetimes"
                raise _refusal("bound_types", value, why, column)
        elif refuse and value is not None and not isinstance(value, dt.date):
            got = type(value).__name__
            why = f"expected a datetime.date or datetime.datetime instance, got {got!r}"
            raise _refusal("bound_types", value, why, column)
        return value if inner is None else inner(value)

    return process


def _result_processor(self: Any, dialect: Dialect, coltype: Any) -> Any:
    inner = super(type(self), self).result_processor(dialect, coltype)
    if not (
        isinstance(self, DATETIME)
        and getattr(self, "timezone", False)
        and "timezone" in getattr(self, "fastsuite_checks", ())
    ):
        return inner
    utc = dt.UTC

    def process(value: Any) -> Any:
        value = inner(value) if inner is not None else value
        if isinstance(value, dt.datetime) and value.tzinfo is None:
            return value.replace(tzinfo=utc)
        return value

    return process
