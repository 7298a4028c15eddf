"""Fewer taps (issue 11, Deliver 2): /book lists each coach's next free time, "Next available" on a
card leads straight to the first free times, the length is asked once and first, the calendar
opens on the first free month, and a coach with one length is at most four taps from /book to
the payment link."""

from collections import Counter
from datetime import UTC, datetime

import pytest

from booking import catalog, slots
from booking.model import OverrideKind
from conversations.telegram import texts
from tests.conversations.conftest import author_for
from tests.fakes import FakeAvailability

MAX_TAPS = 4


class Counted:
    """A user whose button presses and typed messages after /book are counted as taps."""

    def __init__(self, user) -> None:
        self.user = user
        self.taps = 0

    async def book(self) -> None:
        await self.user.say("/book")

    async def press(self, label: str) -> None:
        self.taps += 1
        await self.user.press(label)

    async def press_first_button(self) -> None:
        self.taps += 1
        first = self.user.buttons()[0]
        await self.user.press_data(first["callback_data"])

    async def say(self, text: str) -> None:
        self.taps += 1
        await self.user.say(text)


@pytest.fixture
def calendar_reads(monkeypatch) -> Counter:
    counts: Counter = Counter()
    calendar = FakeAvailability.calendar

    async def counted(self, coach_id, start, end, **kw):
        counts[coach_id] += 1
        return await calendar(self, coach_id, start, end, **kw)

    monkeypatch.setattr(FakeAvailability, "calendar", counted)
    return counts


async def first_free(bot, name: str, minutes: list[int] | None = None) -> datetime:
    coach = await catalog.coach(bot.ctx, bot.world.coaches[name].id)
    [start] = await slots.first_starts(bot.ctx, coach, minutes or coach.durations, 1)
    return start


async def test_a_coach_with_one_length_is_at_most_four_taps_from_book_to_the_payment_link(paid_bot):
    bot = paid_bot
    mary = bot.user()
    await author_for(bot, mary)
    counted = Counted(mary)
    first = await first_free(bot, "bram")

    await counted.book()
    await counted.press("Bram Ink")  # the card
    await counted.press("Next available")  # the first free times
    await counted.press_first_button()  # the summary
    await counted.press("Confirm")  # held, with the payment link

    pay = [b for b in mary.buttons() if b.get("url", "").startswith("https://pay.test/checkout/")]
    assert pay, mary.labels()
    assert counted.taps <= MAX_TAPS, f"{counted.taps} taps from /book to the payment link"
    [session] = bot.world.store.sessions.values()
    assert session.starts_at == first


async def test_book_lists_each_coach_with_their_next_free_time_one_calendar_read_each(bot, calendar_reads):
    mary = bot.user()
    await author_for(bot, mary)
    await mary.say("/book")
    bram = await first_free(bot, "bram")
    ada = await first_free(bot, "ada")
    calendar_reads.clear()
    await mary.say("/book")
    labels = mary.labels()
    assert f"Bram Ink · {texts.short_when(bram, 'Europe/Berlin')}" in labels
    assert f"Ada Quill · {texts.short_when(ada, 'Europe/Berlin')}" in labels
    assert "Next free times are in your zone (Europe/Berlin)" in mary.text()
    shown = [c for c in bot.world.coaches.values() if any(label.startswith(c.name) for label in labels)]
    assert len(shown) == 5 and calendar_reads == {c.id: 1 for c in shown}


async def test_before_the_zone_is_known_the_list_has_no_times(bot, calendar_reads):
    mary = bot.user()
    await mary.say("/coaches")
    assert "Bram Ink" in mary.labels() and not calendar_reads


async def test_next_available_asks_the_length_once_then_offers_the_first_free_times(bot):
    mary = bot.user()
    await author_for(bot, mary)
    await mary.say("/book")
    await mary.press("Ada Quill")
    ada = await first_free(bot, "ada")
    assert f"Next free time: <b>{texts.when(ada, 'Europe/Berlin')}</b>" in mary.text()
    await mary.press("Next available")
    assert "How long" in mary.text() and mary.labels() == ["60 min", "90 min", "‹ Back"]
    await mary.press("90 min")
    coach = await catalog.coach(bot.ctx, bot.world.coaches["ada"].id)
    expected = await slots.first_starts(bot.ctx, coach, [90], 8)
    assert "first free times" in mary.text()
    assert mary.labels()[: len(expected)] == [texts.short_when(s, "Europe/Berlin") for s in expected]
    assert mary.labels()[len(expected) :] == ["📅 Other days", "‹ Back"]
    await mary.press(mary.labels()[0])
    assert "Please check your booking" in mary.text() and "Length: 90 min" in mary.text()  # not asked again
    await mary.press("Confirm")
    [session] = bot.world.store.sessions.values()
    assert (session.starts_at, session.duration_minutes) == (expected[0], 90)


async def test_other_days_opens_the_calendar_for_the_chosen_length_on_the_first_free_month(bot):
    bram = bot.world.coaches["bram"]
    await catalog.add_override(
        bot.ctx,
        bram.id,
        kind=OverrideKind.BLOCK,
        start=datetime(2030, 1, 1, tzinfo=UTC),
        end=datetime(2030, 2, 1, tzinfo=UTC),
    )
    mary = bot.user()
    await author_for(bot, mary)
    await mary.say("/book")
    await mary.press("Bram Ink")
    await mary.press("Next available")  # one length: no question
    assert "first free times" in mary.text() and "1 Feb" in mary.labels()[0]
    await mary.press("Other days")
    assert "February 2030" in mary.text()
    await mary.press("•1")
    await mary.press(mary.labels()[0])
    assert "Please check your booking" in mary.text() and "Length: 60 min" in mary.text()


async def test_a_coach_with_nothing_free_has_no_next_available(bot):
    bram = bot.world.coaches["bram"]
    await catalog.add_override(
        bot.ctx,
        bram.id,
        kind=OverrideKind.BLOCK,
        start=datetime(2030, 1, 1, tzinfo=UTC),
        end=datetime(2030, 12, 1, tzinfo=UTC),
    )
    mary = bot.user()
    await author_for(bot, mary)
    await mary.say("/book")
    assert "Bram Ink" in mary.labels()  # no time after the name
    await mary.press("Bram Ink")
    assert "No free times in the next 60 days" in mary.text()
    assert not any("Next available" in label for label in mary.labels())


async def test_a_deep_link_opens_the_coachs_card(bot):
    mary = bot.user()
    await author_for(bot, mary)
    await mary.say(f"/start coach-{bot.world.coaches['ada'].id}")
    assert "<b>Ada Quill</b>" in mary.text() and any("Next available" in label for label in mary.labels())
    await mary.say(f"/start coach-{bot.world.coaches['gone'].id}")  # no longer taking bookings: the list
    assert "<b>Coaches</b>" in mary.text()


async def test_a_deep_link_for_a_new_author_asks_the_zone_then_opens_the_card(bot):
    mary = bot.user()
    await mary.say(f"/start coach-{bot.world.coaches['ada'].id}")
    assert "time zone" in mary.text()
    await mary.say("Berlin")
    assert "<b>Ada Quill</b>" in mary.text() and "Europe/Berlin" in mary.text()
    await mary.press("Next available")
    assert "How long" in mary.text()
