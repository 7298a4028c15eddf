"""Races for one slot end with exactly one session, on every engine."""

import asyncio
from datetime import timedelta

from booking import bookings, catalog, queries, rescheduling
from booking.errors import SlotConflict, SlotTaken
from booking.model import ACTIVE_STATUSES, Actor
from tests.storage.helpers import NOW, context_for, open_coach
from tests.storage.test_overlap_guard import raw_session

RACERS = 50


def slot_at(hours_from_monday_9: int):
    return NOW.replace(hour=9) + timedelta(days=1, hours=hours_from_monday_9)  # Tuesday 09:00 UTC onwards


async def active_sessions(ctx, coach_id):
    return [s for s in await queries.sessions(ctx, coach_id=coach_id) if s.status in ACTIVE_STATUSES]


async def test_fifty_bookings_of_one_slot_give_one_session(database):
    ctx = context_for(database)
    coach = await open_coach(ctx)
    authors = [await catalog.add_author(ctx, name=f"A{i}", timezone="UTC") for i in range(RACERS)]
    start = slot_at(0)

    results = await asyncio.gather(
        *(bookings.book(ctx, coach.id, a.id, start) for a in authors), return_exceptions=True
    )

    booked = [r for r in results if not isinstance(r, BaseException)]
    lost = [r for r in results if isinstance(r, BaseException)]
    assert len(booked) == 1
    assert all(isinstance(e, SlotTaken) for e in lost), {type(e) for e in lost}
    assert all(e.message == "that slot was just taken" for e in lost)
    assert all(e.alternatives and start not in [a for a, _ in e.alternatives] for e in lost)
    assert [s.starts_at for s in await active_sessions(ctx, coach.id)] == [start]


async def test_the_database_alone_stops_fifty_raw_inserts(database):
    ctx = context_for(database)
    coach = await open_coach(ctx)
    author = await catalog.add_author(ctx, name="A", timezone="UTC")
    start = slot_at(0)

    async def insert(offset_minutes):
        async with database.uow() as uow:
            await uow.lock_coach(coach.id)
            await uow.sessions.add(raw_session(coach.id, author.id, start + timedelta(minutes=offset_minutes)))
            await uow.commit()

    results = await asyncio.gather(*(insert(i % 30) for i in range(RACERS)), return_exceptions=True)
    assert sum(r is None for r in results) == 1
    assert all(isinstance(r, SlotConflict) for r in results if r is not None)
    assert len(await active_sessions(ctx, coach.id)) == 1


async def test_bookings_and_reschedules_racing_for_one_slot(database):
    ctx = context_for(database)
    coach = await open_coach(ctx)
    authors = [await catalog.add_author(ctx, name=f"A{i}", timezone="UTC") for i in range(RACERS)]
    # Ten sessions booked elsewhere, each of which will try to move onto the contested slot.
    movers = [await bookings.book(ctx, coach.id, authors[i].id, slot_at(24 * (1 + i // 8) + i % 8)) for i in range(10)]
    target = slot_at(3)

    jobs = [bookings.book(ctx, coach.id, a.id, target) for a in authors[10:]]
    jobs += [rescheduling.reschedule(ctx, s.id, target, by=Actor.COACH) for s in movers]
    results = await asyncio.gather(*jobs, return_exceptions=True)

    winners = [r for r in results if not isinstance(r, BaseException)]
    assert len(winners) == 1
    assert all(isinstance(r, SlotTaken) for r in results if isinstance(r, BaseException))
    active = await active_sessions(ctx, coach.id)
    assert sum(s.starts_at == target for s in active) == 1
    assert len(active) == 10 + (0 if winners[0].id in {m.id for m in movers} else 1)
    spans = sorted((s.blocked_from, s.blocked_until) for s in active)
    assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:], strict=False))
