"""The waiting list in the scheduler, on every engine: a freed slot is offered by the next tick,
a lapsed offer passes on to the next in line within one tick, and a cancellation's commit alone
wakes the offer round (no tick at all)."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta

from booking import bookings, cancellation, catalog, waitlist
from booking.model import Actor, OutboxMessage
from booking.waitlist_model import EntryStatus, WantKind
from bot.container import Container
from bot.scheduler import tick
from bot.settings import Settings
from tests.fakes import FakeClock, FakeVideo
from tests.storage.helpers import NOW, open_coach

TUE = date(2030, 1, 8)
WAIT_S = 30  # a bound on waiting for the background round, never a timing under test


class Recording:
    recipients = frozenset({"author", "coach", "admin", "calendar"})

    def __init__(self) -> None:
        self.kinds: list[str] = []

    async def deliver(self, message: OutboxMessage) -> None:
        self.kinds.append(message.kind)


async def setup(database_url):
    clock = FakeClock(NOW)
    settings = Settings(_env_file=None, database_url=database_url)  # type: ignore[call-arg]
    container = Container(settings, clock=clock, video=FakeVideo(), notifier=Recording())
    ctx = container.ctx
    coach = await open_coach(ctx)
    filler = await catalog.add_author(ctx, name="Fay", timezone="UTC")
    booked = [
        await bookings.book(ctx, coach.id, filler.id, datetime(2030, 1, 8, hour, tzinfo=UTC)) for hour in range(9, 17)
    ]
    ann, bob = [await catalog.add_author(ctx, name=n, timezone="UTC") for n in ("Ann", "Bob")]
    first = await waitlist.join(ctx, coach.id, ann.id, WantKind.DAY, day=TUE)
    second = await waitlist.join(ctx, coach.id, bob.id, WantKind.DAY, day=TUE)
    return container, clock, booked, first.entry.id, second.entry.id


async def test_a_lapsed_offer_passes_on_within_one_tick(database_url):
    container, clock, booked, first, second = await setup(database_url)
    try:
        await cancellation.cancel(container.ctx, booked[2].id, by=Actor.COACH)
        await tick(container)
        assert (await waitlist.entry(container.ctx, first)).status is EntryStatus.OFFERED
        assert "waitlist_offer" in container.notifier.kinds  # delivered in the same tick
        clock.set(NOW + timedelta(minutes=container.settings.waitlist_hold_minutes))
        await tick(container)
        assert (await waitlist.entry(container.ctx, first)).status is EntryStatus.PASSED
        assert (await waitlist.entry(container.ctx, second)).status is EntryStatus.OFFERED
    finally:
        await container.close()


async def test_a_cancellation_commit_wakes_the_offer_round_without_a_tick(database_url):
    container, _clock, booked, first, _second = await setup(database_url)
    try:
        container.waitlist.start()
        await cancellation.cancel(container.ctx, booked[5].id, by=Actor.COACH)
        for _ in range(WAIT_S * 20):
            if (await waitlist.entry(container.ctx, first)).status is EntryStatus.OFFERED:
                break
            await asyncio.sleep(0.05)
        assert (await waitlist.entry(container.ctx, first)).status is EntryStatus.OFFERED
    finally:
        await container.close()
