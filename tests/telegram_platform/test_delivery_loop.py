"""The outbox's delivery loop in the production wiring (bot.container, bot.scheduler,
bot.telegram_app) against the Bot API stand-in over HTTP: a commit wakes it, so a new message does
not wait for a tick or a poll; it starts and stops with the scheduler; a batch is rendered from one
read of its sessions, authors and coaches; and each chat gets its messages in order, never two
within Telegram's one second per chat (the stand-in refuses those with a 429, as `StrictLimits`)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import event

from bench.delivery import StrictLimits
from booking import bookings, catalog
from booking.outbox import deliver_due
from bot.container import Container
from bot.http import create_app
from bot.telegram_app import TelegramBot
from tests.fakes import FakeClock, FakeVideo
from tests.local_server import serving
from tests.telegram_platform.botapi_standin import BotApiStandIn, build_app
from tests.telegram_platform.conftest import telegram_settings

WED_10 = datetime(2030, 1, 9, 10, tzinfo=UTC)
FAST_POLL = timedelta(seconds=1)


async def _open_coach(container: Container):
    coach = await catalog.add_coach(
        container.ctx, name="Maya Lind", timezone="Europe/Berlin", rate=6000, durations=[60]
    )
    for day in ("mon", "tue", "wed", "thu", "fri"):
        await catalog.add_rule(container.ctx, coach.id, weekday=day, start="09:00", end="17:00")
    return coach


async def _book(container: Container, coach, chat: int, start: datetime):
    author = await catalog.author_by_telegram(container.ctx, chat) or await catalog.add_author(
        container.ctx, name="Ann", timezone="America/New_York", telegram_id=chat
    )
    return await bookings.book(container.ctx, coach.id, author.id, start)


async def test_a_message_leaves_when_it_commits_not_at_the_next_poll(database_url, botapi, handlers):
    container = Container(telegram_settings(database_url, botapi), clock=FakeClock(), video=FakeVideo())
    telegram = TelegramBot(container, register=handlers)
    container.use_telegram(telegram)
    container.delivery.poll = 3600  # only a wake-up can make it look again
    await telegram.application.bot.initialize()
    try:
        coach = await _open_coach(container)
        container.delivery.start()
        await asyncio.sleep(0.2)  # its first look found nothing: it waits
        session = await _book(container, coach, 6161, WED_10)
        sent = await botapi.wait_for(lambda: [c for c in botapi.calls_to("sendDocument") if c.chat_id == 6161])
        assert sent[0].files["document"][0] == f"coaching-session-{session.id}.ics"
    finally:
        await container.close()
        await telegram.application.bot.shutdown()
    async with container.db.uow() as tx:
        confirmation = await tx.outbox.claim_due(
            WED_10, limit=10, stale_before=WED_10, recipients=frozenset({"author"})
        )
    assert "session_confirmed" not in {m.kind for m in confirmation}  # marked sent


async def test_the_scheduler_runs_the_delivery_loop_and_stops_it(database_url, botapi, handlers):
    container = Container(telegram_settings(database_url, botapi), clock=FakeClock(), video=FakeVideo())
    telegram = TelegramBot(container, register=handlers, poll_timeout=FAST_POLL)
    app = create_app(container, telegram=telegram)  # with the scheduler
    async with app.router.lifespan_context(app):
        coach = await _open_coach(container)
        await _book(container, coach, 6262, WED_10)
        await botapi.wait_for(lambda: [c for c in botapi.calls_to("sendDocument") if c.chat_id == 6262])
        task = container.delivery._task
        assert task is not None and not task.done()
    assert task.done()  # stopped with the server, before the database closed


async def test_a_batch_is_read_once_and_each_chat_gets_its_messages_in_order(database_url):
    state = BotApiStandIn()
    limits = StrictLimits(build_app(state), state=state)
    with serving(limits, "strict Bot API stand-in") as base_url:
        state.base_url = base_url
        container = Container(telegram_settings(database_url, state), clock=FakeClock(), video=FakeVideo())
        telegram = TelegramBot(container, register=lambda *args, **kwargs: None)
        await telegram.application.bot.initialize()
        try:
            coach = await _open_coach(container)
            chats, booked = [7001, 7002, 7003, 7004], {}
            for day in range(3):
                for hour, chat in enumerate(chats):
                    start = WED_10 + timedelta(days=day, hours=hour)
                    booked.setdefault(chat, []).append((await _book(container, coach, chat, start)).id)

            reads: list[str] = []

            def record(conn, cursor, statement, *args):
                if any(f"FROM {table}" in statement for table in ("sessions", "authors", "coaches")):
                    reads.append(statement)

            engine = container.db.engine.sync_engine
            event.listen(engine, "before_cursor_execute", record)
            try:
                done = await deliver_due(container.db.uow, telegram.notifier, container.clock)
            finally:
                event.remove(engine, "before_cursor_execute", record)
        finally:
            await telegram.application.bot.shutdown()
            await container.close()

    assert done == 12 and len(reads) == 1  # one read for the batch's sessions, authors and coaches
    assert state.violations == [] and dict(limits.refused) == {}  # no 429: one chat, one message a second
    for chat in chats:
        files = [c.files["document"][0] for c in state.calls_to("sendDocument") if c.chat_id == chat]
        assert files == [f"coaching-session-{session_id}.ics" for session_id in booked[chat]]


async def test_the_bot_closes_only_after_the_delivery_sending_through_it_has_stopped(database_url, botapi, handlers):
    """On shutdown the sends under way finish (or are given back) before the bot's HTTP client
    closes; otherwise they fail half-way and may reach Telegram twice."""
    container = Container(telegram_settings(database_url, botapi), clock=FakeClock(), video=FakeVideo())
    telegram = TelegramBot(container, register=handlers, poll_timeout=timedelta(seconds=1))
    app = create_app(container, telegram=telegram)
    seen: dict[str, bool] = {}
    real_shutdown = telegram.application.shutdown

    async def shutdown() -> None:
        task = container.delivery._task
        seen["delivery running when the bot closed"] = task is not None and not task.done()
        await real_shutdown()

    telegram.application.shutdown = shutdown
    async with app.router.lifespan_context(app):
        coach = await _open_coach(container)
        await _book(container, coach, 7000, WED_10)
    assert seen == {"delivery running when the bot closed": False}
