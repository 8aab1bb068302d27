"""The test's session and the app's requests see each other's writes, ORM objects included.

Each request runs in a session of its own, in the test's transaction. Two things would still
differ from a suite that handed the app the test's own session (the most common recipe):

- before a request, changes the test made to its objects but did not flush are invisible to
  the app: they are flushed first, as the shared session's autoflush would;
- after a request that wrote, objects the test loaded keep their old attribute values: the
  loaded column attributes of the objects whose tables it wrote are read again, one SELECT
  per mapped class (not counted by `assert_num_queries`), and an object whose row the request
  deleted leaves the session. A request that only read costs nothing more.

Not in tests that commit for real (`fastsuite_db(transaction=True)`): there each session has
transactions of its own, as in production, and a flush or a read would open one on the shared
connection.

Reading again, rather than expiring: an expired attribute loads on access, which an
AsyncSession cannot do (MissingGreenlet); relationships keep what they had loaded.

PYTEST_DONT_REWRITE: fastsuite-warm preloads this module (see fastsuite._warm.learning).
"""

from __future__ import annotations

import weakref
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import BindParameter, Column, Select, bindparam, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstanceState, Mapper, Session
from sqlalchemy.orm.attributes import set_committed_value

from fastsuite._direct_calls import never_waits_for
from fastsuite._queries import QueryLog, Writes

# Rows read per SELECT: SQLite allows 32766 parameters; keys may be composite.
_CHUNK = 500


@dataclass
class FreshObjects:
    """What runs around each request of a test, for the test's session."""

    session: AsyncSession
    log: QueryLog

    def around_request(self) -> _AroundRequest:
        """`async with fresh.around_request():` around one request."""
        return _AroundRequest(self.session, self.log)


class _AroundRequest:
    """A class rather than an @asynccontextmanager: it runs around every request, and a
    generator-based context manager costs several times as much to enter and leave."""

    __slots__ = ("log", "session", "writes")

    def __init__(self, session: AsyncSession, log: QueryLog) -> None:
        self.session = session
        self.log = log
        self.writes = Writes()

    async def __aenter__(self) -> None:
        sync = self.session.sync_session
        if sync.new or sync.dirty or sync.deleted:
            await self.session.flush()
        self.log.watch_writes(self.writes)

    async def __aexit__(self, kind: type[BaseException] | None, *_: object) -> None:
        self.log.unwatch_writes(self.writes)
        if kind is not None or not self.writes:
            return
        sync = self.session.sync_session
        stale = _stale_states(sync, self.writes)
        if not stale:
            return
        with self.log.paused():
            if never_waits_for(sync):  # the harness's SQLite: no greenlet needed to read
                _reload_all(sync, stale)
            else:
                await self.session.run_sync(_reload_all, stale)


def _stale_states(session: Session, writes: Writes) -> dict[Mapper[Any], list[InstanceState[Any]]]:
    """The loaded objects in `session` whose tables were written (all of them when a write's
    table is unknown), by mapper."""
    by_mapper: dict[Mapper[Any], list[InstanceState[Any]]] = defaultdict(list)
    for state in session.identity_map.all_states():
        if state.key is not None and not state.deleted:
            by_mapper[state.mapper].append(state)
    if writes.unknown:
        return by_mapper
    return {
        mapper: states
        for mapper, states in by_mapper.items()
        if not writes.tables.isdisjoint(table.fullname for table in mapper.tables)
    }


@dataclass(frozen=True)
class _Reload:
    """A mapper's statement reading its column attributes by primary key, built once."""

    statement: Select[Any]
    keys: list[str]
    key_width: int


_reloads: weakref.WeakKeyDictionary[Mapper[Any], _Reload] = weakref.WeakKeyDictionary()


def _reload_of(mapper: Mapper[Any]) -> _Reload:
    reload = _reloads.get(mapper)
    if reload is None:
        columns = {
            prop.key: prop.columns[0]
            for prop in mapper.column_attrs
            if isinstance(prop.columns[0], Column)
        }
        primary_key = list(mapper.primary_key)
        identities: BindParameter[Any] = bindparam("identities", expanding=True)
        where = (
            primary_key[0].in_(identities)
            if len(primary_key) == 1
            else tuple_(*primary_key).in_(identities)
        )
        statement = (
            select(*primary_key, *columns.values())
            .select_from(mapper.persist_selectable)
            .where(where)
        )
        reload = _reloads[mapper] = _Reload(statement, list(columns), len(primary_key))
    return reload


def _reload_all(session: Session, stale: dict[Mapper[Any], list[InstanceState[Any]]]) -> None:
    """Read again the loaded column attributes of the `stale` objects."""
    with session.no_autoflush:
        for mapper, states in stale.items():
            for start in range(0, len(states), _CHUNK):
                _reload(session, _reload_of(mapper), states[start : start + _CHUNK])


def _reload(session: Session, reload: _Reload, states: Sequence[InstanceState[Any]]) -> None:
    width = reload.key_width
    identities: list[Any] = [state.key[1] for state in states if state.key is not None]
    if width == 1:
        identities = [identity[0] for identity in identities]
    result = session.execute(reload.statement, {"identities": identities})
    rows = {tuple(row[:width]): row[width:] for row in result}
    gone = []
    for state in states:
        assert state.key is not None
        row = rows.get(tuple(state.key[1]))
        if row is None:
            gone.append(state.obj())
            continue
        loaded, obj = state.dict, state.obj()
        for key, value in zip(reload.keys, row, strict=True):
            if key in loaded and loaded[key] != value:
                set_committed_value(obj, key, value)
    for obj in gone:
        # Not when an object expunged before took it along (a relationship's "expunge" cascade).
        if obj is not None and obj in session:
            session.expunge(obj)
