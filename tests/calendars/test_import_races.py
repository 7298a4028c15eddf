"""A booking that races an import of the coach's busy time: both take the coach's lock, so the
booking either commits before the import writes (and stands), or sees the imported busy time and
is refused; never a booking inside time the import has just marked busy."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from booking import bookings, calendar_sources, catalog
from booking.calendar_model import CalendarSource, SourceKind
from booking.calendar_sources import CalendarAccess, Fetched
from booking.context import Context
from booking.errors import SlotUnavailable
from booking.model import Interval
from tests.fakes import FakeClock, FakePayments, FakeVideo

NOW = datetime(2030, 3, 4, 9, tzinfo=UTC)  # a Monday
SLOT = NOW + timedelta(days=1, hours=1)  # Tuesday 10:00 UTC


class BusyAtTheSlot:
    async def read(self, source, password, start, end, zone) -> Fetched:
        return Fetched([Interval(SLOT - timedelta(minutes=30), SLOT + timedelta(hours=2))])


async def test_a_booking_waiting_on_an_import_that_marks_its_slot_busy_is_refused(database, monkeypatch):
    ctx = Context(database.uow, FakeClock(NOW), FakePayments(enabled=False), FakeVideo())
    coach = await catalog.add_coach(ctx, name="Ines", timezone="UTC", rate=9000, min_notice_minutes=0)
    await catalog.add_rule(ctx, coach.id, weekday="tue", start="08:00", end="18:00")
    author = await catalog.add_author(ctx, name="Ann", timezone="UTC", telegram_id=5)
    async with database.uow() as uow:
        await uow.calendars.add_source(CalendarSource(coach.id, SourceKind.ICS, "https://example.org/c.ics"))
        await uow.commit()

    written, go_on = asyncio.Event(), asyncio.Event()
    from storage.calendars import CalendarRepository

    replace_busy = CalendarRepository.replace_busy

    async def replace_then_hold(self, *args, **kwargs):  # the import holds the coach's lock here
        await replace_busy(self, *args, **kwargs)
        written.set()
        await go_on.wait()

    monkeypatch.setattr(CalendarRepository, "replace_busy", replace_then_hold)
    access = CalendarAccess(readers={SourceKind.ICS: BusyAtTheSlot()})
    importing = asyncio.create_task(calendar_sources.sync(ctx, access, coach.id))
    await written.wait()
    booking = asyncio.create_task(bookings.book(ctx, coach.id, author.id, SLOT))
    await asyncio.sleep(0.3)
    assert not booking.done()  # it waits for the coach's lock
    go_on.set()
    await importing
    with pytest.raises(SlotUnavailable):
        await booking
