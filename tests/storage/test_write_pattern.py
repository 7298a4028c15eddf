"""The one write pattern (booking/context.py) on both engines: a booking reads the coach, the
author and the calendar after it holds the coach's lock, so whatever committed before it got the
lock is honoured, and the writers of a coach's calendar wait for that lock too.

A second Database on the same URL plays another process."""

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import text

from booking import bookings, catalog, queries
from booking.errors import NotAllowed, SlotUnavailable
from booking.model import OverrideKind, SessionStatus
from storage.engine import make_engine
from storage.repositories import COACH_LOCK_NAMESPACE
from storage.unit_of_work import Database
from tests.fakes import FakeClock, FakePayments
from tests.storage.helpers import NOW, context_for, open_coach

MONDAY_10 = NOW + timedelta(hours=2)
TUESDAY_10 = MONDAY_10 + timedelta(days=1)
SATURDAY_10 = MONDAY_10 + timedelta(days=5)
WAIT = 0.5  # long enough for an unblocked write to finish; the test fails only if one did


@pytest.fixture
async def elsewhere(database_url):
    db = Database(make_engine(database_url))
    yield db
    await db.dispose()


async def holding_the_coach(database, coach_id):
    """A connection that holds what every writer of the coach waits for (PostgreSQL: the coach's
    advisory lock; SQLite: the write lock, BEGIN IMMEDIATE)."""
    holder = await database.engine.connect()
    await holder.begin()
    if database.dialect == "postgresql":
        await holder.execute(
            text("SELECT pg_advisory_xact_lock(:ns, :coach)"), {"ns": COACH_LOCK_NAMESPACE, "coach": coach_id}
        )
    return holder


@pytest.mark.parametrize("change", ["deactivate the coach", "remove Tuesday"])
async def test_a_change_committed_while_the_booking_waits_is_honoured(database, change):
    ctx = context_for(database)
    coach = await open_coach(ctx)
    author = await catalog.add_author(ctx, name="Ann", timezone="UTC")
    await bookings.book(ctx, coach.id, author.id, MONDAY_10)
    sql = {
        "deactivate the coach": "UPDATE coaches SET is_active = false WHERE id = :coach",
        "remove Tuesday": "DELETE FROM availability_rules WHERE coach_id = :coach AND weekday = 1",
    }[change]

    holder = await holding_the_coach(database, coach.id)
    try:
        await holder.execute(text(sql), {"coach": coach.id})
        booking = asyncio.create_task(bookings.book(ctx, coach.id, author.id, TUESDAY_10))
        await asyncio.sleep(WAIT)
        assert not booking.done()
        await holder.commit()
    finally:
        await holder.close()

    with pytest.raises((NotAllowed, SlotUnavailable)):
        await booking
    assert [s.starts_at for s in await queries.sessions(ctx, coach_id=coach.id)] == [MONDAY_10]


@pytest.mark.parametrize("write", ["add a rule", "remove a rule", "add time off", "update the coach"])
async def test_writers_of_a_coachs_calendar_wait_for_the_coachs_lock(database, write):
    ctx = context_for(database)
    coach = await open_coach(ctx)
    [monday] = [r for r in await catalog.rules(ctx, coach.id) if r.weekday == 0]
    work = {
        "add a rule": lambda: catalog.add_rule(ctx, coach.id, weekday="sat", start="09:00", end="12:00"),
        "remove a rule": lambda: catalog.remove_rule(ctx, coach.id, monday.id),
        "add time off": lambda: catalog.add_override(
            ctx, coach.id, kind=OverrideKind.BLOCK, start=MONDAY_10, end=MONDAY_10 + timedelta(hours=1)
        ),
        "update the coach": lambda: catalog.update_coach(ctx, coach.id, is_active=False),
    }[write]

    holder = await holding_the_coach(database, coach.id)
    try:
        task = asyncio.create_task(work())
        await asyncio.sleep(WAIT)
        assert not task.done()
        await holder.rollback()
    finally:
        await holder.close()
    await task


async def test_rules_removed_elsewhere_are_honoured(database, elsewhere):
    ctx = context_for(database)
    coach = await open_coach(ctx)
    author = await catalog.add_author(ctx, name="Ann", timezone="UTC")
    await bookings.book(ctx, coach.id, author.id, MONDAY_10)
    other = context_for(elsewhere)
    for rule in await catalog.rules(other, coach.id):
        if rule.weekday == 1:
            await catalog.remove_rule(other, coach.id, rule.id)

    with pytest.raises(SlotUnavailable, match="not available"):
        await bookings.book(ctx, coach.id, author.id, TUESDAY_10)
    assert [s.starts_at for s in await queries.sessions(ctx, coach_id=coach.id)] == [MONDAY_10]


async def test_hours_added_elsewhere_are_bookable(database, elsewhere):
    ctx = context_for(database)
    coach = await open_coach(ctx)
    author = await catalog.add_author(ctx, name="Ann", timezone="UTC")
    await catalog.add_override(
        context_for(elsewhere),
        coach.id,
        kind=OverrideKind.EXTRA,
        start=SATURDAY_10,
        end=SATURDAY_10 + timedelta(hours=2),
    )

    booked = await bookings.book(ctx, coach.id, author.id, SATURDAY_10)
    again = await bookings.book(ctx, coach.id, author.id, SATURDAY_10 + timedelta(hours=1))
    assert (booked.starts_at, again.starts_at) == (SATURDAY_10, SATURDAY_10 + timedelta(hours=1))


async def test_a_coach_deactivated_elsewhere_takes_no_booking(database, elsewhere):
    ctx = context_for(database)
    coach = await open_coach(ctx)
    author = await catalog.add_author(ctx, name="Ann", timezone="UTC")
    await bookings.book(ctx, coach.id, author.id, MONDAY_10)
    await catalog.update_coach(context_for(elsewhere), coach.id, is_active=False)

    with pytest.raises(NotAllowed, match="not taking bookings"):
        await bookings.book(ctx, coach.id, author.id, TUESDAY_10)


async def test_reminders_follow_the_authors_settings_changed_elsewhere(database, elsewhere):
    ctx = context_for(database)
    coach = await open_coach(ctx)
    author = await catalog.add_author(ctx, name="Ann", timezone="UTC")
    await catalog.update_author(context_for(elsewhere), author.id, reminder_minutes=[30])

    booked = await bookings.book(ctx, coach.id, author.id, TUESDAY_10)
    async with database.engine.connect() as conn:
        due = (
            (
                await conn.execute(
                    text(
                        "SELECT due_at FROM outbox WHERE session_id = :id AND kind = 'reminder' AND recipient = 'author'"
                    ),
                    {"id": booked.id},
                )
            )
            .scalars()
            .all()
        )
    assert len(due) == 1  # the default would be two (24 h and 1 h before)


async def test_an_expired_hold_in_the_way_gives_way(database):
    clock = FakeClock(NOW)
    ctx = context_for(database, clock=clock, payments=FakePayments(enabled=True))
    coach = await open_coach(ctx)
    first = await catalog.add_author(ctx, name="Ann", timezone="UTC")
    second = await catalog.add_author(ctx, name="Bea", timezone="UTC")
    held = await bookings.book(ctx, coach.id, first.id, TUESDAY_10)
    assert held.status is SessionStatus.HELD

    clock.advance(minutes=ctx.settings.hold_minutes + 1)
    booked = await bookings.book(ctx, coach.id, second.id, TUESDAY_10)

    assert booked.author_id == second.id
    assert (await queries.session(ctx, held.id)).status is SessionStatus.CANCELLED
