"""Group sessions on every engine: seats are never sold past the count under races, and the
database itself (migration 0018) refuses an extra seat, a taken seat number, and a 1:1 session or
another group slot on a group slot's time, whatever the code above it does."""

import asyncio
from dataclasses import replace
from datetime import timedelta

import pytest

from booking import bookings, catalog, groups
from booking.errors import GroupFull, SlotConflict, SlotUnavailable
from booking.group_model import GroupSlot
from booking.model import ACTIVE_STATUSES, SessionStatus
from tests.storage.helpers import NOW, context_for, open_coach
from tests.storage.test_overlap_guard import insert, raw_session

RACERS = 50
SAT_10 = NOW.replace(hour=10) + timedelta(days=5)
TUE_10 = NOW.replace(hour=10) + timedelta(days=1)


async def seats_of(ctx, group_id):
    async with ctx.uow() as uow:
        return [s for s in await uow.groups.seats(group_id) if s.status in ACTIVE_STATUSES]


async def test_fifty_racers_for_the_last_seat_one_wins(database):
    ctx = context_for(database)
    coach = await open_coach(ctx)
    slot = await groups.add_group(ctx, coach.id, start=SAT_10, duration=90, seats=3, price=2500)
    early = [await catalog.add_author(ctx, name=f"E{i}", timezone="UTC") for i in range(2)]
    for author in early:
        await groups.take_seat(ctx, slot.id, author.id)
    racers = [await catalog.add_author(ctx, name=f"R{i}", timezone="UTC") for i in range(RACERS)]

    results = await asyncio.gather(*(groups.book(ctx, coach.id, a.id, SAT_10) for a in racers), return_exceptions=True)

    won = [r for r in results if not isinstance(r, BaseException)]
    lost = [r for r in results if isinstance(r, BaseException)]
    assert len(won) == 1
    assert all(isinstance(e, GroupFull) for e in lost), {type(e) for e in lost}
    taken = await seats_of(ctx, slot.id)
    assert sorted(s.seat for s in taken) == [1, 2, 3]
    assert won[0].id in {s.id for s in taken}


async def test_racing_group_slots_and_one_to_one_bookings_for_one_time_one_wins(database):
    ctx = context_for(database)
    coach = await open_coach(ctx)
    authors = [await catalog.add_author(ctx, name=f"A{i}", timezone="UTC") for i in range(10)]

    results = await asyncio.gather(
        *(groups.add_group(ctx, coach.id, start=TUE_10, duration=60, seats=4, price=0) for _ in range(10)),
        *(bookings.book(ctx, coach.id, a.id, TUE_10) for a in authors),
        return_exceptions=True,
    )

    won = [r for r in results if not isinstance(r, BaseException)]
    assert len(won) == 1, won
    assert all(isinstance(r, SlotUnavailable) for r in results if isinstance(r, BaseException))


# ---- the database guard alone ------------------------------------------------------------------


@pytest.fixture
async def group(database):
    ctx = context_for(database)
    coach = await open_coach(ctx)
    author = await catalog.add_author(ctx, name="A", timezone="UTC")
    slot = await groups.add_group(ctx, coach.id, start=SAT_10, duration=60, seats=2, price=100)
    return coach.id, author.id, slot


def raw_seat(coach, author, slot: GroupSlot, number, status=SessionStatus.SCHEDULED):
    return replace(raw_session(coach, author, slot.starts_at, status=status), group_slot_id=slot.id, seat=number)


async def test_the_database_refuses_a_seat_past_the_count_and_a_taken_number(database, group):
    coach, author, slot = group
    await insert(database, raw_seat(coach, author, slot, 1))
    await insert(database, raw_seat(coach, author, slot, 2))  # seats overlap each other by design
    for number in (3, 0, 2):
        with pytest.raises(SlotConflict):
            await insert(database, raw_seat(coach, author, slot, number))
    await insert(database, raw_seat(coach, author, slot, 2, status=SessionStatus.CANCELLED))


async def test_the_database_keeps_one_to_one_sessions_and_other_slots_off_a_group_slot(database, group):
    coach, author, slot = group
    with pytest.raises(SlotConflict):
        await insert(database, raw_session(coach, author, slot.starts_at + timedelta(minutes=30)))
    other = replace(slot, id=None, starts_at=slot.starts_at + timedelta(minutes=30))
    other.ends_at = other.blocked_until = other.starts_at + timedelta(minutes=60)
    other.blocked_from = other.starts_at
    with pytest.raises(SlotConflict):
        async with database.uow() as uow:
            await uow.groups.add(other)
            await uow.commit()
    await insert(database, raw_session(coach, author, slot.ends_at))  # touching is fine


async def test_the_database_keeps_a_group_slot_off_a_one_to_one_session(database):
    ctx = context_for(database)
    coach = await open_coach(ctx)
    author = await catalog.add_author(ctx, name="A", timezone="UTC")
    await insert(database, raw_session(coach.id, author.id, TUE_10))
    slot = GroupSlot(
        coach_id=coach.id,
        starts_at=TUE_10 - timedelta(minutes=30),
        ends_at=TUE_10 + timedelta(minutes=30),
        blocked_from=TUE_10 - timedelta(minutes=30),
        blocked_until=TUE_10 + timedelta(minutes=30),
        duration_minutes=60,
        seats=2,
        price_amount=0,
        currency="usd",
    )
    with pytest.raises(SlotConflict):
        async with database.uow() as uow:
            await uow.groups.add(slot)
            await uow.commit()


async def test_a_cancelled_group_frees_its_time_and_takes_no_more_seats(database, group):
    coach, author, slot = group
    ctx = context_for(database)
    seat = await groups.take_seat(ctx, slot.id, author)
    await groups.cancel_group(ctx, slot.id)
    async with ctx.uow() as uow:
        assert (await uow.sessions.get(seat.id)).status is SessionStatus.CANCELLED
    with pytest.raises(SlotConflict):
        await insert(database, raw_seat(coach, author, slot, 2))
    await insert(database, raw_session(coach, author, slot.starts_at))
