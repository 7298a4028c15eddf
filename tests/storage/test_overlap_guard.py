"""The database itself refuses overlapping active sessions, whatever the code above it does."""

from datetime import timedelta

import pytest

from booking import catalog
from booking.errors import SlotConflict
from booking.model import Session, SessionStatus
from tests.storage.helpers import NOW, context_for, open_coach


def raw_session(coach_id, author_id, start, minutes=60, status=SessionStatus.SCHEDULED, before=0, after=0):
    end = start + timedelta(minutes=minutes)
    return Session(
        coach_id=coach_id,
        author_id=author_id,
        starts_at=start,
        ends_at=end,
        blocked_from=start - timedelta(minutes=before),
        blocked_until=end + timedelta(minutes=after),
        duration_minutes=minutes,
        status=status,
        price_amount=100,
        currency="usd",
    )


@pytest.fixture
async def people(database):
    ctx = context_for(database)
    coach = await open_coach(ctx)
    other = await open_coach(ctx)
    author = await catalog.add_author(ctx, name="A", timezone="UTC")
    return coach.id, other.id, author.id


async def insert(database, session):
    async with database.uow() as uow:
        await uow.sessions.add(session)
        await uow.commit()


async def test_overlapping_insert_is_refused(database, people):
    coach, _, author = people
    start = NOW + timedelta(days=1)
    await insert(database, raw_session(coach, author, start))
    with pytest.raises(SlotConflict):
        await insert(database, raw_session(coach, author, start + timedelta(minutes=30)))


async def test_buffers_are_part_of_the_guarded_span(database, people):
    coach, _, author = people
    start = NOW + timedelta(days=1)
    await insert(database, raw_session(coach, author, start, after=15))
    with pytest.raises(SlotConflict):
        await insert(database, raw_session(coach, author, start + timedelta(minutes=70)))
    await insert(database, raw_session(coach, author, start + timedelta(minutes=75)))


async def test_touching_sessions_and_other_coaches_are_fine(database, people):
    coach, other, author = people
    start = NOW + timedelta(days=1)
    await insert(database, raw_session(coach, author, start))
    await insert(database, raw_session(coach, author, start + timedelta(minutes=60)))
    await insert(database, raw_session(other, author, start))


async def test_cancelled_sessions_do_not_block(database, people):
    coach, _, author = people
    start = NOW + timedelta(days=1)
    await insert(database, raw_session(coach, author, start, status=SessionStatus.CANCELLED))
    await insert(database, raw_session(coach, author, start))


async def test_moving_onto_another_session_is_refused(database, people):
    coach, _, author = people
    start = NOW + timedelta(days=1)
    await insert(database, raw_session(coach, author, start))
    moving = raw_session(coach, author, start + timedelta(hours=3))
    await insert(database, moving)
    with pytest.raises(SlotConflict):
        async with database.uow() as uow:
            row = await uow.sessions.get(moving.id)
            row.starts_at, row.ends_at = start, start + timedelta(hours=1)
            row.blocked_from, row.blocked_until = row.starts_at, row.ends_at
            await uow.sessions.save(row)
            await uow.commit()


async def test_reactivating_into_a_taken_slot_is_refused(database, people):
    coach, _, author = people
    start = NOW + timedelta(days=1)
    cancelled = raw_session(coach, author, start, status=SessionStatus.CANCELLED)
    await insert(database, cancelled)
    await insert(database, raw_session(coach, author, start))
    with pytest.raises(SlotConflict):
        async with database.uow() as uow:
            row = await uow.sessions.get(cancelled.id)
            row.status = SessionStatus.SCHEDULED
            await uow.sessions.save(row)
            await uow.commit()
