"""All-or-nothing bulk operations on one owner's contexts.

Each runs a fixed number of SQL statements whatever the batch size: the checks happen in
Python on rows fetched with one SELECT (or, for a create, on the rows its INSERT returns), and
the writes are one multi-row statement.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from functools import cache
from typing import Any, cast

from sqlalchemy import ColumnElement, Table, bindparam, delete, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Context, User
from app.models.base import utcnow
from app.schemas.bulk import ContextBulkUpdateItem
from app.schemas.context import ContextCreate
from app.services.common import storable_id
from app.services.errors import Conflict, InvalidItems, NotFound, describe_items

UPDATABLE_FIELDS = ("name", "description", "data", "is_active")
_TABLE = cast("Table", Context.__table__)
_RACE = "The batch conflicts with a concurrent change; nothing was written"

# Built once (see app.services.common.paged): what a batch that repeats a name runs, to tell
# which of its names are taken as well.
_TAKEN_NAMES = select(Context.name).where(
    Context.owner_id == bindparam("owner_id"), Context.name.in_(bindparam("names", expanding=True))
)
# INSERT ... ON CONFLICT is each database's own syntax: PostgreSQL's and SQLite's (3.35+).
_INSERTS: dict[str, Callable[..., Any]] = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


@cache
def _insert_untaken(database: str) -> Any:
    """INSERT ... ON CONFLICT (owner_id, name) DO NOTHING RETURNING the rows: those whose name
    the owner has not taken. Built once per kind of database."""
    return (
        _INSERTS[database](Context)
        .on_conflict_do_nothing(index_elements=[Context.owner_id, Context.name])
        .returning(Context)
    )


def _repeated(values: Iterable[tuple[int, str]]) -> list[int]:
    """Indexes whose value also appears at another index."""
    seen: defaultdict[str, list[int]] = defaultdict(list)
    for index, value in values:
        seen[value].append(index)
    return sorted(index for indexes in seen.values() if len(indexes) > 1 for index in indexes)


def _duplicate_names(*, repeated: list[int], existing: list[int]) -> Conflict:
    parts = []
    if repeated:
        parts.append(f"{describe_items(repeated)} repeat a name within the batch")
    if existing:
        verb = "uses" if len(existing) == 1 else "use"
        parts.append(f"{describe_items(existing)} {verb} a name one of your contexts already has")
    indexes = sorted(set(repeated) | set(existing))
    return Conflict(
        "Context names must be unique per owner: " + "; ".join(parts) + "; nothing was written",
        indexes=indexes,
    )


async def bulk_create_contexts(
    *, session: AsyncSession, owner: User, items: Sequence[ContextCreate]
) -> list[Context]:
    """Create every item or none: 1 multi-row INSERT ... ON CONFLICT DO NOTHING RETURNING.

    A name the owner has taken (already, or in a concurrent request) is skipped by the INSERT,
    so its row is missing from what it returns: the rows it did insert are deleted again (1
    DELETE) and the Conflict names the items whose names were taken.
    """
    names = [item.name for item in items]
    repeated = _repeated(enumerate(names))
    if repeated:
        taken = set(await session.scalars(_TAKEN_NAMES, {"owner_id": owner.id, "names": names}))
        existing = [index for index, name in enumerate(names) if name in taken]
        raise _duplicate_names(repeated=repeated, existing=existing)

    now = utcnow()
    rows = [
        {"owner_id": owner.id, "created_at": now, "updated_at": now, **item.model_dump()}
        for item in items
    ]
    statement = _insert_untaken(session.get_bind().dialect.name)
    try:
        # RETURNING order is not guaranteed, and asking SQLAlchemy to guarantee it makes SQLite
        # insert row by row; the names are unique in the batch, so they put rows in order.
        by_name = {row.name: row for row in (await session.scalars(statement, rows)).all()}
    except IntegrityError:  # another constraint: the owner deleted meanwhile, say
        raise Conflict(_RACE) from None
    existing = [index for index, name in enumerate(names) if name not in by_name]
    if existing:
        await _delete_created(session, list(by_name.values()))
        raise _duplicate_names(repeated=[], existing=existing)
    return [by_name[name] for name in names]


async def _delete_created(session: AsyncSession, created: list[Context]) -> None:
    """Undo the part of a batch that was inserted (services never roll back: the caller owns
    the transaction)."""
    await session.execute(
        delete(Context)
        .where(Context.id.in_([context.id for context in created]))
        .execution_options(synchronize_session=False)
    )
    for context in created:
        session.expunge(context)


def _check_unique_ids(ids: Sequence[int], *, field: str) -> None:
    seen: dict[int, int] = {}
    errors: list[dict[str, object]] = []
    for index, id_ in enumerate(ids):
        if id_ in seen:
            errors.append(
                {
                    "type": "duplicate_id",
                    "loc": ("body", field, index, "id")
                    if field == "items"
                    else ("body", field, index),
                    "msg": f"Id {id_} already appears at index {seen[id_]}",
                    "input": id_,
                }
            )
        else:
            seen[id_] = index
    if errors:
        raise InvalidItems("Each id may appear only once in a batch", errors=errors)


def _missing(ids: Sequence[int], found: set[int]) -> NotFound | None:
    missing_indexes = [index for index, id_ in enumerate(ids) if id_ not in found]
    if not missing_indexes:
        return None
    return NotFound.for_items("Contexts", ids, missing_indexes, "nothing was written")


async def bulk_update_contexts(
    *, session: AsyncSession, owner: User, items: Sequence[ContextBulkUpdateItem]
) -> list[Context]:
    """Apply every partial update or none.

    1 SELECT (the rows, and any other row holding a requested name), at most 2 executemany
    UPDATEs (the second only when names are swapped inside the batch), 1 SELECT of the result.
    """
    ids = [item.id for item in items]
    _check_unique_ids(ids, field="items")
    changes = [item.model_dump(exclude_unset=True, exclude={"id"}) for item in items]
    requested_names = {change["name"] for change in changes if "name" in change}

    wanted = [id_ for id_ in ids if storable_id(id_)]
    condition: ColumnElement[bool] = Context.id.in_(wanted)
    if requested_names:
        condition = or_(condition, Context.name.in_(requested_names))
    rows = {
        row.id: row
        for row in await session.scalars(
            select(Context).where(Context.owner_id == owner.id, condition)
        )
    }
    in_batch = set(ids)
    if error := _missing(ids, set(rows) & in_batch):
        raise error

    current = {id_: rows[id_].name for id_ in ids}
    final = [change.get("name", current[id_]) for id_, change in zip(ids, changes, strict=True)]
    others = {row.name for row in rows.values() if row.id not in in_batch}
    repeated = _repeated(enumerate(final))
    existing = [index for index, name in enumerate(final) if name in others]
    if repeated or existing:
        raise _duplicate_names(repeated=repeated, existing=existing)

    now = utcnow()
    params: list[dict[str, Any]] = []
    renamed: list[int] = []
    for id_, change, name in zip(ids, changes, final, strict=True):
        row = rows[id_]
        values = {field: change.get(field, getattr(row, field)) for field in UPDATABLE_FIELDS}
        if all(values[field] == getattr(row, field) for field in UPDATABLE_FIELDS):
            continue
        params.append({"b_id": id_, **values, "updated_at": now})
        if name != row.name:
            renamed.append(id_)

    try:
        if params:
            by_id = _TABLE.c.id == bindparam("b_id")
            # A row taking the old name of another row in the batch (a swap) would collide
            # with it mid-statement: move renamed rows out of the way first.
            old_names = {current[id_] for id_ in renamed}
            if any(
                name in old_names and name != current[id_]
                for id_, name in zip(ids, final, strict=True)
            ):
                token = uuid.uuid4().hex
                await session.execute(
                    update(_TABLE).where(by_id),
                    [{"b_id": id_, "name": f"~renaming~{token}~{id_}"} for id_ in renamed],
                )
            await session.execute(update(_TABLE).where(by_id), params)
        result = await session.scalars(
            select(Context).where(Context.id.in_(ids)).execution_options(populate_existing=True)
        )
        updated = {row.id: row for row in result}
    except IntegrityError:
        raise Conflict(_RACE) from None
    return [updated[id_] for id_ in ids]


async def bulk_delete_contexts(*, session: AsyncSession, owner: User, ids: Sequence[int]) -> int:
    """Delete every listed context or none: 1 SELECT, 1 DELETE. Repeated ids count once."""
    wanted = list({id_ for id_ in ids if storable_id(id_)})
    found = set(
        await session.scalars(
            select(Context.id).where(Context.owner_id == owner.id, Context.id.in_(wanted))
        )
    )
    if error := _missing(ids, found):
        raise error
    await session.execute(
        delete(Context)
        .where(Context.owner_id == owner.id, Context.id.in_(found))
        .execution_options(synchronize_session=False)
    )
    return len(found)
