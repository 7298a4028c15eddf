"""Waiting lists in Telegram: joining where a day has filled up or a time was taken (and leaving),
and an offer's one-tap "Book it" and "No thanks". Ada Quill works 09:00-13:00 London on weekdays;
the clock is Monday 2030-01-07 08:00 UTC, so Tuesday the 8th has four 60-minute times."""

from datetime import UTC, date, datetime

from booking import bookings, cancellation, waitlist, waitlist_offers
from booking.model import Actor, SessionStatus
from booking.waitlist_model import EntryStatus, WantKind
from conversations.telegram import callbacks as cb
from tests.conversations.conftest import author_for
from tests.conversations.test_book import open_day

TUE = date(2030, 1, 8)


async def fill_tuesday(harness, author) -> list:
    ada = harness.world.coaches["ada"].id
    return [
        await bookings.book(harness.ctx, ada, author.id, datetime(2030, 1, 8, hour, tzinfo=UTC), duration=60)
        for hour in range(9, 13)
    ]


def entries(harness):
    return list(harness.world.store.data.waitlist.values())


async def test_a_day_that_filled_up_meanwhile_can_be_waited_for_and_left(bot):
    mary, rival = bot.user(), bot.user(777, "Rival")
    await author_for(bot, mary)
    await open_day(bot, mary)
    await fill_tuesday(bot, await author_for(bot, rival))
    await mary.press("10:00")
    assert mary.answer() == "That time is no longer free."
    assert "🔔 Join the waiting list for this day" in mary.labels()
    await mary.press("Join the waiting list")
    assert "You are on the waiting list for Tuesday 8 January 2030 with Ada Quill, number 1 in line." in mary.text()
    assert "hold it for you for 30 minutes" in mary.text()
    assert mary.labels() == ["Leave the waiting list", "‹ Back"]
    [entry] = entries(bot)
    assert (entry.kind, entry.duration_minutes, entry.status) == (WantKind.DAY, 60, EntryStatus.WAITING)
    await mary.press_data(cb.wait_day(bot.world.coaches["ada"].id, TUE, 60))  # the old button, again
    assert "already on the waiting list" in mary.text() and len(entries(bot)) == 1
    await mary.press("Leave the waiting list")
    assert "You left the waiting list for Tuesday 8 January 2030 with Ada Quill." in mary.text()
    assert entries(bot)[0].status is EntryStatus.LEFT


async def test_a_time_taken_at_confirm_can_be_waited_for(bot):
    mary, rival = bot.user(), bot.user(777, "Rival")
    await author_for(bot, mary)
    rival_author = await author_for(bot, rival)
    await open_day(bot, mary)
    await mary.press("10:00")
    await bookings.book(bot.ctx, bot.world.coaches["ada"].id, rival_author.id, datetime(2030, 1, 8, 9, tzinfo=UTC))
    await mary.press("Confirm")
    assert "That slot was just taken" in mary.text()
    assert mary.labels()[-2:] == ["🔔 Wait for this time", "Pick another time"]
    await mary.press("Wait for this time")
    assert "waiting list for Tue 8 Jan 2030, 10:00 (Europe/Berlin) with Ada Quill" in mary.text()
    [entry] = entries(bot)
    assert (entry.kind, entry.starts_at) == (WantKind.SLOT, datetime(2030, 1, 8, 9, tzinfo=UTC))


async def test_joining_a_day_with_free_times_is_refused_in_plain_words(bot):
    mary = bot.user()
    await author_for(bot, mary)
    await mary.press_data(cb.wait_day(bot.world.coaches["ada"].id, TUE, 60))
    assert "There are free times that day: book one instead of waiting" in mary.text()
    assert entries(bot) == []


async def offered(harness, user, *, others: int = 0):
    """Tuesday full, the user (and `others` after them) waiting for it, 10:00 Berlin freed and offered."""
    author = await author_for(harness, user)
    rival = await author_for(harness, harness.user(777, "Rival"))
    booked = await fill_tuesday(harness, rival)
    ada = harness.world.coaches["ada"].id
    mine = await waitlist.join(harness.ctx, ada, author.id, WantKind.DAY, day=TUE)
    behind = [
        await waitlist.join(
            harness.ctx, ada, (await author_for(harness, harness.user(800 + i, f"W{i}"))).id, WantKind.DAY, day=TUE
        )
        for i in range(others)
    ]
    await cancellation.cancel(harness.ctx, booked[0].id, by=Actor.COACH)
    assert (await waitlist_offers.offer_freed(harness.ctx))["offered"] == 1
    return mine.entry.id, [b.entry.id for b in behind]


async def test_book_it_books_the_offer_with_one_tap(bot):
    mary = bot.user()
    entry_id, _ = await offered(bot, mary)
    await mary.press_data(cb.offer_book(entry_id))
    assert "Booked: Ada Quill, Tue 8 Jan 2030, 10:00 (Europe/Berlin), 60 min." in mary.text()
    session = bot.world.store.sessions[bot.world.store.data.waitlist[entry_id].session_id]
    assert session.status is SessionStatus.SCHEDULED
    assert bot.world.store.data.waitlist[entry_id].status is EntryStatus.BOOKED


async def test_book_it_with_payments_on_opens_the_payment(paid_bot):
    mary = paid_bot.user()
    entry_id, _ = await offered(paid_bot, mary)
    await mary.press_data(cb.offer_book(entry_id))
    assert "held for you until" in mary.text()
    assert any(b.get("url", "").startswith("https://pay.test/checkout/") for b in mary.buttons())


async def test_no_thanks_passes_the_offer_to_the_next_in_line(bot):
    mary = bot.user()
    entry_id, [next_id] = await offered(bot, mary, others=1)
    await mary.press_data(cb.offer_decline(entry_id))
    assert "that time goes to the next in line" in mary.text()
    waiting = bot.world.store.data.waitlist
    assert (waiting[entry_id].status, waiting[next_id].status) == (EntryStatus.PASSED, EntryStatus.OFFERED)
    await mary.press_data(cb.offer_book(entry_id))  # the offer's button, tapped after all
    assert "This offer has lapsed and went to the next in line" in mary.text()


async def test_someone_elses_offer_is_no_longer_available(bot):
    mary, eve = bot.user(), bot.user(666, "Eve")
    entry_id, _ = await offered(bot, mary)
    await author_for(bot, eve)
    await eve.press_data(cb.offer_book(entry_id))
    assert eve.answer() == "This is no longer available."
    assert bot.world.store.data.waitlist[entry_id].status is EntryStatus.OFFERED


async def test_sessions_lists_the_waiting_lists_with_a_leave_button(bot):
    mary, rival = bot.user(), bot.user(777, "Rival")
    author = await author_for(bot, mary)
    await fill_tuesday(bot, await author_for(bot, rival))
    joined = await waitlist.join(bot.ctx, bot.world.coaches["ada"].id, author.id, WantKind.DAY, day=TUE)
    await mary.say("/sessions")
    assert "Waiting lists" in mary.text() and "• Tuesday 8 January 2030 with Ada Quill" in mary.text()
    await mary.press("Leave: Ada Quill, Tuesday 8 January 2030")
    assert "You left the waiting list" in mary.text()
    assert bot.world.store.data.waitlist[joined.entry.id].status is EntryStatus.LEFT
    await mary.say("/sessions")
    assert "Waiting lists" not in mary.text()


async def test_an_offer_opened_from_sessions_is_shown_as_the_offer(bot):
    mary = bot.user()
    entry_id, _ = await offered(bot, mary)
    await mary.say("/sessions")
    await mary.press("Tue 8 Jan")
    assert "A time you waited for is free" in mary.text()
    assert mary.labels() == ["✅ Book it", "No thanks"]  # payments are off: nothing to pay
    await mary.press("Book it")
    assert "Booked: Ada Quill" in mary.text()
    assert bot.world.store.data.waitlist[entry_id].status is EntryStatus.BOOKED
