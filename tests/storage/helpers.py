from datetime import UTC, datetime

from booking import catalog
from booking.context import Context
from tests.fakes import FakeClock, FakePayments, FakeVideo

# A Monday 08:00 UTC; coaches below are open Mon-Fri 09:00-17:00 in their zone.
NOW = datetime(2030, 1, 7, 8, 0, tzinfo=UTC)


def context_for(database, *, clock=None, payments=None, video=None) -> Context:
    return Context(database.uow, clock or FakeClock(NOW), payments or FakePayments(enabled=False), video or FakeVideo())


async def open_coach(ctx: Context, *, timezone="UTC", durations=(60,), **extra):
    coach = await catalog.add_coach(
        ctx, name="Coach", timezone=timezone, rate=6000, durations=list(durations), min_notice_minutes=0, **extra
    )
    for day in ("mon", "tue", "wed", "thu", "fri"):
        await catalog.add_rule(ctx, coach.id, weekday=day, start="09:00", end="17:00")
    return coach
