"""Two scheduler instances advancing statuses at once complete a session exactly once."""

import asyncio
from datetime import timedelta

from booking import bookings, catalog, lifecycle, queries
from booking.model import SessionStatus
from tests.fakes import FakeClock
from tests.storage.helpers import NOW, context_for, open_coach


async def test_two_instances_complete_a_session_once(database):
    clock = FakeClock(NOW)
    ctx = context_for(database, clock=clock)
    coach = await open_coach(ctx)
    author = await catalog.add_author(ctx, name="A", timezone="UTC")
    start = NOW.replace(hour=9) + timedelta(days=1)
    session = await bookings.book(ctx, coach.id, author.id, start)

    clock.set(start + timedelta(hours=2))
    done = await asyncio.gather(lifecycle.advance_statuses(ctx), lifecycle.advance_statuses(ctx))

    assert sum(done) == 1
    assert (await queries.session(ctx, session.id)).status is SessionStatus.COMPLETED
    assert (await catalog.coach(ctx, coach.id)).total_sessions == 1
    async with database.uow() as uow:
        prompts = [
            m
            for m in await uow.outbox.claim_due(
                clock.now(), limit=50, stale_before=clock.now(), recipients=frozenset({"author"})
            )
            if m.kind == "rating_prompt"
        ]
    assert len(prompts) == 1
