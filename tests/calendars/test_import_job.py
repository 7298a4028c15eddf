"""The scheduler's calendar import: sources are claimed before they are read, so two instances
running it at once read each source once; one broken source does not stop the others."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from booking import calendar_sources, catalog
from booking.calendar_model import CalendarSource, SourceKind
from booking.calendar_sources import CalendarAccess, Fetched
from booking.context import Context
from booking.model import Interval
from tests.fakes import FakeClock, FakePayments, FakeVideo

NOW = datetime(2030, 3, 4, 9, tzinfo=UTC)


class SlowReader:
    """Answers after a pause (long enough for a second import to run meanwhile), counting reads."""

    def __init__(self, broken_url: str | None = None):
        self.reads: list[str] = []
        self.broken_url = broken_url

    async def read(self, source, password, start, end, zone) -> Fetched:
        self.reads.append(source.url)
        await asyncio.sleep(0.05)
        if source.url == self.broken_url:
            raise RuntimeError("a bug, not a calendar error")
        return Fetched([Interval(NOW + timedelta(days=1), NOW + timedelta(days=1, hours=1))])


async def _with_sources(database, n: int) -> Context:
    ctx = Context(database.uow, FakeClock(NOW), FakePayments(enabled=False), FakeVideo())
    coach = await catalog.add_coach(ctx, name="Ines", timezone="UTC", rate=9000)
    async with database.uow() as uow:
        for i in range(n):
            await uow.calendars.add_source(CalendarSource(coach.id, SourceKind.ICS, f"https://example.org/{i}.ics"))
        await uow.commit()
    return ctx


async def test_two_imports_at_once_read_each_source_once(database):
    ctx = await _with_sources(database, 6)
    reader = SlowReader()
    access = CalendarAccess(readers={SourceKind.ICS: reader})
    tried = await asyncio.gather(calendar_sources.sync_due(ctx, access), calendar_sources.sync_due(ctx, access))
    assert sum(tried) == 6 and sorted(reader.reads) == sorted(set(reader.reads)) and len(reader.reads) == 6
    assert await calendar_sources.sync_due(ctx, access) == 0  # all tried just now


async def test_one_broken_source_does_not_stop_the_others(database):
    ctx = await _with_sources(database, 3)
    reader = SlowReader(broken_url="https://example.org/0.ics")
    access = CalendarAccess(readers={SourceKind.ICS: reader})
    assert await calendar_sources.sync_due(ctx, access) == 3
    async with database.uow() as uow:
        sources = [s for s, _ in await uow.calendars.sources(1)]
        counts = {s.url: n for s, n in await uow.calendars.sources(1)}
    assert len(sources) == 3 and counts["https://example.org/1.ics"] == counts["https://example.org/2.ics"] == 1
