"""Naive tests, one or more per difference between SQLite and PostgreSQL (asyncpg).

Each is written as an app's test would be, without thought for the database. On PostgreSQL
each passes or fails for the reason in its docstring; the strict SQLite layer must agree.
"""

import datetime as dt

import pytest
from sqlalchemy import func, insert, literal, select, update
from sqlalchemy.exc import IntegrityError
from strict_app import Probe, Ticket

UTC = dt.UTC


# string_length ---------------------------------------------------------------------------


async def test_a_long_name_is_stored(db_session):
    """Fails: value too long for type character varying(5)."""
    db_session.add(Probe(name="abcdef"))
    await db_session.flush()


async def test_a_long_name_is_stored_by_a_core_update(db_session):
    """Fails: value too long for type character varying(5)."""
    await db_session.execute(insert(Probe).values(id=1, name="abc"))
    await db_session.execute(update(Probe).where(Probe.id == 1).values(name="abcdef"))


async def test_a_name_of_the_full_length_is_stored(db_session):
    """Passes."""
    db_session.add(Probe(name="École"))
    await db_session.flush()


# bound_types -----------------------------------------------------------------------------


async def test_an_id_from_the_query_string_finds_the_row(db_session):
    """Fails: operator does not exist: integer = character varying."""
    db_session.add(Probe(id=7))
    await db_session.flush()
    found = await db_session.scalar(select(Probe).where(Probe.id == "7"))
    assert found is not None


async def test_a_str_is_stored_in_an_integer_column(db_session):
    """Fails: asyncpg wants an integer."""
    db_session.add(Probe(count="5"))
    await db_session.flush()


async def test_an_int_is_stored_in_a_string_column(db_session):
    """Fails: asyncpg wants a str."""
    db_session.add(Probe(name=5))
    await db_session.flush()


async def test_an_aware_datetime_is_stored_in_a_naive_column(db_session):
    """Fails: asyncpg cannot subtract offset-naive and offset-aware datetimes."""
    db_session.add(Probe(local_at=dt.datetime.now(UTC)))
    await db_session.flush()


async def test_a_flag_compared_with_1_finds_the_row(db_session):
    """Fails: operator does not exist: boolean = integer."""
    db_session.add(Probe(flag=True))
    await db_session.flush()
    assert await db_session.scalar(select(func.count()).where(Probe.flag == 1)) == 1


async def test_a_price_given_as_a_string_is_stored(db_session):
    """Passes: asyncpg takes a str for a numeric."""
    db_session.add(Probe(price="1.50"))
    await db_session.flush()


# integer_range ---------------------------------------------------------------------------


async def test_a_count_of_2_to_the_31_is_stored(db_session):
    """Fails: 2**31 does not fit an INTEGER."""
    db_session.add(Probe(count=2**31))
    await db_session.flush()


async def test_a_small_of_2_to_the_15_is_stored(db_session):
    """Fails: 2**15 does not fit a SMALLINT."""
    db_session.add(Probe(small=2**15))
    await db_session.flush()


async def test_a_big_of_2_to_the_63_is_stored(db_session):
    """Fails: 2**63 does not fit a BIGINT."""
    db_session.add(Probe(big=2**63))
    await db_session.flush()


async def test_a_count_incremented_past_2_to_the_31_is_stored(db_session):
    """Fails: integer out of range."""
    await db_session.execute(insert(Probe).values(id=1, count=2**31 - 1))
    await db_session.execute(update(Probe).values(count=Probe.count + 1))


async def test_the_largest_integers_are_stored(db_session):
    """Passes."""
    db_session.add(Probe(count=2**31 - 1, small=-(2**15), big=2**63 - 1))
    await db_session.flush()


# unordered -------------------------------------------------------------------------------


async def test_rows_come_back_in_the_order_they_were_added(db_session):
    """Fails: without ORDER BY, PostgreSQL returns an updated row last."""
    db_session.add_all([Probe(id=1, name="a"), Probe(id=2, name="b"), Probe(id=3, name="c")])
    await db_session.flush()
    await db_session.execute(update(Probe).where(Probe.id == 1).values(name="a2"))
    assert (await db_session.scalars(select(Probe.name))).all() == ["a2", "b", "c"]


async def test_rows_come_back_in_the_order_asked(db_session):
    """Passes."""
    db_session.add_all([Probe(id=1, name="a"), Probe(id=2, name="b"), Probe(id=3, name="c")])
    await db_session.flush()
    await db_session.execute(update(Probe).where(Probe.id == 1).values(name="a2"))
    names = (await db_session.scalars(select(Probe.name).order_by(Probe.id))).all()
    assert names == ["a2", "b", "c"]


# aborted_transaction ---------------------------------------------------------------------


async def test_the_app_goes_on_after_a_conflict(db_session):
    """Fails: current transaction is aborted."""
    await db_session.execute(insert(Probe).values(id=1))
    try:  # noqa: SIM105 (written as the naive app writes it)
        await db_session.execute(insert(Probe).values(id=1))
    except IntegrityError:
        pass
    assert await db_session.scalar(select(func.count()).select_from(Probe)) == 1


async def test_the_app_goes_on_after_a_conflict_in_a_savepoint(db_session):
    """Passes: rolled back to the SAVEPOINT taken before the failure."""
    await db_session.execute(insert(Probe).values(id=1))
    try:
        async with db_session.begin_nested():
            await db_session.execute(insert(Probe).values(id=1))
    except IntegrityError:
        pass
    assert await db_session.scalar(select(func.count()).select_from(Probe)) == 1


async def test_a_commit_after_a_conflict_keeps_the_first_row(db_session):
    """Fails: the commit (a RELEASE SAVEPOINT in the test's transaction) is refused."""
    await db_session.execute(insert(Probe).values(id=1))
    try:  # noqa: SIM105 (written as the naive app writes it)
        await db_session.execute(insert(Probe).values(id=1))
    except IntegrityError:
        pass
    await db_session.commit()


# unicode_case ----------------------------------------------------------------------------


async def test_a_search_ignores_the_case_of_accented_letters(db_session):
    """Passes: ILIKE and lower() fold É to é."""
    db_session.add(Probe(name="École"))
    await db_session.flush()
    assert await db_session.scalar(select(Probe.name).where(Probe.name.ilike("école"))) == "École"
    assert await db_session.scalar(select(func.lower(Probe.name))) == "école"
    assert await db_session.scalar(select(func.upper(literal("straße")))) == "STRAßE"


# division_by_zero ------------------------------------------------------------------------


async def test_an_average_over_no_items_is_null(db_session):
    """Fails: division by zero."""
    db_session.add(Probe(count=10, small=0))
    await db_session.flush()
    assert await db_session.scalar(select(Probe.count / Probe.small)) is None


async def test_a_remainder_by_zero_is_null(db_session):
    """Fails: division by zero."""
    db_session.add(Probe(count=10, small=0))
    await db_session.flush()
    assert await db_session.scalar(select(Probe.count % Probe.small)) is None


# timezone --------------------------------------------------------------------------------


async def test_a_stored_time_compares_with_an_aware_now(db_session):
    """Passes: timestamp with time zone comes back aware, in UTC."""
    when = dt.datetime(2030, 1, 1, 12, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    db_session.add(Probe(seen_at=when))
    await db_session.flush()
    stored = await db_session.scalar(select(Probe.seen_at))
    assert stored > dt.datetime.now(UTC)
    assert stored == when
    assert stored.utcoffset() == dt.timedelta(0)


# sequence_ids ----------------------------------------------------------------------------


async def test_the_first_ticket_has_id_1(db_session):
    """Passes: the first id the sequence hands out."""
    ticket = Ticket(title="first")
    db_session.add(ticket)
    await db_session.flush()
    assert ticket.id == 1


async def test_the_first_ticket_of_this_test_has_id_1(db_session):
    """Fails: id 1 went to the previous test, rolled back or not."""
    ticket = Ticket(title="again")
    db_session.add(ticket)
    await db_session.flush()
    assert ticket.id == 1


async def test_an_id_rolled_back_to_a_savepoint_is_not_used_again(db_session):
    """Passes."""
    async with db_session.begin_nested() as savepoint:
        first = Ticket(title="undone")
        db_session.add(first)
        await db_session.flush()
        await savepoint.rollback()
    second = Ticket(title="kept")
    db_session.add(second)
    await db_session.flush()
    assert second.id > first.id


COMMITTED_IDS = []


@pytest.mark.fastsuite_db(transaction=True)
async def test_a_ticket_committed_for_real(db_session):
    """Passes (the database is restored after it; PostgreSQL's sequence is not)."""
    ticket = Ticket(title="for real")
    db_session.add(ticket)
    await db_session.commit()
    COMMITTED_IDS.append(ticket.id)


async def test_ids_keep_growing_after_the_database_is_restored(db_session):
    """Passes."""
    ticket = Ticket(title="after")
    db_session.add(ticket)
    await db_session.flush()
    assert ticket.id > COMMITTED_IDS[0]


# group_by --------------------------------------------------------------------------------


async def test_the_names_of_each_count_are_listed(db_session):
    """Fails: column "probes.name" must appear in the GROUP BY clause."""
    db_session.add_all([Probe(count=1, name="a"), Probe(count=1, name="b")])
    await db_session.flush()
    rows = (await db_session.execute(select(Probe.count, Probe.name).group_by(Probe.count))).all()
    assert len(rows) == 1


async def test_a_grouped_primary_key_determines_the_other_columns(db_session):
    """Passes."""
    db_session.add_all([Probe(count=1, name="a"), Probe(count=1, name="b")])
    await db_session.flush()
    rows = (await db_session.execute(select(Probe, func.count()).group_by(Probe.id))).all()
    assert len(rows) == 2


async def test_aggregates_and_grouped_columns_are_selected(db_session):
    """Passes."""
    db_session.add_all([Probe(count=1, name="a"), Probe(count=1, name="b")])
    await db_session.flush()
    query = select(Probe.count, func.max(Probe.name).label("last"), func.count()).group_by(
        Probe.count
    )
    assert (await db_session.execute(query)).all() == [(1, "b", 2)]
