"""The slot query an author waits for, with 2,000 busy intervals imported from the coach's own
calendars against the same coach without them (target ratio >= 0.8). Both read the calendar in
one query (booking.slots); the busy rows only add to it. On a throw-away SQLite database."""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from booking import catalog, slots
from booking.calendar_model import CalendarSource, SourceKind
from booking.context import Context
from booking.model import Interval
from integrations.clock import SystemClock
from integrations.included_payments import IncludedPayments
from integrations.jitsi import JitsiRooms
from storage.engine import make_engine
from storage.migrate import upgrade
from storage.unit_of_work import Database

BUSY = 2000
QUERIES = 200
ROUNDS = 5


async def _measure(ctx: Context, coach_id: int) -> float:
    start = datetime.now(UTC) + timedelta(days=1)
    began = time.perf_counter()
    for i in range(QUERIES):
        day = start + timedelta(days=i % 50)
        await slots.slots(ctx, coach_id, day, day + timedelta(days=7), 60)
    return QUERIES / (time.perf_counter() - began)


async def _run(url: str) -> dict[str, float]:
    db = Database(make_engine(url))
    ctx = Context(db.uow, SystemClock(), IncludedPayments(), JitsiRooms())
    try:
        plain = await catalog.add_coach(ctx, name="Plain", timezone="Europe/Berlin", rate=9000, min_notice_minutes=60)
        busy = await catalog.add_coach(ctx, name="Busy", timezone="Europe/Berlin", rate=9000, min_notice_minutes=60)
        for coach in (plain, busy):
            for weekday in ("mon", "tue", "wed", "thu", "fri", "sat", "sun"):
                await catalog.add_rule(ctx, coach.id, weekday=weekday, start="08:00", end="18:00")
        now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
        intervals = [  # 2,000 short events across the 60-day horizon, a few an hour apart each day
            Interval(now + timedelta(minutes=43 * i), now + timedelta(minutes=43 * i + 20)) for i in range(BUSY)
        ]
        async with db.uow() as uow:
            source = await uow.calendars.add_source(
                CalendarSource(busy.id, SourceKind.ICS, "https://example.org/x.ics")
            )
            await uow.calendars.replace_busy(source.id, busy.id, intervals)
            await uow.commit()
        await _measure(ctx, plain.id)  # warm-up
        without, with_busy = [], []
        for _ in range(ROUNDS):
            without.append(await _measure(ctx, plain.id))
            with_busy.append(await _measure(ctx, busy.id))
        return {"without": statistics.median(without), "with": statistics.median(with_busy)}
    finally:
        await db.dispose()


def run() -> dict[str, float]:
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"
        upgrade(url)
        return asyncio.run(_run(url))


def report(result: dict[str, float]) -> list[str]:
    ratio = result["with"] / result["without"]
    return [
        f"slot queries/s with {BUSY} imported busy intervals: {result['with']:.0f} against {result['without']:.0f} "
        f"without (ratio {ratio:.2f}, target >= 0.8)"
    ]
