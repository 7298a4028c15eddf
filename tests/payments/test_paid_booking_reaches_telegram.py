"""End to end: a held booking, paid through Stripe Checkout and confirmed by a signed webhook,
reaches the author's Telegram chat as a confirmation with the meeting link and a calendar file."""

import asyncio

from icalendar import Calendar
from telegram.ext import ExtBot

from booking import bookings, catalog, queries
from booking.model import SessionStatus
from booking.outbox import deliver_due
from conversations.telegram.notifier import TelegramNotifier
from tests.local_server import serving
from tests.payments.conftest import open_coach, payment_settings, running_app
from tests.telegram_platform.botapi_standin import TOKEN, BotApiStandIn, build_app

CHAT = 7070


async def test_a_signed_payment_webhook_confirms_the_booking_in_the_author_s_chat(payments_app):
    env, stripe = payments_app, payments_app.standin
    author = await catalog.add_author(env.ctx, name="Tess", timezone="America/New_York", telegram_id=CHAT)
    held = await bookings.book(env.ctx, env.coach_id, author.id, env.slot(48))
    assert held.status is SessionStatus.HELD and held.checkout_url

    answer = await env.deliver(stripe.pay(held.checkout_ref))
    assert answer.status_code == 200 and answer.json()["outcome"] == "confirmed"

    telegram = BotApiStandIn()
    with serving(build_app(telegram), "Bot API stand-in") as base_url:
        telegram.base_url = base_url
        async with ExtBot(TOKEN, base_url=telegram.api_url, base_file_url=base_url + "/file/bot") as bot:
            sent = await deliver_due(env.container.db.uow, TelegramNotifier(bot, env.ctx, now=env.clock.now), env.clock)

    assert sent >= 1 and telegram.violations == []
    session = await queries.session(env.ctx, held.id)
    [confirmation] = [c for c in telegram.calls_to("sendDocument") if c.chat_id == CHAT]
    assert session.meeting_url and session.meeting_url in confirmation.params["caption"]
    assert "(America/New_York)" in confirmation.params["caption"]
    filename, content = confirmation.files["document"]
    event = Calendar.from_ical(content).walk("VEVENT")[0]
    assert filename.endswith(".ics") and event.decoded("dtstart") == session.starts_at


async def test_the_confirmation_leaves_when_the_payment_commits_not_at_the_next_tick(database_url, standin):
    """The delivery as `coachbot serve` runs it, told to look again only every hour: the signed
    webhook's commit alone must make the confirmation leave (issue 11: paid to chat in 2 s)."""
    telegram = BotApiStandIn()
    with serving(build_app(telegram), "Bot API stand-in") as base_url:
        telegram.base_url = base_url
        settings = payment_settings(database_url, standin, telegram_bot_token=TOKEN, telegram_api_url=telegram.api_url)
        async with running_app(settings, standin) as env:
            assert env.container.telegram is not None  # the production wiring: delivery sends through the bot
            env.container.delivery.poll = 3600
            env.container.delivery.start()
            await asyncio.sleep(0.2)  # its first look found nothing: it waits for an hour or a wake-up
            coach_id = await open_coach(env.ctx)
            author = await catalog.add_author(env.ctx, name="Tess", timezone="America/New_York", telegram_id=CHAT)
            held = await bookings.book(env.ctx, coach_id, author.id, env.slot(48))
            answer = await env.deliver(standin.pay(held.checkout_ref))
            assert answer.json()["outcome"] == "confirmed"
            sent = await telegram.wait_for(lambda: [c for c in telegram.calls_to("sendDocument") if c.chat_id == CHAT])
            assert sent[0].files["document"][0] == f"coaching-session-{held.id}.ics"
