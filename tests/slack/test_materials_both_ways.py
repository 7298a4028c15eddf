"""Materials between the two front ends, end to end: one server (Container + Starlette app, in
process) with the Slack app against the Slack Web API stand-in and the Telegram bot (real
python-telegram-bot) against the Bot API stand-in, both on one database.

- A coach shares a text and a link from the session's card in Slack; the author receives it in
  Telegram (the MaterialShared event through the Telegram notifier)."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
import pytest

from booking import bookings, catalog, coach_accounts
from booking.outbox import deliver_due
from bot.container import Container
from bot.http import create_app
from bot.settings import Settings
from bot.telegram_app import TelegramBot
from conversations.slack import render
from tests.fakes import FakeClock, FakeVideo
from tests.local_server import serving
from tests.slack import signing
from tests.slack.standin import TOKEN as SLACK_TOKEN
from tests.slack.standin import SlackStandin
from tests.telegram_platform.botapi_standin import TOKEN as TELEGRAM_TOKEN
from tests.telegram_platform.botapi_standin import BotApiStandIn, build_app

COACH_USER = signing.COACH_ID
AUTHOR_CHAT = 77
START = datetime(2030, 3, 6, 15, 0, tzinfo=UTC)  # Wednesday 16:00 in Berlin


@pytest.fixture(scope="module")
def _botapi_server():
    state = BotApiStandIn()
    with serving(build_app(state), "Bot API stand-in") as base_url:
        state.base_url = base_url
        yield state


@pytest.fixture
def botapi(_botapi_server):
    _botapi_server.reset()
    yield _botapi_server
    assert _botapi_server.violations == [], "requests the real Bot API would refuse"
    assert _botapi_server.unknown == []


@dataclass
class Both:
    container: Container
    http: httpx.AsyncClient
    slack: SlackStandin
    botapi: BotApiStandIn
    telegram: TelegramBot | None
    coach_id: int
    author_id: int
    session_id: int

    @property
    def ctx(self):
        return self.container.ctx

    async def post(self, body: str):
        return await self.http.post(
            "/slack/events", content=body, headers=signing.signed_headers(signing.SIGNING_SECRET, body)
        )

    def card(self) -> dict:
        """The session's card in the coach's DM, as Slack holds it."""
        return next(
            m
            for m in self.slack.stored_messages.values()
            if not m.get("thread_ts") and f"session:{self.session_id}" in str(m.get("blocks"))
        )

    async def deliver(self) -> int:
        return await deliver_due(self.container.db.uow, self.container.notifier, self.container.clock)


@contextlib.asynccontextmanager
async def serving_both(database_url: str, slack: SlackStandin, botapi: BotApiStandIn, *, telegram: bool = True):
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        database_url=database_url,
        slack_bot_token=SLACK_TOKEN,
        slack_signing_secret=signing.SIGNING_SECRET,
        slack_api_url=slack.base_url,
        telegram_bot_token=TELEGRAM_TOKEN if telegram else None,
        telegram_api_url=botapi.api_url,
    )
    container = Container(settings, clock=FakeClock(datetime(2030, 3, 4, 9, 0, tzinfo=UTC)), video=FakeVideo())
    app = create_app(container, run_scheduler=False, telegram=None)
    bot = None
    if telegram:  # the bot as the server runs it, without polling for updates
        bot = TelegramBot(container)
        container.use_telegram(bot)
        await bot.application.bot.initialize()
    try:
        async with app.router.lifespan_context(app):
            ctx = container.ctx
            coach = await catalog.add_coach(ctx, name="Maya <Ink>", timezone="Europe/Berlin", rate=6000)
            for day in ("mon", "tue", "wed", "thu", "fri"):
                await catalog.add_rule(ctx, coach.id, weekday=day, start="08:00", end="20:00")
            await coach_accounts.link_slack(ctx, coach.id, COACH_USER)
            author = await catalog.add_author(ctx, name="Ann", timezone="America/New_York", telegram_id=AUTHOR_CHAT)
            session = await bookings.book(ctx, coach.id, author.id, START, focus="Chapter 3")
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://coachbot.test") as http:
                both = Both(container, http, slack, botapi, bot, coach.id, author.id, session.id)
                await both.deliver()  # the booking's card in Slack, the confirmation in Telegram
                slack.clear()
                botapi.calls.clear()
                yield both
    finally:
        if bot is not None:
            await bot.application.bot.shutdown()


@pytest.fixture
async def both(database_url, slack_standin, botapi):
    async with serving_both(database_url, slack_standin, botapi) as b:
        yield b


def share_values(title: str, text: str = "", link: str | None = None, kind: str = "homework") -> dict:
    return {
        "title": {"title": signing.plain_text_value(title)},
        "kind": {"kind": signing.static_select_value(kind)},
        "text": {"text": signing.plain_text_value(text)},
        "link": {"link": {"type": "url_text_input", "value": link}},
    }


async def test_a_coach_shares_from_the_slack_card_and_the_author_reads_it_in_telegram(both):
    card = both.card()
    await both.post(signing.block_actions(render.SHARE, str(both.session_id), message=card, channel_id=card["channel"]))
    modal = both.slack.calls("views.open")[0].view
    values = share_values("Chapter 3 exercises", "Rewrite the opening <twice> & compare.", "https://docs.test/ch3")
    done = await both.post(signing.view_submission(modal, values))
    assert done.json()["response_action"] == "update"

    assert await both.deliver() == 1
    [sent] = both.botapi.calls_to("sendMessage")
    assert sent.chat_id == AUTHOR_CHAT and sent.params["parse_mode"] == "HTML"
    text = sent.params["text"]
    assert "Maya &lt;Ink&gt; shared homework: Chapter 3 exercises" in text
    assert "Wed 6 Mar 2030, 10:00 EST (America/New_York)" in text
    assert "Rewrite the opening &lt;twice&gt; &amp; compare.\nhttps://docs.test/ch3" in text
    assert both.slack.messages() == []  # nothing goes back to the coach for their own share
