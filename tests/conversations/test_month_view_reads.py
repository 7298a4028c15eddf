"""The booking and rescheduling calendars read the coach once and the calendar once per view,
however many lengths the coach offers (Ada Quill offers two)."""

from collections import Counter

import pytest

from booking import bookings
from tests.conversations.conftest import author_for
from tests.conversations.harness import later
from tests.fakes import FakeAvailability, FakeCoaches


@pytest.fixture
def reads(monkeypatch) -> Counter:
    counts: Counter = Counter()
    get, calendar = FakeCoaches.get, FakeAvailability.calendar

    async def counted_get(self, coach_id):
        counts["coach"] += 1
        return await get(self, coach_id)

    async def counted_calendar(self, coach_id, start, end, **kw):
        counts["calendar"] += 1
        return await calendar(self, coach_id, start, end, **kw)

    monkeypatch.setattr(FakeCoaches, "get", counted_get)
    monkeypatch.setattr(FakeAvailability, "calendar", counted_calendar)
    return counts


async def test_the_month_view_reads_the_coach_once_and_the_calendar_once(bot, reads):
    mary = bot.user()
    await author_for(bot, mary)
    await mary.say("/coaches")
    await mary.press("Ada Quill")

    await mary.press("Pick a day")
    assert "How long" in mary.text()

    reads.clear()
    await mary.press("60 min")
    assert "January 2030" in mary.text()
    assert reads == {"coach": 1, "calendar": 1}

    reads.clear()
    await mary.press("›")  # the next month
    assert "February 2030" in mary.text()
    assert reads == {"coach": 1, "calendar": 1}

    reads.clear()
    await mary.press("•8")  # a day: its start times for the length asked
    assert "10:00" in mary.labels()
    assert reads == {"coach": 1, "calendar": 1}

    reads.clear()
    await mary.press("10:00")  # does it still fit: the summary
    assert "Please check your booking" in mary.text()
    assert reads == {"coach": 1, "calendar": 1}


async def test_the_reschedule_calendar_reads_the_calendar_once(bot, reads):
    mary = bot.user()
    author = await author_for(bot, mary)
    await bookings.book(bot.ctx, bot.world.coaches["ada"].id, author.id, later(days=2, hours=1))
    await mary.say("/sessions")
    await mary.press("Wed 9 Jan")

    reads.clear()
    await mary.press("Reschedule")
    assert "Pick a new day" in mary.text()
    assert reads["calendar"] == 1

    reads.clear()
    await mary.press("•11")
    assert "13:00" in mary.labels()
    assert reads["calendar"] == 1
