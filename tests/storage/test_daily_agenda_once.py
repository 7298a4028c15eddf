"""The daily agenda is queued once per coach and local day on the real databases: the outbox's
unique dedupe key decides between instances racing (two engines on one database) and across
restarts; migration 0011 adds the coach messages' columns and takes them away again."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from sqlalchemy import inspect, text

from booking import agenda, bookings, catalog, coach_accounts
from booking.events import DailyAgenda, to_message
from booking.model import OutboxMessage
from storage.engine import make_engine
from storage.unit_of_work import Database
from tests.fakes import FakeClock
from tests.storage.helpers import context_for, open_coach

EIGHT_IN_BERLIN = datetime(2030, 3, 30, 7, 0, tzinfo=UTC)  # Saturday 08:00 CET


async def linked_coaches(ctx, n: int) -> list[int]:
    ids = []
    for i in range(n):
        coach = await open_coach(ctx, timezone="Europe/Berlin")
        await coach_accounts.link_slack(ctx, coach.id, f"U0COACH{i:03d}")
        ids.append(coach.id)
    return ids


async def agenda_rows(database) -> list[OutboxMessage]:
    async with database.uow() as uow:
        due = await uow.outbox.claim_due(
            datetime(2031, 1, 1, tzinfo=UTC), limit=1000, stale_before=EIGHT_IN_BERLIN, recipients=frozenset({"coach"})
        )
    return [m for m in due if m.kind == DailyAgenda.kind]  # (rolled back: nothing stays claimed)


async def test_instances_racing_at_eight_queue_one_agenda_per_coach(database, database_url):
    clock = FakeClock(EIGHT_IN_BERLIN)
    coach_ids = await linked_coaches(context_for(database, clock=clock), 5)
    others = [Database(make_engine(database_url)) for _ in range(3)]
    try:
        instances = [context_for(db, clock=clock) for db in [database, *others]]
        results = await asyncio.gather(*(agenda.queue_daily_agendas(ctx) for ctx in instances for _ in range(3)))
        assert sum(results) == 5
        clock.advance(minutes=30)  # later ticks, and a restart (a fresh engine), queue nothing more
        restarted = Database(make_engine(database_url))
        try:
            assert await agenda.queue_daily_agendas(context_for(restarted, clock=clock)) == 0
        finally:
            await restarted.dispose()
    finally:
        for db in others:
            await db.dispose()
    rows = await agenda_rows(database)
    assert sorted(m.coach_id for m in rows) == coach_ids
    assert {m.dedupe_key for m in rows} == {f"daily_agenda:{i}:2030-03-30" for i in coach_ids}
    assert all(m.session_id is None and m.recipient == "coach" and m.payload == {"day": "2030-03-30"} for m in rows)


async def test_the_database_refuses_a_second_message_with_the_same_key(database):
    ctx = context_for(database, clock=FakeClock(EIGHT_IN_BERLIN))
    [coach_id] = await linked_coaches(ctx, 1)
    key = agenda.agenda_key(coach_id, EIGHT_IN_BERLIN.date())

    def message() -> OutboxMessage:
        return to_message(DailyAgenda(EIGHT_IN_BERLIN.date()), None, EIGHT_IN_BERLIN, coach_id=coach_id, dedupe_key=key)

    async with database.uow() as uow:
        assert await uow.outbox.add_once([message()]) == 1
        await uow.commit()
    async with database.uow() as uow:
        assert await uow.outbox.add_once([message(), message()]) == 0
        assert await uow.outbox.keys_taken([key, "daily_agenda:999:2030-03-30"]) == {key}
        await uow.commit()
    assert len(await agenda_rows(database)) == 1


async def test_migration_0011_adds_and_removes_the_coach_messages_columns(database, database_url):
    from storage.migrate import downgrade, upgrade
    from tests.conftest import in_thread

    ctx = context_for(database, clock=FakeClock(EIGHT_IN_BERLIN))
    [coach_id] = await linked_coaches(ctx, 1)
    author = await catalog.add_author(ctx, name="Ann", timezone="UTC", telegram_id=5)
    await bookings.book(ctx, coach_id, author.id, datetime(2030, 4, 1, 8, 0, tzinfo=UTC))  # Monday 10:00 CEST
    assert await agenda.queue_daily_agendas(ctx) == 1
    await database.dispose()
    in_thread(downgrade, database_url, "0010")
    async with database.engine.connect() as conn:
        columns = await conn.run_sync(lambda c: {col["name"] for col in inspect(c).get_columns("outbox")})
        kinds = set((await conn.execute(text("SELECT kind FROM outbox"))).scalars())
    assert "coach_id" not in columns and "dedupe_key" not in columns
    assert "session_confirmed" in kinds and DailyAgenda.kind not in kinds  # only the agenda went, with its columns
    await database.dispose()
    in_thread(upgrade, database_url)
    assert await agenda.queue_daily_agendas(ctx) == 1  # the key is free again after the round trip
