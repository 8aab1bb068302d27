"""The test's session and the app's requests see each other's writes, ORM objects included.

Each request runs in a session of its own, in the test's transaction. Two things would still
differ from a suite that handed the app the test's own session (the most common recipe):

- before a request, changes the test made to its objects but did not flush are invisible to
  the app: they are flushed first, as the shared session's autoflush would;
- after a request that wrote, objects the test loaded keep their old attribute values: their
  loaded column attributes are read again, one SELECT per mapped class (not counted by
  `assert_num_queries`), and an object whose row the request deleted leaves the session.

Not in tests that commit for real (`fastsuite_db(transaction=True)`): there each session has
transactions of its own, as in production, and a flush or a read would open one on the shared
connection.

Reading again, rather than expiring: an expired attribute loads on access, which an
AsyncSession cannot do (MissingGreenlet); relationships keep what they had loaded.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Column, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstanceState, Mapper, Session
from sqlalchemy.orm.attributes import set_committed_value

from fastsuite._queries import QueryLog

# Rows read per SELECT: SQLite allows 32766 parameters; keys may be composite.
_CHUNK = 500


@dataclass
class FreshObjects:
    """What runs around each request of a test: flush the test's session before it, and
    bring its objects up to date after it."""

    session: AsyncSession
    log: QueryLog

    async def before_request(self) -> int:
        """Flush what the test left pending; return the write count to compare with after."""
        sync = self.session.sync_session
        if sync.new or sync.dirty or sync.deleted:
            await self.session.flush()
        return self.log.writes

    async def after_request(self, writes_before: int) -> None:
        if self.log.writes == writes_before or not self.session.sync_session.identity_map:
            return
        with self.log.paused():
            await self.session.run_sync(reload_loaded_columns)


def reload_loaded_columns(session: Session) -> None:
    """Read again the loaded column attributes of every object in `session`'s identity map."""
    by_mapper: dict[Mapper[Any], list[InstanceState[Any]]] = defaultdict(list)
    for state in session.identity_map.all_states():
        if state.key is not None and not state.deleted:
            by_mapper[state.mapper].append(state)
    with session.no_autoflush:
        for mapper, states in by_mapper.items():
            for start in range(0, len(states), _CHUNK):
                _reload(session, mapper, states[start : start + _CHUNK])


def _reload(session: Session, mapper: Mapper[Any], states: Sequence[InstanceState[Any]]) -> None:
    columns = {
        prop.key: prop.columns[0]
        for prop in mapper.column_attrs
        if isinstance(prop.columns[0], Column)
    }
    keys = list(columns)
    primary_key = list(mapper.primary_key)
    identities = [state.key[1] for state in states if state.key is not None]
    if len(primary_key) == 1:
        where = primary_key[0].in_([identity[0] for identity in identities])
    else:
        where = tuple_(*primary_key).in_(identities)
    statement = (
        select(*primary_key, *columns.values()).select_from(mapper.persist_selectable).where(where)
    )
    rows = {
        tuple(row[: len(primary_key)]): row[len(primary_key) :]
        for row in session.execute(statement)
    }
    gone = []
    for state in states:
        assert state.key is not None
        row = rows.get(tuple(state.key[1]))
        if row is None:
            gone.append(state.obj())
            continue
        _update(state, keys, row)
    for obj in gone:
        if obj is not None:
            session.expunge(obj)


def _update(state: InstanceState[Any], keys: Iterable[str], row: Sequence[Any]) -> None:
    loaded = state.dict
    obj = state.obj()
    for key, value in zip(keys, row, strict=True):
        if key in loaded and loaded[key] != value:
            set_committed_value(obj, key, value)
