"""Recurring series from the booking summary (issue 13, item 1 in Telegram): how often, how many,
every date in the author's zone with the ones not free marked before anything is held, refuse /
skip / append, one payment or one per occurrence, one confirmation for the whole series, and
"only this one / this and all following" for cancel and reschedule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from icalendar import Calendar

from booking import bookings, catalog, holds, payments, series
from booking.calendar_sources import session_uid
from booking.context import BookingSettings
from booking.model import ACTIVE_STATUSES, Author, Coach, Session, SessionStatus
from booking.payments import PaymentEvent, PaymentKind
from booking.series_model import Repeat, SeriesPayment
from conversations.calendar_invite import series_ics
from conversations.telegram.earlier_messages import EarlierMessages
from conversations.telegram.notifier import TelegramNotifier
from tests.conversations.conftest import author_for
from tests.conversations.harness import World, seed
from tests.fakes import make_context


async def series_bot(make_bot, payment: SeriesPayment, *, payments_enabled: bool = True):
    settings = BookingSettings(series_payment=payment)
    world = World(*make_context(payments_enabled=payments_enabled, settings=settings))
    await seed(world)
    return await make_bot(payments_enabled=payments_enabled, world=world)


async def to_summary(bot, user):
    """/book → Bram Ink → Next available → the first free time: the booking summary."""
    await user.say("/book")
    await user.press("Bram Ink")
    await user.press("Next available")
    await user.press_data(user.buttons()[0]["callback_data"])
    assert "Please check your booking" in user.text()


def summary_start(user) -> datetime:
    """The start of the booking on the summary, from its Confirm button (b:ok:<coach>:<t>:<min>)."""
    [data] = [b["callback_data"] for b in user.buttons() if b.get("callback_data", "").startswith("b:ok:")]
    return datetime.fromtimestamp(int(data.split(":")[3]), UTC)


def gaps(sessions: list) -> list[timedelta]:
    starts = [s.starts_at for s in sessions]
    return [later - earlier for earlier, later in zip(starts, starts[1:], strict=False)]


def active(bot) -> list:
    found = [s for s in bot.world.store.sessions.values() if s.status in ACTIVE_STATUSES]
    return sorted(found, key=lambda s: s.starts_at)


def _notifier(bot) -> TelegramNotifier:
    return TelegramNotifier(bot.app.bot, bot.ctx, now=bot.ctx.now, earlier=EarlierMessages(bot.states))


def _to_author(bot, kind: str) -> list:
    return [m for m in bot.world.store.outbox if m.kind == kind and m.recipient == "author"]


async def test_a_weekly_series_paid_at_once_is_one_link_and_one_confirmation(make_bot):
    bot = await series_bot(make_bot, SeriesPayment.PER_SERIES)
    mary = bot.user()
    await author_for(bot, mary)
    await to_summary(bot, mary)
    await mary.say("voice in chapter 2")
    await mary.press("Repeat it")
    await mary.press("Every week")
    await mary.press("4")

    text = mary.text()
    assert "Please check your series" in text and "All of these times are free." in text
    assert text.count("• ") == 4 and "(Europe/Berlin)" in text
    assert "$240.00 for 4 sessions ($60.00 each), paid at once" in text and "Focus: voice in chapter 2" in text
    assert bot.world.store.sessions == {}  # nothing is held by looking
    assert mary.labels() == ["✅ Book 4 sessions", "Pick another time", "‹ Back", "✖ Cancel"]
    await mary.press("Book 4 sessions")

    booked = active(bot)
    assert [s.status for s in booked] == [SessionStatus.HELD] * 4
    assert gaps(booked) == [timedelta(weeks=1)] * 3
    assert {s.focus for s in booked} == {"voice in chapter 2"}
    assert bot.world.payments.checkouts == [(booked[0].id, 4 * 6000)]
    assert "4 sessions with Bram Ink are held for you" in mary.text()
    pay = [b for b in mary.buttons() if "url" in b]
    assert [b["text"] for b in pay] == ["💳 Pay $240.00"] and pay[0]["url"] == booked[0].checkout_url

    event = PaymentEvent(
        id="evt_1",
        kind=PaymentKind.PAID,
        provider_type="checkout.session.completed",
        session_id=booked[0].id,
        checkout_ref=booked[0].checkout_ref,
        payment_ref="pi_1",
        amount=4 * 6000,
    )
    assert await payments.handle(bot.ctx, event) is payments.Outcome.CONFIRMED
    assert _to_author(bot, "session_confirmed") == []
    [confirmed] = _to_author(bot, "series_confirmed")
    held_message = mary.messages()[-1]
    before = len(bot.api.calls)
    await _notifier(bot).deliver(confirmed)

    [sent] = [c for c in bot.api.calls[before:] if c.method == "sendDocument"]
    caption = sent["caption"]
    assert "Your series is booked: 4 sessions" in caption and caption.count("• ") == 4
    assert "Paid: $240.00." in caption and "(Europe/Berlin)" in caption
    assert sent["document"].startswith("upload:")  # the calendar file of all four
    [edited] = [m for m in mary.messages() if m["message_id"] == held_message["message_id"]]
    assert "confirmed below" in edited["text"] and "reply_markup" not in edited  # no pay button left


async def test_per_occurrence_payment_shows_a_link_for_each_date(make_bot):
    bot = await series_bot(make_bot, SeriesPayment.PER_SESSION)
    mary = bot.user()
    await author_for(bot, mary)
    await to_summary(bot, mary)
    await mary.press("Repeat it")
    await mary.press("Every two weeks")
    await mary.press("3")
    assert "$60.00 per session, paid for each one (3 payments)" in mary.text()
    await mary.press("Book 3 sessions")

    booked = active(bot)
    assert gaps(booked) == [timedelta(weeks=2)] * 2
    pay = [b for b in mary.buttons() if "url" in b]
    assert [b["url"] for b in pay] == [s.checkout_url for s in booked]
    assert all(b["text"].startswith("💳 Pay $60.00 · ") for b in pay)


async def test_dates_not_free_are_shown_before_paying_and_skip_books_the_rest(make_bot):
    bot = await series_bot(make_bot, SeriesPayment.PER_SERIES)
    mary, other = bot.user(), bot.user(502, "Olga")
    await author_for(bot, mary)
    olga = await author_for(bot, other)
    await to_summary(bot, mary)
    taken = summary_start(mary) + timedelta(weeks=1)
    await bookings.book(bot.ctx, bot.world.coaches["bram"].id, olga.id, taken)

    await mary.press("Repeat it")
    await mary.press("Every week")
    await mary.press("3")
    text = mary.text()
    assert "Not free (marked ✖)" in text and text.count("✖ ") == 1 and text.count("• ") == 2
    assert "Added at the end instead" in text
    assert "Price: $60.00 per session you book" in text  # skip books two, append three
    assert [s.author_id for s in active(bot)] == [olga.id]  # still nothing held for Mary
    labels = mary.labels()
    assert "Skip 1 date, book the rest" in labels and "Add 1 date at the end" in labels
    await mary.press("Skip 1 date, book the rest")

    mine = [s for s in active(bot) if s.author_id != olga.id]
    assert len(mine) == 2 and taken not in [s.starts_at for s in mine]
    assert "Not booked (not free)" in mary.text()
    assert bot.world.payments.checkouts[-1] == (mine[0].id, 2 * 6000)  # one checkout for Mary's two


async def test_append_books_as_many_at_the_end(make_bot):
    bot = await series_bot(make_bot, SeriesPayment.PER_SERIES, payments_enabled=False)
    mary, other = bot.user(), bot.user(502, "Olga")
    await author_for(bot, mary)
    olga = await author_for(bot, other)
    await to_summary(bot, mary)
    start = summary_start(mary)
    await bookings.book(bot.ctx, bot.world.coaches["bram"].id, olga.id, start + timedelta(weeks=1))
    await mary.press("Repeat it")
    await mary.press("Every week")
    await mary.press("3")
    await mary.press("Add 1 date at the end")

    mine = [s.starts_at for s in active(bot) if s.author_id != olga.id]
    assert mine == [start, start + timedelta(weeks=2), start + timedelta(weeks=3)]
    assert "Booked: 3 sessions with Bram Ink" in mary.text()
    assert all(s.status is SessionStatus.SCHEDULED for s in active(bot))


async def test_a_date_taken_between_summary_and_confirm_refuses_the_series_and_shows_it_again(make_bot):
    bot = await series_bot(make_bot, SeriesPayment.PER_SERIES)
    mary, other = bot.user(), bot.user(502, "Olga")
    await author_for(bot, mary)
    olga = await author_for(bot, other)
    await to_summary(bot, mary)
    second = summary_start(mary) + timedelta(weeks=1)
    await mary.press("Repeat it")
    await mary.press("Every week")
    await mary.press("2")
    await bookings.book(bot.ctx, bot.world.coaches["bram"].id, olga.id, second)
    await mary.press("Book 2 sessions")

    assert [s.author_id for s in active(bot)] == [olga.id]  # refused: nothing of Mary's is held
    assert "taken meanwhile" in (mary.answer() or "") and "✖ " in mary.text()


async def test_a_single_booking_still_confirms_from_the_summary(make_bot):
    bot = await series_bot(make_bot, SeriesPayment.PER_SERIES)
    mary = bot.user()
    await author_for(bot, mary)
    await to_summary(bot, mary)
    await mary.press("Confirm")
    [session] = active(bot)
    assert session.series_id is None and session.status is SessionStatus.HELD


async def test_cancel_asks_this_one_or_all_following_and_refunds_each_to_the_cent(make_bot):
    bot = await series_bot(make_bot, SeriesPayment.PER_SESSION, payments_enabled=True)
    mary = bot.user()
    author = await author_for(bot, mary)
    coach = await catalog.update_coach(bot.ctx, bot.world.coaches["bram"].id, rate=4999)
    start = _slot_after(bot, days=3)
    booked = await series.book_series(bot.ctx, coach.id, author.id, start, repeat=Repeat.WEEKLY, count=3)
    for k, s in enumerate(booked.sessions):
        await bookings.confirm_payment(bot.ctx, s.id, amount=4999, payment_ref=f"pi_{k}")

    await mary.press_data(f"k:{booked.sessions[1].id}")
    text = mary.text()
    assert "part of a series; 1 later session follows it" in text
    assert "Only this one: <b>$49.99</b> back. This and all following: <b>$99.98</b> back." in text
    assert mary.labels() == ["Only this one", "This and the 1 following", "Keep it"]
    await mary.press("This and the 1 following")

    assert [s.id for s in active(bot)] == [booked.sessions[0].id]
    assert sorted(bot.world.payments.refunded_payments) == [("pi_1", 4999), ("pi_2", 4999)]
    assert "Cancelled:" in mary.text() and "A refund of $99.98 is on its way." in mary.text()


async def test_cancel_only_this_one_leaves_the_rest_of_the_series(make_bot):
    bot = await series_bot(make_bot, SeriesPayment.PER_SESSION, payments_enabled=False)
    mary = bot.user()
    author = await author_for(bot, mary)
    start = _slot_after(bot, days=3)
    booked = await series.book_series(
        bot.ctx, bot.world.coaches["bram"].id, author.id, start, repeat=Repeat.WEEKLY, count=3
    )
    await mary.press_data(f"k:{booked.sessions[0].id}")
    await mary.press("Only this one")
    assert [s.id for s in active(bot)] == [s.id for s in booked.sessions[1:]]
    assert "Cancelled: your session on" in mary.text()


async def test_reschedule_asks_this_one_or_all_following(make_bot):
    bot = await series_bot(make_bot, SeriesPayment.PER_SESSION, payments_enabled=False)
    mary = bot.user()
    author = await author_for(bot, mary)
    start = _slot_after(bot, days=3)
    booked = await series.book_series(
        bot.ctx, bot.world.coaches["bram"].id, author.id, start, repeat=Repeat.WEEKLY, count=3
    )
    new = start + timedelta(hours=1)
    await mary.press_data(f"x:s:{booked.sessions[0].id}:{int(new.timestamp())}")
    assert "move only this one, or this and the 2 following sessions" in mary.text()
    assert mary.labels()[:2] == ["Only this one", "This and the 2 following"]
    await mary.press("This and the 2 following")

    assert [s.starts_at for s in active(bot)] == [new + timedelta(weeks=k) for k in range(3)]
    assert "Moved:" in mary.text() and mary.text().count("• ") == 3


async def test_reschedule_following_onto_a_taken_week_moves_nothing_and_names_it(make_bot):
    bot = await series_bot(make_bot, SeriesPayment.PER_SESSION, payments_enabled=False)
    mary, other = bot.user(), bot.user(502, "Olga")
    author = await author_for(bot, mary)
    olga = await author_for(bot, other)
    start = _slot_after(bot, days=3)
    coach_id = bot.world.coaches["bram"].id
    booked = await series.book_series(bot.ctx, coach_id, author.id, start, repeat=Repeat.WEEKLY, count=2)
    new = start + timedelta(hours=1)
    await bookings.book(bot.ctx, coach_id, olga.id, new + timedelta(weeks=1))
    await mary.press_data(f"x:f:{booked.sessions[0].id}:{int(new.timestamp())}")
    assert "Nothing was moved" in mary.text() and "(Europe/Berlin)" not in mary.text()
    assert [s.starts_at for s in active(bot) if s.author_id == author.id] == [start, start + timedelta(weeks=1)]


def _slot_after(bot, *, days: int) -> datetime:
    """10:00 in New York (Bram works Mon-Fri 09:00-13:00 there) on the first weekday `days` on."""
    local = (bot.ctx.now() + timedelta(days=days)).astimezone(ZoneInfo("America/New_York"))
    while local.weekday() >= 5:
        local += timedelta(days=1)
    return datetime(local.year, local.month, local.day, 10, tzinfo=ZoneInfo("America/New_York"))


async def test_a_series_whose_payment_never_came_is_released_in_one_message(make_bot):
    bot = await series_bot(make_bot, SeriesPayment.PER_SERIES)
    mary = bot.user()
    await author_for(bot, mary)
    await to_summary(bot, mary)
    await mary.press("Repeat it")
    await mary.press("Every week")
    await mary.press("3")
    await mary.press("Book 3 sessions")
    held_message = mary.messages()[-1]
    bot.world.clock.advance(minutes=31)
    assert await holds.expire_holds(bot.ctx) == 3

    before = len(bot.api.calls)
    notifier = _notifier(bot)
    for message in _to_author(bot, "hold_expired"):
        await notifier.deliver(message)
    sent = [c for c in bot.api.calls[before:] if c.method == "sendMessage"]
    assert len(sent) == 1 and sent[0]["text"].count("• ") == 3 and "Nothing was charged" in sent[0]["text"]
    [edited] = [m for m in mary.messages() if m["message_id"] == held_message["message_id"]]
    assert "released" in edited["text"] and "reply_markup" not in edited


def test_one_calendar_file_holds_every_date_of_the_series_each_with_its_session_s_uid():
    coach = Coach(name="Bram", timezone="America/New_York", rate=6000, id=1)
    author = Author(name="Mary", timezone="Europe/Berlin", id=2)
    start = datetime(2030, 3, 5, 15, tzinfo=UTC)
    sessions = [
        Session(
            coach_id=1,
            author_id=2,
            starts_at=start + timedelta(weeks=k),
            ends_at=start + timedelta(weeks=k, hours=1),
            blocked_from=start + timedelta(weeks=k),
            blocked_until=start + timedelta(weeks=k, hours=1),
            duration_minutes=60,
            status=SessionStatus.SCHEDULED,
            price_amount=6000,
            currency="usd",
            id=10 + k,
        )
        for k in range(3)
    ]
    calendar = Calendar.from_ical(series_ics(sessions, coach, author, stamp=start))
    events = calendar.walk("VEVENT")
    assert calendar["method"] == "PUBLISH"
    assert [str(e["uid"]) for e in events] == [session_uid(10), session_uid(11), session_uid(12)]
    assert [e.decoded("dtstart") for e in events] == [s.starts_at for s in sessions]


async def test_a_german_author_sees_the_series_in_german(make_bot):
    from tests.conversations.test_catalogs import ENGLISH, _without_coach_data

    bot = await series_bot(make_bot, SeriesPayment.PER_SERIES)
    klaus = bot.user(first_name="Klaus", language_code="de")
    await klaus.say("/start")
    await klaus.say("berlin")
    await klaus.say("/book")
    await klaus.press("Bram Ink")
    await klaus.press("Nächster freier Termin")
    await klaus.press_data(klaus.buttons()[0]["callback_data"])
    seen: list[str] = []
    for label in ("Wiederholen", "Jede Woche", "3", "3 Sitzungen buchen"):
        if label == "3 Sitzungen buchen":
            assert "Bitte prüfe deine Serie" in klaus.text()
        await klaus.press(label)
        seen += [klaus.text(), *klaus.labels()]
    assert "für dich reserviert" in klaus.text()
    english = [
        (line, found.group())
        for line in seen
        for found in [ENGLISH.search(_without_coach_data(line, bot.world.coaches["bram"]))]
        if found and "/" + found.group() not in line
    ]
    assert english == [], english


async def test_cancelling_an_unpaid_date_shows_the_new_link_for_the_rest(make_bot):
    bot = await series_bot(make_bot, SeriesPayment.PER_SERIES)
    mary = bot.user()
    await author_for(bot, mary)
    await to_summary(bot, mary)
    await mary.press("Repeat it")
    await mary.press("Every week")
    await mary.press("3")
    await mary.press("Book 3 sessions")
    first, second, third = active(bot)

    await mary.press_data(f"k:{second.id}")
    await mary.press("Only this one")

    assert [s.id for s in active(bot)] == [first.id, third.id]
    lead = bot.world.store.sessions[first.id]
    assert "still held for you" in mary.text()
    [pay] = [b for b in mary.buttons() if "url" in b]
    assert pay["text"] == "💳 Pay $120.00" and pay["url"] == lead.checkout_url
    assert bot.world.payments.checkouts[-1] == (first.id, 2 * 6000)


async def test_with_a_later_date_still_unpaid_only_this_one_can_move(make_bot):
    bot = await series_bot(make_bot, SeriesPayment.PER_SESSION)
    mary = bot.user()
    author = await author_for(bot, mary)
    start = _slot_after(bot, days=3)
    booked = await series.book_series(
        bot.ctx, bot.world.coaches["bram"].id, author.id, start, repeat=Repeat.WEEKLY, count=2
    )
    await bookings.confirm_payment(bot.ctx, booked.sessions[0].id, amount=6000, payment_ref="pi_1")
    new = start + timedelta(hours=1)
    await mary.press_data(f"x:s:{booked.sessions[0].id}:{int(new.timestamp())}")
    assert "following" not in " ".join(mary.labels()) and "part of a series" not in mary.text()
    await mary.press("Confirm")
    assert bot.world.store.sessions[booked.sessions[0].id].starts_at == new
