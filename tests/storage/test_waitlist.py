"""Waiting lists on every engine: entries stored and read back in line order, a repeated join
finding the entry already there, and scheduler instances racing over freed slots never
offering one slot twice (each instance its own engine, as two processes would have)."""

import asyncio
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from booking import bookings, cancellation, catalog, waitlist, waitlist_offers
from booking.model import Actor, SessionStatus
from booking.waitlist_model import EntryStatus, WaitlistEntry, WantKind
from storage import tables as t
from storage.engine import make_engine
from storage.unit_of_work import Database
from tests.fakes import FakeClock
from tests.storage.helpers import NOW, context_for, open_coach

TUE = date(2030, 1, 8)
INSTANCES = 3
WAITING = 12


async def full_tuesday(ctx, coach):
    filler = await catalog.add_author(ctx, name="Fay", timezone="UTC")
    booked = []
    for hour in range(9, 17):
        booked.append(await bookings.book(ctx, coach.id, filler.id, datetime(2030, 1, 8, hour, tzinfo=UTC)))
    return booked


async def test_entries_are_stored_in_line_order_and_a_repeated_join_finds_its_entry(database):
    ctx = context_for(database)
    coach = await open_coach(ctx)
    await full_tuesday(ctx, coach)
    ann, bob = [await catalog.add_author(ctx, name=n, timezone="Europe/Berlin") for n in ("Ann", "Bob")]
    first = await waitlist.join(ctx, coach.id, ann.id, WantKind.DAY, day=TUE)
    second = await waitlist.join(ctx, coach.id, bob.id, WantKind.SLOT, start=datetime(2030, 1, 8, 12, tzinfo=UTC))
    again = await waitlist.join(ctx, coach.id, ann.id, WantKind.DAY, day=TUE)
    assert (again.created, again.entry.id) == (False, first.entry.id)
    lines = await waitlist.waiting(ctx, coach.id)
    assert [(line.author.name, line.entry.kind, line.position) for line in lines] == [
        ("Ann", WantKind.DAY, 1),
        ("Bob", WantKind.SLOT, 2),
    ]
    assert lines[0].entry.starts_at == datetime(2030, 1, 7, 23, tzinfo=UTC)  # Berlin's midnight
    assert lines[0].entry.zone == "Europe/Berlin"
    assert [e.id for e in await waitlist.of_author(ctx, bob.id)] == [second.entry.id]
    async with database.uow() as uow:
        assert await uow.waitlist.coaches_waiting() == [coach.id]


async def test_the_database_refuses_a_second_open_entry_for_one_want(database):
    ctx = context_for(database)
    coach = await open_coach(ctx)
    await full_tuesday(ctx, coach)
    ann = await catalog.add_author(ctx, name="Ann", timezone="UTC")
    joined = await waitlist.join(ctx, coach.id, ann.id, WantKind.DAY, day=TUE)
    copy = WaitlistEntry(
        coach.id, ann.id, WantKind.DAY, joined.entry.starts_at, joined.entry.ends_at, 60, "UTC", created_at=NOW
    )
    with pytest.raises(IntegrityError):
        async with database.uow() as uow:
            await uow.waitlist.add(copy)
    await waitlist.leave(ctx, joined.entry.id, author_id=ann.id)
    assert (await waitlist.join(ctx, coach.id, ann.id, WantKind.DAY, day=TUE)).created  # closed ones do not count


async def test_an_offer_that_lapses_passes_on_to_the_next(database):
    clock = FakeClock(NOW)
    ctx = context_for(database, clock=clock)
    coach = await open_coach(ctx)
    booked = await full_tuesday(ctx, coach)
    ann, bob = [await catalog.add_author(ctx, name=n, timezone="UTC") for n in ("Ann", "Bob")]
    first = await waitlist.join(ctx, coach.id, ann.id, WantKind.DAY, day=TUE)
    second = await waitlist.join(ctx, coach.id, bob.id, WantKind.DAY, day=TUE)
    await cancellation.cancel(ctx, booked[3].id, by=Actor.COACH)
    assert (await waitlist_offers.offer_freed(ctx))["offered"] == 1
    clock.set(NOW + timedelta(minutes=30))
    assert await waitlist_offers.offer_freed(ctx) == {"offered": 1, "booked": 0, "passed": 1, "expired": 0}
    lapsed, offered = await waitlist.entry(ctx, first.entry.id), await waitlist.entry(ctx, second.entry.id)
    assert (lapsed.status, offered.status) == (EntryStatus.PASSED, EntryStatus.OFFERED)
    async with database.uow() as uow:
        old = await uow.sessions.get(lapsed.session_id)
        new = await uow.sessions.get(offered.session_id)
    assert (old.status, new.status, new.starts_at) == (SessionStatus.CANCELLED, SessionStatus.HELD, booked[3].starts_at)
    assert new.author_id == bob.id


async def test_racing_scheduler_instances_never_offer_one_slot_twice(database, database_url):
    ctx = context_for(database)
    coach = await open_coach(ctx)
    booked = await full_tuesday(ctx, coach)
    authors = [await catalog.add_author(ctx, name=f"A{i}", timezone="UTC") for i in range(WAITING)]
    for author in authors:
        await waitlist.join(ctx, coach.id, author.id, WantKind.DAY, day=TUE)
    for session in booked[:3]:  # three slots free up
        await cancellation.cancel(ctx, session.id, by=Actor.COACH)
    instances = [Database(make_engine(database_url)) for _ in range(INSTANCES)]
    try:
        contexts = [context_for(db) for db in instances]
        for _ in range(2):  # two rounds each: the later ones find nothing left to offer
            results = await asyncio.gather(*(waitlist_offers.offer_freed(c) for c in contexts))
            assert all(isinstance(r, dict) for r in results)
    finally:
        for db in instances:
            await db.dispose()
    async with database.uow() as uow:
        entries = (await uow.db.scalars(select(WaitlistEntry).order_by(t.waitlist_entries.c.id))).all()
        held = await uow.sessions.find(coach_id=coach.id, statuses=frozenset({SessionStatus.HELD}))
        offers = (await uow.db.execute(select(t.outbox.c.session_id).where(t.outbox.c.kind == "waitlist_offer"))).all()
    offered = [e for e in entries if e.status is EntryStatus.OFFERED]
    assert [e.author_id for e in offered] == [a.id for a in authors[:3]]  # the first three in line
    assert sorted(s.starts_at for s in held) == sorted(s.starts_at for s in booked[:3])
    assert sorted(e.session_id for e in offered) == sorted(s.id for s in held)
    assert sorted(row.session_id for row in offers) == sorted(s.id for s in held)  # one message each


async def test_the_waitlist_migration_downgrades_and_upgrades_again(database, database_url):
    from sqlalchemy import inspect

    from storage.migrate import downgrade, upgrade
    from tests.conftest import in_thread

    async def table_names():
        async with database.engine.connect() as conn:
            return await conn.run_sync(lambda c: set(inspect(c).get_table_names()))

    assert "waitlist_entries" in await table_names()
    await database.dispose()
    in_thread(downgrade, database_url, "0017")
    assert "waitlist_entries" not in await table_names()
    await database.dispose()
    in_thread(upgrade, database_url)
    assert "waitlist_entries" in await table_names()
