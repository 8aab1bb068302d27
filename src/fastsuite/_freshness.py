"""The test's session and the app's requests see each other's writes, ORM objects included.

Each request runs in a session of its own, in the test's transaction. Two things would still
differ from a suite that handed the app the test's own session (the most common recipe):

- before a request, changes the test made to its objects but did not flush are invisible to
  the app: they are flushed first, as the shared session's autoflush would;
- after a request that changed rows already there, objects the test loaded keep their old
  attribute values: the loaded column attributes of the objects whose tables it changed are
  read again, one SELECT per mapped class (not counted by `assert_num_queries`), and an
  object whose row the request deleted leaves the session. A request that only read, or only
  inserted, costs nothing more.

Which tables a request changed is told from its statements (see `_queries.Writes`):

- an UPDATE or DELETE changes its table, and so does an INSERT that may touch existing rows
  (ON CONFLICT DO UPDATE, INSERT OR REPLACE, whose REPLACE deletes the rows in its way); a
  plain INSERT (ON CONFLICT DO NOTHING too) only adds rows, which no loaded object can show;
- the foreign keys of the metadata carry the change on: rows deleted in a table delete
  (ON DELETE CASCADE) or change (SET NULL, SET DEFAULT) the rows referencing them in the
  tables whose foreign keys say so, rows updated there change those whose foreign keys have
  an ON UPDATE action, and so on down (only the foreign keys the models declare are seen);
- raw SQL (a `text()` statement, the driver's own), or an INSERT that opens with a WITH,
  changes everything, since its tables cannot be told.

What a database trigger writes is not seen: a trigger that changes another table's rows leaves
the loaded objects of that table as they were (a test can refresh them with
`await db_session.refresh(obj)`).

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

from sqlalchemy import BindParameter, Column, MetaData, Select, bindparam, select, tuple_
from sqlalchemy.engine import Connection
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
        # What flush() itself asks first (SQLAlchemy 2.0 and 2.1 alike): `new`, `dirty` and
        # `deleted` would each build a set of objects to tell the same, on every request.
        if not self.session.sync_session._is_clean():
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
    """The loaded objects in `session` whose tables were changed (all of them when a write's
    table is unknown), by mapper."""
    by_mapper: dict[Mapper[Any], list[InstanceState[Any]]] = defaultdict(list)
    for state in session.identity_map.all_states():
        if state.key is not None and not state.deleted:
            by_mapper[state.mapper].append(state)
    if writes.unknown:
        return by_mapper
    changed = changed_tables(writes)
    return {
        mapper: states
        for mapper, states in by_mapper.items()
        if not changed.isdisjoint(table.fullname for table in mapper.tables)
    }


def changed_tables(writes: Writes) -> set[str]:
    """The tables whose existing rows `writes` may have changed: those written, and those the
    foreign keys' ON DELETE and ON UPDATE actions carry the changes to (see the module)."""
    written = (*writes.deleted.values(), *writes.updated.values())
    metadatas = {id(table.metadata): table.metadata for table in written}
    every_actions = [_actions_of(metadata) for metadata in metadatas.values()]
    deleted, updated = set(writes.deleted), set(writes.updated)
    pending = [(name, True) for name in deleted] + [(name, False) for name in updated]
    while pending:
        parent, parent_deleted = pending.pop()
        for actions in every_actions:
            if parent_deleted:
                children = actions.on_delete.get(parent, ())
            else:
                children = [(child, False) for child in actions.on_update.get(parent, ())]
            for child, child_deleted in children:
                into = deleted if child_deleted else updated
                if child not in into:
                    into.add(child)
                    pending.append((child, child_deleted))
    return deleted | updated


# The foreign key actions that change the referencing rows.
_CHANGING_ACTIONS = frozenset({"CASCADE", "SET NULL", "SET DEFAULT"})


@dataclass(frozen=True)
class _Actions:
    """A metadata's foreign key actions, by referenced table: on a delete there, each
    referencing table and whether its rows are deleted (CASCADE) or changed (SET NULL, SET
    DEFAULT); on an update there, each referencing table whose rows change."""

    on_delete: dict[str, list[tuple[str, bool]]]
    on_update: dict[str, list[str]]
    # What they were read from: the number of tables and of foreign keys.
    signature: tuple[int, int]


_actions: weakref.WeakKeyDictionary[MetaData, _Actions] = weakref.WeakKeyDictionary()


def _signature(metadata: MetaData) -> tuple[int, int]:
    tables = metadata.tables.values()
    return len(tables), sum(len(table.foreign_keys) for table in tables)


def _actions_of(metadata: MetaData) -> _Actions:
    signature = _signature(metadata)
    known = _actions.get(metadata)
    if known is not None and known.signature == signature:
        return known
    on_delete: dict[str, list[tuple[str, bool]]] = defaultdict(list)
    on_update: dict[str, list[str]] = defaultdict(list)
    for table in metadata.tables.values():
        for key in table.foreign_keys:
            constraint = key.constraint
            ondelete = (getattr(constraint, "ondelete", None) or key.ondelete or "").upper()
            onupdate = (getattr(constraint, "onupdate", None) or key.onupdate or "").upper()
            referenced = key.target_fullname.rsplit(".", 1)[0]  # [schema.]table.column
            if ondelete in _CHANGING_ACTIONS:
                on_delete[referenced].append((table.fullname, ondelete == "CASCADE"))
            if onupdate in _CHANGING_ACTIONS:
                on_update[referenced].append(table.fullname)
    actions = _actions[metadata] = _Actions(dict(on_delete), dict(on_update), signature)
    return actions


@dataclass(frozen=True)
class _Reload:
    """A mapper's statements reading its column attributes by primary key, built once: for
    one object (`key = :key_0 [AND ...]`), and for several (an expanding IN, whose list
    SQLAlchemy renders on each run, which costs about as much as the rest of the run)."""

    one: Select[Any]
    many: Select[Any]
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
        statement = select(*primary_key, *columns.values()).select_from(mapper.persist_selectable)
        one = statement.where(
            *(column == bindparam(f"key_{index}") for index, column in enumerate(primary_key))
        )
        reload = _reloads[mapper] = _Reload(
            one, statement.where(where), list(columns), len(primary_key)
        )
    return reload


def _reload_all(session: Session, stale: dict[Mapper[Any], list[InstanceState[Any]]]) -> None:
    """Read again the loaded column attributes of the `stale` objects."""
    for mapper, states in stale.items():
        # The statement reads table columns, no ORM entity: it runs on the session's
        # connection for the mapper (its transaction's), past the ORM's execution layers.
        connection = session.connection(bind_arguments={"mapper": mapper})
        for start in range(0, len(states), _CHUNK):
            _reload(session, connection, _reload_of(mapper), states[start : start + _CHUNK])


def _reload(
    session: Session,
    connection: Connection,
    reload: _Reload,
    states: Sequence[InstanceState[Any]],
) -> None:
    width = reload.key_width
    identities: list[Any] = [state.key[1] for state in states if state.key is not None]
    if len(identities) == 1:
        keys = {f"key_{index}": value for index, value in enumerate(identities[0])}
        result = connection.execute(reload.one, keys)
    else:
        if width == 1:
            identities = [identity[0] for identity in identities]
        result = connection.execute(reload.many, {"identities": identities})
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
