"""Property: a bulk operation writes every item or none, and the API says which.

How this runs. `@given` sits on an async test: pytest-asyncio recognises Hypothesis tests and
runs each example's body on the session's event loop (its AsyncHypothesisTest item), so the
harness's fixtures, built once for the test, serve every example.

How the examples are isolated. Not by a SAVEPOINT per example: the app commits, and the harness,
like a real database, keeps what a request committed even if the test later rolls back a
SAVEPOINT of its own in which it wrote nothing itself. Instead every example gets a fresh owner,
so its starting state is the same on every run (which shrinking needs), and the check compares
the whole `context` table before and after the request in the same test: unchanged when the
batch is refused, grown by exactly the batch when accepted. The test's transaction rolls all of
it back at the end.
"""

from __future__ import annotations

import itertools
import json
import unicodedata

import pytest
from app.models import Context
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from tests.conftest import bearer
from tests.factories import ContextFactory, UserFactory

# Seconds of examples: the slow tier, which CI runs on both databases (-m slow).
pytestmark = pytest.mark.slow

PROPERTY_SETTINGS = settings(
    max_examples=30,
    deadline=None,
    database=None,  # nothing written under the repository
    # The fixtures (client, db_session) are shared by the examples on purpose, see above.
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)

BLANK_LETTERS = "\u115f\u1160\u3164\uffa0\u2800"

EXISTING = ["alpha", "Caf\u00e9", "outside"]  # every example's owner starts with these

# one_of picks its branches about evenly: most names are valid, so that whole batches are too.
fresh_names = st.text(alphabet="abcé", min_size=1, max_size=3)  # short: batches repeat some
names = st.one_of(
    fresh_names,
    fresh_names.map(lambda name: f"  {name}\t"),  # trimmed to a fresh name
    # Existing names, and spellings that trim or NFC-normalise to them.
    st.sampled_from(["alpha", "  alpha\t", "Cafe\u0301", " Caf\u00e9 "]),
    # Blank, or over-long around the 100-character limit.
    st.sampled_from(["", "   ", "\t\n", "n" * 101, "  " + "n" * 100 + "  "]),
    st.text(alphabet="ab ", min_size=98, max_size=103),
    # Nothing visible: zero-width characters, a Hangul filler, a combining mark alone.
    st.sampled_from(["\u200b", " \u200d\u2060 ", "\u3164", "\u0301"]),
    # Any Unicode, lone surrogates and NUL included.
    st.text(max_size=6),
)
json_objects = st.dictionaries(st.text(max_size=3), st.integers(), max_size=2)
data_values = st.one_of(json_objects, json_objects, st.lists(st.integers(), max_size=2))
create_items = st.fixed_dictionaries({"name": names}, optional={"data": data_values})
valid_names = st.one_of(fresh_names, st.sampled_from(["alpha", "  alpha\t", "Cafe\u0301"]))
valid_create_items = st.fixed_dictionaries({"name": valid_names}, optional={"data": json_objects})
# Half the batches have only valid items, so that duplicates and successes are common too.
create_batches = st.one_of(
    st.lists(valid_create_items, min_size=1, max_size=6), st.lists(create_items, max_size=6)
)

_owner_numbers = itertools.count()


def _stored_name(name: str) -> str | None:
    """The name the API stores for `name`, or None when it refuses it (the contract's rules)."""
    try:
        name.encode()
    except UnicodeEncodeError:
        return None
    stored = unicodedata.normalize("NFC", name.strip())
    if not 1 <= len(stored) <= 100 or "\x00" in stored:
        return None
    # At least one visible character: not a control, format, separator or combining mark
    # (categories C*, Z*, M*), nor a letter that renders blank.
    if not any(unicodedata.category(c)[0] not in "CZM" and c not in BLANK_LETTERS for c in stored):
        return None
    return stored


def _storable_data(data: object) -> bool:
    """A JSON object whose keys the API accepts: no NUL, no lone surrogate (both are 422)."""
    if not isinstance(data, dict):
        return False
    return all(_stored_name(f"k{key}") is not None for key in data)


def _expected_status(items: list[dict], existing: list[str]) -> int:
    if not items or len(items) > 1000:
        return 422
    stored = [_stored_name(item["name"]) for item in items]
    if None in stored or not all(_storable_data(item.get("data", {})) for item in items):
        return 422
    if len(set(stored)) < len(stored) or set(stored) & set(existing):
        return 409
    return 201


async def _table(db_session) -> list[tuple]:
    rows = await db_session.scalars(
        select(Context).order_by(Context.id).execution_options(populate_existing=True)
    )
    return [(row.id, row.owner_id, row.name, row.data, row.description) for row in rows]


async def _fresh_owner():
    owner = await UserFactory.acreate(username=f"prop-owner-{next(_owner_numbers)}")
    for name in EXISTING:
        await ContextFactory.acreate(owner=owner, name=name)
    return owner


def _post_json(client, method: str, path: str, body: dict, owner):
    # Sent as ASCII JSON so that lone surrogates travel as \ud800 escapes, as any client may.
    return client.request(
        method,
        path,
        content=json.dumps(body),
        headers={**bearer(owner), "Content-Type": "application/json"},
    )


@PROPERTY_SETTINGS
@given(items=create_batches)
async def test_bulk_create_writes_every_item_or_none(client, db_session, items):
    owner = await _fresh_owner()
    before = await _table(db_session)

    response = await _post_json(client, "POST", "/api/contexts/bulk", {"items": items}, owner)

    after = await _table(db_session)
    event(f"status {response.status_code}")  # shown by --hypothesis-show-statistics
    assert response.status_code == _expected_status(items, EXISTING), response.text
    if response.status_code != 201:
        assert after == before
        assert "detail" in response.json()
        return
    created = response.json()["items"]
    assert [item["name"] for item in created] == [_stored_name(i["name"]) for i in items]
    new_rows = after[len(before) :]
    assert after[: len(before)] == before
    assert sorted(row[0] for row in new_rows) == sorted(item["id"] for item in created)
    assert {row[1] for row in new_rows} == {owner.id}
    assert sorted(row[2] for row in new_rows) == sorted(item["name"] for item in created)


update_names = st.one_of(st.sampled_from(["alpha", " Cafe\u0301", "outside"]), fresh_names)
update_targets = st.one_of(
    st.lists(st.sampled_from([0, 1]), min_size=1, max_size=2, unique=True),
    st.lists(st.sampled_from([0, 1, 2, 3]), max_size=4),
)


@st.composite
def update_batches(draw):
    """Updates aimed at two of the owner's contexts (targets 0 and 1; the third, "outside",
    is never targeted), someone else's (2), a missing id (3), or an id twice; each may rename
    and/or describe. Half the batches have only valid fields."""
    any_value = draw(st.booleans())
    items = []
    for target in draw(update_targets):
        item = {"target": target}
        if draw(st.booleans()):
            item["name"] = draw(names if any_value else update_names)
        if draw(st.booleans()):
            descriptions = ["changed", "again"] + (["d" * 10_001] if any_value else [])
            item["description"] = draw(st.sampled_from(descriptions))
        items.append(item)
    return items


def _expected_update_status(items: list[dict], names_by_target: dict) -> int:
    if not items:
        return 422
    for item in items:
        if "name" in item and _stored_name(item["name"]) is None:
            return 422
        if len(item.get("description", "")) > 10_000:
            return 422
    targets = [item["target"] for item in items]
    if len(set(targets)) < len(targets):
        return 422  # an id twice in one batch
    if {2, 3} & set(targets):
        return 404
    final = dict(names_by_target)
    for item in items:
        if "name" in item:
            final[item["target"]] = _stored_name(item["name"])
    if len(set(final.values())) < len(final):
        return 409
    return 200


@PROPERTY_SETTINGS
@given(items=update_batches())
async def test_bulk_update_writes_every_item_or_none(client, db_session, items):
    owner = await _fresh_owner()
    mine = list(
        await db_session.scalars(
            select(Context).where(Context.owner_id == owner.id).order_by(Context.id)
        )
    )
    theirs = await ContextFactory.acreate(owner=await UserFactory.acreate())
    ids = [mine[0].id, mine[1].id, theirs.id, theirs.id + 1_000_000]
    body = {
        "items": [
            {"id": ids[item["target"]], **{k: v for k, v in item.items() if k != "target"}}
            for item in items
        ]
    }
    before = await _table(db_session)

    response = await _post_json(client, "PATCH", "/api/contexts/bulk", body, owner)

    after = await _table(db_session)
    event(f"status {response.status_code}")  # shown by --hypothesis-show-statistics
    expected = _expected_update_status(
        items, {0: EXISTING[0], 1: EXISTING[1], "outside": EXISTING[2]}
    )
    assert response.status_code == expected, response.text
    if response.status_code != 200:
        assert after == before
        return
    by_id = {row[0]: row for row in after}
    for item in items:
        row = by_id[ids[item["target"]]]
        if "name" in item:
            assert row[2] == _stored_name(item["name"])
        if "description" in item:
            assert row[4] == item["description"]
    untouched = {row[0] for row in before} - {ids[item["target"]] for item in items}
    assert [row for row in after if row[0] in untouched] == [
        row for row in before if row[0] in untouched
    ]


@PROPERTY_SETTINGS
@given(targets=update_targets)
async def test_bulk_delete_deletes_every_item_or_none(client, db_session, targets):
    owner = await _fresh_owner()
    mine = list(
        await db_session.scalars(
            select(Context.id).where(Context.owner_id == owner.id).order_by(Context.id)
        )
    )
    theirs = await ContextFactory.acreate(owner=await UserFactory.acreate())
    ids = [mine[0], mine[1], theirs.id, theirs.id + 1_000_000]
    before = await _table(db_session)

    response = await _post_json(
        client, "POST", "/api/contexts/bulk-delete", {"ids": [ids[t] for t in targets]}, owner
    )

    after = await _table(db_session)
    event(f"status {response.status_code}")  # shown by --hypothesis-show-statistics
    if not targets:
        assert response.status_code == 422
    elif {2, 3} & set(targets):
        assert response.status_code == 404
        assert response.json()["ids"] == [ids[t] for t in dict.fromkeys(targets) if t >= 2]
    else:
        assert response.status_code == 200
        deleted = {ids[t] for t in targets}
        assert response.json() == {"deleted": len(deleted)}
        assert after == [row for row in before if row[0] not in deleted]
        return
    assert after == before
