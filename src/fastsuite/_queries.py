"""Recording the SQL a test runs: query budgets, and the "Captured SQL" of a failed test.

PYTEST_DONT_REWRITE: fastsuite-warm preloads this module (see fastsuite._warm.learning).
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine

# Transaction control is the isolation's doing, not the code under test's, and its count
# changes with the harness (a SAVEPOINT per session): budgets count the other statements.
_TRANSACTION_CONTROL = re.compile(
    r"^\s*(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE|END)\b", re.IGNORECASE
)
# Statements that change nothing; any other counts as a write (what a request wrote is read
# again into the test's objects, see _freshness).
_READ = re.compile(r"^\s*(SELECT|PRAGMA|EXPLAIN|SHOW)\b", re.IGNORECASE)
_PARAMETERS_SHOWN = 300


# Statements come back as the same few strings (SQLAlchemy caches their compiled text): each is
# matched once. Bounded for apps that build unique SQL texts.
@lru_cache(maxsize=4096)
def is_transaction_control(statement: str) -> bool:
    return bool(_TRANSACTION_CONTROL.match(statement))


@lru_cache(maxsize=4096)
def is_read(statement: str) -> bool:
    return bool(_READ.match(statement))


@dataclass(frozen=True)
class Query:
    """One statement sent to the database, with its parameters."""

    statement: str
    parameters: Any
    executemany: bool = False

    @property
    def is_transaction_control(self) -> bool:
        return is_transaction_control(self.statement)

    def __str__(self) -> str:
        statement = " ".join(self.statement.split())
        if not self.parameters:
            return statement
        shown = repr(self.parameters)
        if len(shown) > _PARAMETERS_SHOWN:
            shown = shown[:_PARAMETERS_SHOWN] + "…"
        many = " (executemany)" if self.executemany else ""
        return f"{statement}  -- parameters{many}: {shown}"


@dataclass
class CapturedQueries:
    """The statements run inside one `assert_num_queries`/`assert_max_queries` block."""

    queries: list[Query] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.queries)

    def __iter__(self) -> Iterator[Query]:
        return iter(self.queries)

    def __getitem__(self, index: int) -> Query:
        return self.queries[index]

    @property
    def statements(self) -> list[str]:
        return [query.statement for query in self.queries]


@dataclass
class Writes:
    """What the statements run while watched may have done to rows that existed before them
    (see _freshness), by table (fullname → the Table, whose metadata tells its foreign keys).

    `updated`: an UPDATE, an upsert (INSERT ... ON CONFLICT DO UPDATE, MySQL's ON DUPLICATE
    KEY UPDATE); `deleted`: a DELETE, an INSERT that may replace rows (SQLite's INSERT OR
    REPLACE: REPLACE deletes the rows in its way); `unknown` when a write's table or kind cannot
    be told (raw SQL, an INSERT led by a WITH, whose CTE may write too). A plain INSERT (ON
    CONFLICT DO NOTHING included) only adds rows: it changes none that exists, and is not
    recorded."""

    updated: dict[str, Any] = field(default_factory=dict)
    deleted: dict[str, Any] = field(default_factory=dict)
    unknown: bool = False

    def __bool__(self) -> bool:
        return self.unknown or bool(self.updated) or bool(self.deleted)


# Only an INSERT whose text opens so adds rows and nothing else (given what _record checks of
# its clauses): not INSERT OR REPLACE (nor any other INSERT OR ...), not WITH ... INSERT.
_PLAIN_INSERT = re.compile(r"^\s*INSERT\s+INTO\b", re.IGNORECASE)


@lru_cache(maxsize=4096)
def _opens_as_plain_insert(statement: str) -> bool:
    return bool(_PLAIN_INSERT.match(statement))


def _write_of(statement: str, context: Any) -> tuple[str, Any]:
    """What a write (a statement that is no read) may do to existing rows: "adds" (none),
    "updates", "deletes" or "unknown"; and the Table it writes, when known."""
    compiled = getattr(context, "compiled", None)
    element = getattr(compiled, "statement", None)
    table = getattr(element, "table", None)
    if not isinstance(getattr(table, "fullname", None), str):
        return "unknown", None  # raw SQL, DDL
    if getattr(compiled, "isinsert", False):
        if _opens_as_plain_insert(statement):
            return ("adds" if _only_adds_rows(element) else "updates"), table
        if statement.lstrip()[:4].upper() == "WITH":
            return "unknown", table
        return "deletes", table  # INSERT OR REPLACE (or IGNORE, ...): it may replace rows
    if getattr(compiled, "isupdate", False):
        return "updates", table
    if getattr(compiled, "isdelete", False):
        return "deletes", table
    return "unknown", table


def _record_write(watches: list[Writes], statement: str, context: Any) -> None:
    """Add to each of `watches` what the write `statement` (no read) may have changed."""
    kind, table = _write_of(statement, context)
    if kind == "adds":
        return
    for writes in watches:
        if kind == "updates":
            writes.updated[table.fullname] = table
        elif kind == "deletes":
            writes.deleted[table.fullname] = table
        else:
            writes.unknown = True


def _only_adds_rows(insert: Any) -> bool:
    """Whether a compiled INSERT construct only adds rows: no clause after its VALUES (an
    upsert's ON CONFLICT DO UPDATE) but ON CONFLICT DO NOTHING."""
    after_values = getattr(insert, "_post_values_clause", None)
    return after_values is None or type(after_values).__name__ == "OnConflictDoNothing"


class QueryLog:
    """Listens to one engine and hands each statement to whoever is capturing at the time.

    Every statement passes through here, so recording is kept to the minimum until someone
    reads: the last statements are kept as raw tuples, made into `Query` objects only for a
    failed test's report; only an open capture gets them at once.
    """

    def __init__(
        self, engine: Engine, keep_last: int = 50, *, reverses_unordered: bool = False
    ) -> None:
        # The strict SQLite check `unordered`: the report then says which reads had no order.
        self.reverses_unordered = reverses_unordered
        self._recent: deque[tuple[str, Any, bool]] = deque(maxlen=keep_last)
        self.total = 0
        self._paused = False
        self._captures: list[CapturedQueries] = []
        self._write_watches: list[Writes] = []
        event.listen(engine, "before_cursor_execute", self._record)

    def _record(
        self,
        _connection: Any,
        _cursor: Any,
        statement: str,
        parameters: Any,
        context: Any,
        executemany: bool,
    ) -> None:
        if self._paused or is_transaction_control(statement):
            return
        if self._write_watches and not is_read(statement):
            _record_write(self._write_watches, statement, context)
        self.total += 1
        self._recent.append((statement, parameters, executemany))
        if self._captures:
            query = Query(statement, parameters, executemany)
            for capture in self._captures:
                capture.queries.append(query)

    @property
    def recent(self) -> list[Query]:
        """The last statements (transaction control aside), oldest first."""
        return [Query(*raw) for raw in self._recent]

    def start_test(self) -> None:
        self._recent.clear()
        self.total = 0

    @contextmanager
    def paused(self) -> Iterator[None]:
        """Leave the harness's own statements out of the budgets and the Captured SQL."""
        self._paused = True
        try:
            yield
        finally:
            self._paused = False

    @contextmanager
    def watching_writes(self) -> Iterator[Writes]:
        """What the block's statements may have changed of the rows already there."""
        writes = Writes()
        self.watch_writes(writes)
        try:
            yield writes
        finally:
            self.unwatch_writes(writes)

    def watch_writes(self, writes: Writes) -> None:
        """From now on, record in `writes` what the writes change (see unwatch_writes)."""
        self._write_watches.append(writes)

    def unwatch_writes(self, writes: Writes) -> None:
        self._write_watches.remove(writes)

    @contextmanager
    def capture(self) -> Iterator[CapturedQueries]:
        captured = CapturedQueries()
        self._captures.append(captured)
        try:
            yield captured
        finally:
            self._captures.remove(captured)

    def report(self) -> str:
        """The "Captured SQL" section of a failed test: the last statements, numbered."""
        recent = self.recent
        lines = [f"{index}. {query}" for index, query in enumerate(recent, start=1)]
        skipped = self.total - len(recent)
        if skipped > 0:
            lines.insert(0, f"({skipped} earlier statements not shown)")
        unordered = [
            str(index)
            for index, query in enumerate(recent, start=1)
            if self.reverses_unordered and _reads_without_order(query.statement)
        ]
        if unordered:
            several = len(unordered) > 1
            lines.append(
                UNORDERED_READS.format(
                    s="s" if several else "",
                    numbers=", ".join(unordered),
                    have="have" if several else "has",
                    they="they" if several else "it",
                    return_="return" if several else "returns",
                )
            )
        return "\n".join(lines)


UNORDERED_READS = (
    "(fastsuite: statement{s} {numbers} {have} no ORDER BY: where {they} {return_} several rows, "
    "SQLite returns them in reverse order here, on purpose, as PostgreSQL promises no order "
    "either (the strict SQLite check `unordered`). A test that relies on the order of those "
    "rows needs an ORDER BY in the query; fastsuite_sqlite_lenient = unordered turns the check "
    "off.)"
)
_SELECT = re.compile(r"^\s*(?:SELECT|WITH)\b", re.IGNORECASE)
_ORDER_BY = re.compile(r"\bORDER\s+BY\b", re.IGNORECASE)


def _reads_without_order(statement: str) -> bool:
    return bool(_SELECT.match(statement)) and not _ORDER_BY.search(statement)


_active_log: QueryLog | None = None
# Where the run keeps its QueryLog, for the hooks that report a failed test's statements.
QUERY_LOG_KEY = pytest.StashKey[QueryLog]()

NO_DATABASE = (
    "fastsuite: {helper}() counts the statements sent to the test database, which this test "
    "has not set up: request the db_session or client fixture (or use the {helper} fixture)."
)


def active_log() -> QueryLog | None:
    """The log of the test database the running tests use (None before db_engine is set up)."""
    return _active_log


def set_active_log(log: QueryLog | None) -> None:
    global _active_log
    _active_log = log


def _numbered(captured: CapturedQueries) -> str:
    return "\n".join(f"{index}. {query}" for index, query in enumerate(captured, start=1))


@contextmanager
def assert_num_queries(expected: int, *, exact: bool = True) -> Iterator[CapturedQueries]:
    """Fail unless the block sends exactly `expected` statements (transaction control aside)."""
    __tracebackhide__ = True
    helper = "assert_num_queries" if exact else "assert_max_queries"
    if _active_log is None:
        raise RuntimeError(NO_DATABASE.format(helper=helper))
    with _active_log.capture() as captured:
        yield captured
    count = len(captured)
    if (exact and count != expected) or (not exact and count > expected):
        wanted = f"{expected}" if exact else f"at most {expected}"
        raise AssertionError(
            f"Expected {wanted} queries but {count} were done:\n{_numbered(captured)}"
        )


@contextmanager
def assert_max_queries(limit: int) -> Iterator[CapturedQueries]:
    """Fail if the block sends more than `limit` statements (transaction control aside)."""
    __tracebackhide__ = True
    with assert_num_queries(limit, exact=False) as captured:
        yield captured
