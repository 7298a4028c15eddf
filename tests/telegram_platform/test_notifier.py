"""TelegramNotifier: every outbox kind rendered from real use cases (in-memory fakes, fixed
clock) and sent over HTTP to the Bot API stand-in by a real python-telegram-bot ExtBot with
AIORateLimiter; the stand-in refuses what Telegram would (bad HTML, long texts, bad buttons).
The last tests run the production wiring (bot.telegram_app) on the database backends."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from icalendar import Calendar
from telegram.error import TelegramError
from telegram.ext import AIORateLimiter, ExtBot

from booking import bookings, cancellation, catalog, holds, lifecycle, materials, refunds, rescheduling
from booking.context import Context
from booking.events import RefundReason
from booking.model import Actor, Author, Coach, OutboxMessage, Session
from booking.outbox import Undeliverable, deliver_due
from bot.container import Container
from bot.telegram_app import TelegramBot
from conversations.telegram.notifier import TelegramNotifier, local_time, span
from tests.fakes import FakeClock, FakePayments, FakeVideo, Store, make_context
from tests.telegram_platform.botapi_standin import TOKEN
from tests.telegram_platform.conftest import telegram_settings

WED_10 = datetime(2030, 1, 9, 10, tzinfo=UTC)  # 05:00 in New York (EST), 11:00 in Berlin
THU_10 = datetime(2030, 1, 10, 10, tzinfo=UTC)
CHAT = 5151
NEW_YORK_WED = "Wed 9 Jan 2030, 05:00 EST (America/New_York)"


@dataclass
class World:
    ctx: Context
    store: Store
    clock: FakeClock
    payments: FakePayments
    video: FakeVideo
    coach: Coach
    author: Author
    notifier: TelegramNotifier

    def outbox(self, kind: str, session_id: int | None = None, to: str = "author") -> list[OutboxMessage]:
        """The messages of this kind for `to` (coaches get copies of some of the authors')."""
        return [
            m
            for m in self.store.outbox
            if m.kind == kind and m.recipient == to and (session_id is None or m.session_id == session_id)
        ]

    def last(self, kind: str, session_id: int | None = None, to: str = "author") -> OutboxMessage:
        return self.outbox(kind, session_id, to)[-1]


@pytest.fixture
async def bot(botapi):
    bot = ExtBot(
        TOKEN,
        base_url=botapi.api_url,
        base_file_url=botapi.base_url + "/file/bot",
        rate_limiter=AIORateLimiter(max_retries=3),
    )
    async with bot:  # getMe
        botapi.calls.clear()
        yield bot


async def make_world(bot, *, payments: bool = False, telegram_id: int | None = CHAT) -> World:
    ctx, store, clock, pay, video = make_context(payments_enabled=payments)
    coach = await catalog.add_coach(ctx, name="Maya <Lind> & Co", timezone="Europe/Berlin", rate=6000, durations=[60])
    for day in ("mon", "tue", "wed", "thu", "fri"):
        await catalog.add_rule(ctx, coach.id, weekday=day, start="09:00", end="17:00")
    author = await catalog.add_author(ctx, name="Ann", timezone="America/New_York", telegram_id=telegram_id)
    notifier = TelegramNotifier(bot, ctx, now=clock.now)
    return World(ctx, store, clock, pay, video, coach, author, notifier)


@pytest.fixture
async def world(bot) -> World:
    return await make_world(bot)


@pytest.fixture
async def paying(bot) -> World:
    return await make_world(bot, payments=True)


async def paid_session(w: World, start: datetime = WED_10) -> Session:
    held = await bookings.book(w.ctx, w.coach.id, w.author.id, start)
    return await bookings.confirm_payment(w.ctx, held.id, amount=held.price_amount, payment_ref="pi_1")


def only_call(botapi, method: str):
    calls = list(botapi.calls)
    assert [c.method for c in calls] == [method], [c.method for c in calls]
    assert calls[0].chat_id == CHAT
    return calls[0]


# ---- each kind ----------------------------------------------------------------------------------


async def test_confirmation_has_time_in_the_authors_zone_link_and_a_calendar_file(world, botapi):
    session = await bookings.book(world.ctx, world.coach.id, world.author.id, WED_10)
    await world.notifier.deliver(world.last("session_confirmed"))
    call = only_call(botapi, "sendDocument")
    caption = call.params["caption"]
    assert NEW_YORK_WED in caption and "60 min" in caption
    assert "Maya &lt;Lind&gt; &amp; Co" in caption  # names are escaped for HTML
    assert "https://video.test/room-1" in caption
    filename, content = call.files["document"]
    assert filename == f"coaching-session-{session.id}.ics"
    event = Calendar.from_ical(content).walk("VEVENT")[0]
    assert event.decoded("dtstart") == WED_10 and event.decoded("dtend") == WED_10 + timedelta(hours=1)
    assert str(event["uid"]) == f"session-{session.id}@coachbot"
    assert str(event["url"]) == "https://video.test/room-1"
    assert "Maya <Lind> & Co" in str(event["summary"])
    assert call.params["reply_markup"]["inline_keyboard"][0][0]["url"] == "https://video.test/room-1"


def calendar_links(call) -> dict[str, dict[str, list[str]]]:
    """The calendar buttons of a message: label -> the query of its link."""
    found = {}
    for row in call.params["reply_markup"]["inline_keyboard"]:
        for button in row:
            if button["text"] in ("📅 Google Calendar", "📅 Outlook"):
                found[button["text"]] = (button["url"].split("?")[0], parse_qs(urlsplit(button["url"]).query))
    return found


async def test_confirmation_has_google_and_outlook_links_beside_the_calendar_file(world, botapi):
    session = await bookings.book(world.ctx, world.coach.id, world.author.id, WED_10, focus="the ending")
    await world.notifier.deliver(world.last("session_confirmed"))
    links = calendar_links(only_call(botapi, "sendDocument"))
    google, query = links["📅 Google Calendar"]
    assert google == "https://calendar.google.com/calendar/render" and query["action"] == ["TEMPLATE"]
    assert query["dates"] == ["20300109T100000Z/20300109T110000Z"]
    assert query["text"] == ["Writing coaching with Maya <Lind> & Co"]
    assert "Focus: the ending" in query["details"][0] and query["location"] == [session.meeting_url]
    outlook, query = links["📅 Outlook"]
    assert outlook == "https://outlook.live.com/calendar/0/deeplink/compose"
    assert query["startdt"] == ["2030-01-09T10:00:00Z"] and query["enddt"] == ["2030-01-09T11:00:00Z"]
    assert query["subject"] == ["Writing coaching with Maya <Lind> & Co"] and query["rru"] == ["addevent"]

    botapi.reset()
    world.clock.advance(minutes=5)
    await rescheduling.reschedule(world.ctx, session.id, THU_10, by=Actor.COACH)
    await world.notifier.deliver(world.last("session_rescheduled", session.id))
    _, query = calendar_links(only_call(botapi, "sendDocument"))["📅 Google Calendar"]
    assert query["dates"] == ["20300110T100000Z/20300110T110000Z"]


async def test_reminder_carries_the_join_link(world, botapi):
    session = await bookings.book(world.ctx, world.coach.id, world.author.id, WED_10)
    hour_before = next(m for m in world.outbox("reminder", session.id) if m.payload["minutes_before"] == 60)
    await world.notifier.deliver(hour_before)
    text = only_call(botapi, "sendMessage").params["text"]
    assert "starts in 1 hour" in text and NEW_YORK_WED in text and "https://video.test/room-1" in text


async def test_a_reminder_for_a_start_that_has_moved_is_skipped(world, botapi):
    session = await bookings.book(world.ctx, world.coach.id, world.author.id, WED_10)
    stale = world.outbox("reminder", session.id)
    await rescheduling.reschedule(world.ctx, session.id, THU_10, by=Actor.AUTHOR, author_id=world.author.id)
    for message in stale:
        await world.notifier.deliver(message)
    assert [c.method for c in botapi.calls] == []
    fresh = [m for m in world.outbox("reminder", session.id) if m.payload["starts_at"] == THU_10.isoformat()]
    await world.notifier.deliver(fresh[0])
    assert "Thu 10 Jan 2030, 05:00 EST" in only_call(botapi, "sendMessage").params["text"]


async def test_a_reminder_for_a_cancelled_session_is_skipped(world, botapi):
    session = await bookings.book(world.ctx, world.coach.id, world.author.id, WED_10)
    await cancellation.cancel(world.ctx, session.id, by=Actor.COACH)
    for message in world.outbox("reminder", session.id) + world.outbox("starting_now", session.id):
        await world.notifier.deliver(message)
    assert botapi.calls_to("sendMessage") == []


async def test_starting_now_has_a_join_button(world, botapi):
    session = await bookings.book(world.ctx, world.coach.id, world.author.id, WED_10)
    world.clock.set(WED_10)
    await world.notifier.deliver(world.last("starting_now", session.id))
    call = only_call(botapi, "sendMessage")
    assert "starting now" in call.params["text"]
    assert call.params["reply_markup"]["inline_keyboard"][0][0] == {
        "text": "Join the session",
        "url": "https://video.test/room-1",
    }


async def test_starting_now_without_a_meeting_link_is_retried(world, botapi):
    world.video.fail = True
    session = await bookings.book(world.ctx, world.coach.id, world.author.id, WED_10)
    assert session.meeting_url is None
    with pytest.raises(RuntimeError, match="no meeting link"):
        await world.notifier.deliver(world.last("starting_now", session.id))
    assert botapi.calls_to("sendMessage") == []


async def test_cancellation_by_the_coach_names_the_refund_in_its_one_message(paying, botapi):
    session = await paid_session(paying)
    await cancellation.cancel(paying.ctx, session.id, by=Actor.COACH, reason="ill")
    await paying.notifier.deliver(paying.last("session_cancelled", session.id))
    call = only_call(botapi, "sendDocument")
    text = call.params["caption"]
    calendar = Calendar.from_ical(call.files["document"][1])
    assert calendar["method"] == "CANCEL" and calendar.walk("VEVENT")[0]["status"] == "CANCELLED"
    assert "cancelled by your coach" in text and "Refund: $60.00" in text and "Reason: ill" in text
    assert paying.outbox("refund_sent", session.id) == []  # paid at once: no second message


async def test_a_refund_paid_later_is_announced_when_it_is_paid(paying, botapi):
    session = await paid_session(paying)
    paying.payments.fail_refund = True
    await cancellation.cancel(paying.ctx, session.id, by=Actor.COACH, reason="ill")
    assert paying.outbox("refund_sent", session.id) == []
    paying.payments.fail_refund = False
    paying.clock.advance(minutes=3)  # past refunds.SETTLING: the scheduler's retry
    assert await refunds.settle_refunds(paying.ctx) == 1
    await paying.notifier.deliver(paying.last("refund_sent", session.id))
    assert "Refund sent" in only_call(botapi, "sendMessage").params["text"]


async def test_cancelling_a_hold_says_nothing_was_charged(paying, botapi):
    held = await bookings.book(paying.ctx, paying.coach.id, paying.author.id, WED_10)
    await cancellation.cancel(paying.ctx, held.id, by=Actor.AUTHOR, author_id=paying.author.id)
    await paying.notifier.deliver(paying.last("session_cancelled", held.id))
    text = only_call(botapi, "sendMessage").params["text"]
    assert "cancelled by you" in text and "Nothing was charged" in text


async def test_reschedule_sends_the_new_time_and_an_updated_calendar_file(world, botapi):
    session = await bookings.book(world.ctx, world.coach.id, world.author.id, WED_10)
    world.clock.advance(minutes=5)
    await rescheduling.reschedule(world.ctx, session.id, THU_10, by=Actor.COACH)
    await world.notifier.deliver(world.last("session_rescheduled", session.id))
    call = only_call(botapi, "sendDocument")
    assert "moved by your coach from " + NEW_YORK_WED in call.params["caption"]
    assert "Thu 10 Jan 2030, 05:00 EST (America/New_York)" in call.params["caption"]
    event = Calendar.from_ical(call.files["document"][1]).walk("VEVENT")[0]
    assert event.decoded("dtstart") == THU_10 and str(event["uid"]) == f"session-{session.id}@coachbot"
    assert int(event["sequence"]) > 0


async def test_hold_expired(paying, botapi):
    held = await bookings.book(paying.ctx, paying.coach.id, paying.author.id, WED_10)
    paying.clock.advance(hours=1)
    assert await holds.expire_holds(paying.ctx) == 1
    await paying.notifier.deliver(paying.last("hold_expired", held.id))
    text = only_call(botapi, "sendMessage").params["text"]
    assert "Hold released" in text and "Nothing was charged" in text and NEW_YORK_WED in text


def book_again(call, coach: Coach) -> None:
    """The message points to /book, never /start (which only welcomes a known author back), and
    its button opens the coach's card."""
    text = call.params.get("text") or call.params.get("caption")
    assert "/start" not in text and "/book" in text
    buttons = [b for row in call.params["reply_markup"]["inline_keyboard"] for b in row]
    assert {"text": "📅 Book again", "callback_data": f"a:{coach.id}"} in buttons


async def test_messages_that_end_a_booking_offer_to_book_again(paying, botapi):
    held = await bookings.book(paying.ctx, paying.coach.id, paying.author.id, WED_10)
    paying.clock.advance(hours=1)
    await holds.expire_holds(paying.ctx)
    await paying.notifier.deliver(paying.last("hold_expired", held.id))
    book_again(only_call(botapi, "sendMessage"), paying.coach)

    botapi.reset()
    session = await paid_session(paying, THU_10)
    await cancellation.cancel(paying.ctx, session.id, by=Actor.COACH, reason="ill")
    await paying.notifier.deliver(paying.last("session_cancelled", session.id))
    book_again(only_call(botapi, "sendDocument"), paying.coach)

    botapi.reset()
    missed = await paid_session(paying, THU_10 + timedelta(hours=2))
    paying.clock.set(THU_10 + timedelta(hours=2, minutes=20))
    await lifecycle.no_show(paying.ctx, missed.id, who=Actor.COACH)
    await paying.notifier.deliver(paying.last("session_no_show", missed.id))
    book_again(only_call(botapi, "sendMessage"), paying.coach)


async def test_payment_refunded_because_the_slot_was_taken(paying, botapi):
    held = await bookings.book(paying.ctx, paying.coach.id, paying.author.id, WED_10)
    message = OutboxMessage(
        kind="payment_refunded",
        session_id=held.id,
        due_at=paying.clock.now(),
        payload={"amount": 6000, "reason": "slot_taken"},
        id=900,
    )
    await paying.notifier.deliver(message)
    text = only_call(botapi, "sendMessage").params["text"]
    assert "refunded the full $60.00" in text and "booked that time" in text


async def test_rating_prompt_has_five_star_buttons_and_is_skipped_once_rated(world, botapi):
    session = await bookings.book(world.ctx, world.coach.id, world.author.id, WED_10)
    world.clock.set(WED_10 + timedelta(hours=2))
    await lifecycle.advance_statuses(world.ctx)
    prompt = world.last("rating_prompt", session.id)
    await world.notifier.deliver(prompt)
    call = only_call(botapi, "sendMessage")
    buttons = call.params["reply_markup"]["inline_keyboard"]
    assert [b["callback_data"] for b in buttons[0]] == [f"r:{session.id}:{n}" for n in range(1, 6)]
    # stars look the same here as in the chat's own rating buttons and texts
    assert [b["text"] for b in buttons[0]] == [f"{n} ★" for n in range(1, 6)] and "⭐" not in call.params["text"]
    botapi.reset()
    await lifecycle.rate(world.ctx, session.id, author_id=world.author.id, stars=5)
    await world.notifier.deliver(prompt)
    await world.notifier.deliver(world.last("session_rated", session.id, to="coach"))  # for the coach: not sent here
    assert botapi.calls == []


async def test_coach_no_show_apologises_with_the_refund(paying, botapi):
    session = await paid_session(paying)
    paying.clock.set(WED_10 + timedelta(minutes=20))
    await lifecycle.no_show(paying.ctx, session.id, who=Actor.COACH)
    await paying.notifier.deliver(paying.last("session_no_show", session.id))
    text = only_call(botapi, "sendMessage").params["text"]
    assert "did not join" in text and "$60.00" in text


async def test_coach_material_with_a_telegram_file_is_sent_as_that_document(world, botapi):
    session = await bookings.book(world.ctx, world.coach.id, world.author.id, WED_10)
    botapi.add_file("BQACAgIAAxk-coach-notes", "documents/notes.pdf", b"%PDF-1.4 notes")
    await materials.add_material(
        world.ctx,
        session.id,
        by=Actor.COACH,
        actor_id=world.coach.id,
        kind="notes",
        title="Chapter 1 <notes>",
        file_ref="tg:BQACAgIAAxk-coach-notes",
    )
    await world.notifier.deliver(world.last("material_shared", session.id))
    call = only_call(botapi, "sendDocument")
    assert call.params["document"] == "BQACAgIAAxk-coach-notes"
    assert "Chapter 1 &lt;notes&gt;" in call.params["caption"]


async def test_coach_material_as_text_and_long_text_as_a_file(world, botapi):
    session = await bookings.book(world.ctx, world.coach.id, world.author.id, WED_10)
    await materials.add_material(
        world.ctx,
        session.id,
        by=Actor.COACH,
        actor_id=world.coach.id,
        kind="homework",
        title="Exercise",
        content="Write 500 words & keep <tension>.",
    )
    await world.notifier.deliver(world.last("material_shared", session.id))
    assert "Write 500 words &amp; keep &lt;tension&gt;." in only_call(botapi, "sendMessage").params["text"]
    botapi.reset()
    long_text = "word " * 3000
    await materials.add_material(
        world.ctx,
        session.id,
        by=Actor.COACH,
        actor_id=world.coach.id,
        kind="notes",
        title="Long notes",
        content=long_text,
    )
    await world.notifier.deliver(world.last("material_shared", session.id))
    call = only_call(botapi, "sendDocument")
    assert call.files["document"] == ("Long notes.txt", long_text.strip().encode())


async def test_materials_the_author_shared_are_for_the_coach(world, botapi):
    session = await bookings.book(world.ctx, world.coach.id, world.author.id, WED_10)
    await materials.add_material(
        world.ctx,
        session.id,
        by=Actor.AUTHOR,
        actor_id=world.author.id,
        kind="manuscript",
        title="Draft",
        content="Once upon a time",
    )
    await world.notifier.deliver(world.last("material_shared", session.id, to="coach"))
    assert botapi.calls == []


async def test_an_author_without_telegram_is_closed_unsent_and_the_admins_are_told(bot, botapi):
    w = await make_world(bot, telegram_id=None)
    await bookings.book(w.ctx, w.coach.id, w.author.id, WED_10)
    await deliver_due(w.ctx.uow, w.notifier, w.clock)
    assert botapi.calls == []
    due = [m for m in w.store.outbox if m.recipient == "author" and m.due_at <= w.clock.now()]
    assert due and all(m.sent_at and m.last_error and "no Telegram chat" in m.last_error for m in due)
    notices = [m for m in w.store.outbox if m.kind == "delivery_failed"]
    assert [(m.recipient, m.payload["failed_kind"]) for m in notices] == [("admin", "session_confirmed")]


async def test_a_blocked_bot_is_undeliverable_and_a_server_error_is_retried(world, botapi):
    session = await bookings.book(world.ctx, world.coach.id, world.author.id, WED_10)
    reminder = world.outbox("reminder", session.id)[0]
    botapi.fail("sendMessage", 403, "Forbidden: bot was blocked by the user")
    with pytest.raises(Undeliverable, match="blocked the bot"):  # closed: the author has to unblock us first
        await world.notifier.deliver(reminder)
    botapi.fail("sendMessage", 500, "Internal Server Error")
    with pytest.raises(TelegramError):  # raised: the outbox retries it later
        await world.notifier.deliver(reminder)
    await world.notifier.deliver(reminder)
    assert len(botapi.calls_to("sendMessage")) == 3


def test_times_and_spans_read_naturally():
    assert local_time(WED_10, "Europe/Berlin") == "Wed 9 Jan 2030, 11:00 CET (Europe/Berlin)"
    assert (
        local_time(datetime(2030, 7, 1, 12, tzinfo=UTC), "Asia/Kolkata") == "Mon 1 Jul 2030, 17:30 IST (Asia/Kolkata)"
    )
    assert [span(m) for m in (30, 60, 90, 1440, 2880)] == [
        "in 30 minutes",
        "in 1 hour",
        "in 90 minutes",
        "in 1 day",
        "in 2 days",
    ]


# ---- the production wiring on the database ----------------------------------------------------


async def _book(container: Container, telegram_id: int) -> Session:
    ctx = container.ctx
    coach = await catalog.add_coach(ctx, name="Maya Lind", timezone="Europe/Berlin", rate=6000, durations=[60])
    for day in ("mon", "tue", "wed", "thu", "fri"):
        await catalog.add_rule(ctx, coach.id, weekday=day, start="09:00", end="17:00")
    author = await catalog.add_author(ctx, name="Ann", timezone="America/New_York", telegram_id=telegram_id)
    return await bookings.book(ctx, coach.id, author.id, WED_10)


async def test_429_retry_after_is_waited_out_and_the_message_arrives(database_url, botapi, handlers):
    container = Container(telegram_settings(database_url, botapi), clock=FakeClock(), video=FakeVideo())
    telegram = TelegramBot(container, register=handlers)
    container.use_telegram(telegram)
    try:
        await telegram.application.bot.initialize()
        session = await _book(container, CHAT)
        botapi.fail("sendDocument", 429, "Too Many Requests: retry after 1", retry_after=1)
        sent = await deliver_due(container.db.uow, container.notifier, container.clock)
        assert sent == 1  # the confirmation (no calendar push: the coach has no CalDAV calendar)
        first, second = botapi.calls_to("sendDocument")
        assert second.at - first.at >= 1.0  # retry_after honoured by AIORateLimiter
        assert second.chat_id == CHAT and second.files["document"][0] == f"coaching-session-{session.id}.ics"
        async with container.db.uow() as tx:
            confirmation = [
                m
                for m in await tx.outbox.claim_due(
                    WED_10, limit=50, stale_before=WED_10, recipients=frozenset({"author"})
                )
                if m.kind == "session_confirmed"
            ]
        assert confirmation == []  # marked sent, never claimed again
    finally:
        await telegram.application.bot.shutdown()
        await container.close()


async def test_a_failed_send_stays_in_the_outbox_for_a_retry(database_url, botapi, handlers):
    container = Container(telegram_settings(database_url, botapi), clock=FakeClock(), video=FakeVideo())
    telegram = TelegramBot(container, register=handlers)
    container.use_telegram(telegram)
    try:
        await telegram.application.bot.initialize()
        await _book(container, CHAT)
        botapi.fail("sendDocument", 502, "Bad Gateway")
        # nothing is done (and no calendar push was queued: the coach has no CalDAV calendar)
        assert await deliver_due(container.db.uow, container.notifier, container.clock) == 0
        container.clock.advance(minutes=5)
        assert await deliver_due(container.db.uow, container.notifier, container.clock) == 1
        assert [c.chat_id for c in botapi.calls_to("sendDocument")] == [CHAT, CHAT]
    finally:
        await telegram.application.bot.shutdown()
        await container.close()


async def test_files_are_fetched_from_the_file_url_next_to_the_api_url(database_url, botapi, handlers):
    container = Container(telegram_settings(database_url, botapi))
    telegram = TelegramBot(container, register=handlers)
    bot = telegram.application.bot
    try:
        await bot.initialize()
        botapi.add_file("BQACAgIAAxk-manuscript", "documents/file_9.docx", b"PK\x03\x04 chapter one")
        found = await bot.get_file("BQACAgIAAxk-manuscript")
        assert found.file_path == f"{botapi.base_url}/file/bot{TOKEN}/documents/file_9.docx"
        assert bytes(await found.download_as_bytearray()) == b"PK\x03\x04 chapter one"
    finally:
        await bot.shutdown()
        await container.close()


@pytest.mark.parametrize("reason", [r.value for r in RefundReason])
async def test_every_reason_for_giving_a_payment_back_is_explained(paying, botapi, reason):
    held = await bookings.book(paying.ctx, paying.coach.id, paying.author.id, WED_10)
    message = OutboxMessage(
        kind="payment_refunded",
        session_id=held.id,
        due_at=paying.clock.now(),
        payload={"amount": 6000, "reason": reason},
        id=901,
    )
    await paying.notifier.deliver(message)
    text = only_call(botapi, "sendMessage").params["text"]
    assert "Payment refunded" in text and "$60.00" in text
