"""Materials between the two front ends, end to end: one server (Container + Starlette app, in
process) with the Slack app against the Slack Web API stand-in and the Telegram bot (real
python-telegram-bot) against the Bot API stand-in, both on one database.

- A coach shares a text and a link from the session's card in Slack; the author receives it in
  Telegram (the MaterialShared event through the Telegram notifier).
- An author shares a document in Telegram ("tg:<file_id>"); the coach receives the file itself,
  downloaded through the bot (getFile and the file URL) and uploaded into the session's thread
  (files.getUploadURLExternal, the upload, files.completeUploadExternal), or words about it when
  the bot is off or the file cannot be had."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from booking import bookings, catalog, coach_accounts, materials
from booking.model import Actor
from booking.outbox import deliver_due
from bot.container import Container
from bot.http import create_app
from bot.settings import Settings
from bot.telegram_app import TelegramBot
from conversations.slack import render
from conversations.slack.notifier import FILE_TRIES
from tests.fakes import FakeClock, FakeVideo
from tests.local_server import serving
from tests.slack import signing
from tests.slack.standin import TOKEN as SLACK_TOKEN
from tests.slack.standin import SlackStandin
from tests.telegram_platform.botapi_standin import TOKEN as TELEGRAM_TOKEN
from tests.telegram_platform.botapi_standin import BotApiStandIn, build_app
from tests.test_dependency_rule import imported_packages

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


# ---- from the author's Telegram to the coach's Slack ------------------------------------------------

MANUSCRIPT = b"PK\x03\x04 Chapter three, second draft. " * 200
FILE_ID = "BQACAgIAAxkBAAIC-chapter3"


async def author_shares_a_document(b: Both, title: str = "chapter3.docx", caption: str | None = "New opening <3"):
    """What conversations/telegram/materials.py does with a document the author sends."""
    b.botapi.add_file(FILE_ID, "documents/file_3.docx", MANUSCRIPT)
    return await materials.add_material(
        b.ctx,
        b.session_id,
        by=Actor.AUTHOR,
        actor_id=b.author_id,
        kind="manuscript",
        title=title,
        content=caption,
        file_ref=f"tg:{FILE_ID}",
    )


def thread_texts(b: Both) -> list[str]:
    card = b.card()
    return [m.text for m in b.slack.messages(card["channel"]) if m.thread_ts == card["ts"]]


async def test_a_document_the_author_sent_in_telegram_reaches_the_coachs_thread_as_the_file(both):
    await author_shares_a_document(both)
    assert await both.deliver() == 1
    [upload] = both.slack.uploads()
    card = both.card()
    assert (upload.channel, upload.thread_ts) == (card["channel"], card["ts"])
    assert upload.content == MANUSCRIPT and upload.filename == "chapter3.docx" and upload.title == "chapter3.docx"
    assert upload.initial_comment == ":paperclip: Ann shared manuscript: *chapter3.docx*\nNew opening &lt;3"
    assert [c.method for c in both.botapi.calls] == ["getFile"]  # then the download from the file URL
    assert thread_texts(both) == []  # the file and its comment, no separate message
    [update] = both.slack.updates(card["channel"])
    assert update.ts == card["ts"]  # the card is redrawn, as for every event


async def test_a_title_without_an_extension_gets_the_files_own(both):
    await author_shares_a_document(both, title="Draft two", caption=None)
    await both.deliver()
    [upload] = both.slack.uploads()
    assert (
        upload.filename == "Draft two.docx"
        and upload.initial_comment == ":paperclip: Ann shared manuscript: *Draft two*"
    )


async def test_with_the_telegram_bot_off_the_coach_is_told_in_words(database_url, slack_standin, botapi):
    async with serving_both(database_url, slack_standin, botapi, telegram=False) as b:
        await author_shares_a_document(b)
        assert await b.deliver() == 1
        assert b.slack.uploads() == [] and b.botapi.calls == []
        [text] = thread_texts(b)
        assert "shared manuscript: *chapter3.docx*\nNew opening &lt;3\n(a file sent in Telegram;" in text


async def test_a_file_telegram_no_longer_has_is_described_in_words(both):
    await author_shares_a_document(both, caption=None)
    both.botapi.files.clear()  # getFile answers 400: wrong file identifier
    assert await both.deliver() == 1
    assert both.slack.uploads() == []
    [text] = thread_texts(both)
    assert "(a file sent in Telegram; ask the author to share a link or paste the text)" in text


async def test_telegram_down_leaves_slack_untouched_and_the_file_goes_once_it_answers(both):
    await author_shares_a_document(both)
    both.botapi.fail("getFile", 502, "Bad Gateway")
    assert await both.deliver() == 0
    assert both.slack.calls() == []  # nothing changed in Slack: the retry does it all
    both.container.clock.advance(minutes=2)
    assert await both.deliver() == 1
    assert [u.content for u in both.slack.uploads()] == [MANUSCRIPT]


async def test_after_repeated_failures_the_coach_is_told_in_words(both):
    await author_shares_a_document(both)
    both.botapi.fail("getFile", 502, "Bad Gateway", times=FILE_TRIES)
    for _ in range(FILE_TRIES):
        assert await both.deliver() == 0
        both.container.clock.advance(minutes=2)
    assert await both.deliver() == 1
    assert both.slack.uploads() == [] and len(both.botapi.calls_to("getFile")) == FILE_TRIES
    [text] = thread_texts(both)
    assert "New opening &lt;3\n(a file sent in Telegram; ask the author to share a link or paste the text)" in text


async def test_slack_refusing_the_upload_is_retried_like_any_send(both):
    await author_shares_a_document(both)
    both.slack.fail_next("files.completeUploadExternal", status=503)
    assert await both.deliver() == 0
    both.container.clock.advance(seconds=30)
    assert await both.deliver() == 1
    assert [u.thread_ts for u in both.slack.uploads()] == [both.card()["ts"]]


def test_the_slack_side_never_imports_the_telegram_library():
    slack_side = Path(render.__file__).parent
    assert {p.name: imported_packages(p) & {"telegram"} for p in slack_side.glob("*.py")} == {
        p.name: set() for p in slack_side.glob("*.py")
    }
