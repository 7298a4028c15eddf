"""Two scheduler instances advancing statuses at once complete a session exactly once."""

import asyncio
from datetime import timedelta

from booking.model import SessionStatus
from tests.fakes import FakeClock
from tests.storage.helpers import NOW, open_coach, service_for


async def test_two_instances_complete_a_session_once(database):
    clock = FakeClock(NOW)
    service = service_for(database, clock=clock)
    coach = await open_coach(service)
    author = await service.add_author(name="A", timezone="UTC")
    start = NOW.replace(hour=9) + timedelta(days=1)
    session = await service.book(coach.id, author.id, start)

    clock.set(start + timedelta(hours=2))
    done = await asyncio.gather(service.advance_statuses(), service.advance_statuses())

    assert sum(done) == 1
    assert (await service.session(session.id)).status is SessionStatus.COMPLETED
    assert (await service.coach(coach.id)).total_sessions == 1
    async with database.uow() as uow:
        prompts = [m for m in await uow.outbox.claim_due(clock.now(), limit=50, stale_before=clock.now())
                   if m.kind == "rating_prompt"]
    assert len(prompts) == 1
