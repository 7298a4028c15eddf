"""The coaches' Slack side through the real server: the Container and Starlette app (in process over
ASGI) with the real slack-bolt AsyncApp answering signed requests at POST /slack/events, and the
real AsyncWebClient talking HTTP to the Web API stand-in. Notifications go through the outbox's
delivery, as the scheduler runs it."""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from booking import bookings, cancellation, catalog, coach_accounts, lifecycle, materials, queries, rescheduling
from booking.model import Actor, SessionStatus
from booking.outbox import deliver_due
from bot.container import Container
from bot.http import create_app
from bot.settings import Settings
from tests.fakes import FakeClock, FakePayments, FakeVideo
from tests.slack import signing
from tests.slack.standin import TOKEN, SlackStandin

COACH_USER = signing.COACH_ID
OTHER_USER = "U0COACH002"
ADMIN_USER = "U0ADMIN001"
ADMIN_CHANNEL = "C0ADMINFEED"
START = datetime(2030, 3, 6, 15, 0, tzinfo=UTC)  # a Wednesday: 16:00 in Berlin (CET)


@dataclass
class Env:
    container: Container
    http: httpx.AsyncClient
    clock: FakeClock
    slack: SlackStandin
    coach_id: int
    other_coach_id: int
    author_id: int

    @property
    def ctx(self):
        return self.container.ctx

    async def post(self, body: str, *, secret: str = signing.SIGNING_SECRET, timestamp: int | None = None):
        headers = signing.signed_headers(secret, body, timestamp)
        return await self.http.post("/slack/events", content=body, headers=headers)

    async def deliver(self) -> int:
        return await deliver_due(self.container.db.uow, self.container.notifier, self.clock)

    async def book(self, start: datetime = START):
        return await bookings.book(self.ctx, self.coach_id, self.author_id, start, focus="Pacing of chapter 3")


@contextlib.asynccontextmanager
async def running(
    database_url: str,
    slack: SlackStandin,
    *,
    video: FakeVideo | None = None,
    payments: FakePayments | None = None,
    admins: str = ADMIN_USER,
    **more_settings,
):
    settings = Settings(  # type: ignore[call-arg]
        database_url=database_url,
        slack_bot_token=TOKEN,
        slack_signing_secret=signing.SIGNING_SECRET,
        slack_api_url=slack.base_url,
        slack_admin_user_ids=admins,
        slack_admin_channel=ADMIN_CHANNEL,
        **more_settings,
    )
    clock = FakeClock(datetime(2030, 3, 4, 9, 0, tzinfo=UTC))
    container = Container(settings, clock=clock, video=video or FakeVideo(), payments=payments)
    app = create_app(container, run_scheduler=False, telegram=None)
    async with app.router.lifespan_context(app):
        ctx = container.ctx
        coach = await catalog.add_coach(
            ctx, name="Maya <Ink>", timezone="Europe/Berlin", rate=6000, min_notice_minutes=0
        )
        other = await catalog.add_coach(ctx, name="Olu", timezone="UTC", rate=6000, min_notice_minutes=0)
        for c in (coach, other):
            for day in ("mon", "tue", "wed", "thu", "fri"):
                await catalog.add_rule(ctx, c.id, weekday=day, start="08:00", end="20:00")
        await coach_accounts.link_slack(ctx, coach.id, COACH_USER)
        await coach_accounts.link_slack(ctx, other.id, OTHER_USER)
        author = await catalog.add_author(ctx, name="Ann & Co", timezone="America/New_York", telegram_id=77)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://coachbot.test") as http:
            yield Env(container, http, clock, slack, coach.id, other.id, author.id)


@pytest.fixture
async def env(database_url, slack_standin):
    async with running(database_url, slack_standin) as e:
        await slack_standin.wait_for("auth.test")
        slack_standin.clear()
        yield e


def card_text(call) -> str:
    return "\n".join(b["text"]["text"] for b in call.blocks if b["type"] == "section")


def buttons(call) -> list[str]:
    return [e["action_id"] for b in call.blocks if b["type"] == "actions" for e in b["elements"]]


# ---- notifications ---------------------------------------------------------------------------------


async def test_a_booking_reaches_the_coach_as_one_card_with_actions_and_the_admin_feed(env):
    session = await env.book()
    assert await env.deliver() >= 3
    [card] = env.slack.messages(COACH_USER)
    text = card_text(card)
    assert "Session with Ann &amp; Co" in text  # escaped for mrkdwn
    assert "Wed 6 Mar 2030, 16:00 CET (Europe/Berlin)" in text
    assert f"<!date^{int(START.timestamp())}^" in text
    assert "60 min" in text and "Pacing of chapter 3" in text and "Scheduled" in text
    # every action from the start: completing early is refused with an explanation
    assert buttons(card) == [
        "session_join",
        "session_complete",
        "session_no_show",
        "session_share",
        "session_note",
        "session_cancel",
    ]  # (the card is not redrawn when the session begins)
    [feed] = env.slack.messages(ADMIN_CHANNEL)
    assert f"session {session.id}" in feed.text and "Booked" in feed.text
    assert env.slack.updates() == []
    assert await env.deliver() == 0  # nothing sent twice


async def test_later_events_reply_in_the_thread_and_update_the_card(env):
    session = await env.book()
    await env.deliver()
    [card] = env.slack.messages(COACH_USER)
    env.slack.clear()

    moved_to = START + timedelta(days=1)
    await rescheduling.reschedule(env.ctx, session.id, moved_to, by=Actor.AUTHOR, author_id=env.author_id)
    await env.deliver()
    [update] = env.slack.updates()
    assert update.ts == card.ts and "Thu 7 Mar 2030, 16:00 CET" in card_text(update)
    [reply] = env.slack.messages(card.channel)
    assert reply.thread_ts == card.ts and "Moved by the author" in reply.text
    assert "Wed 6 Mar 2030, 16:00 CET" in reply.text and "Thu 7 Mar 2030, 16:00 CET" in reply.text
    env.slack.clear()

    await cancellation.cancel(env.ctx, session.id, by=Actor.AUTHOR, author_id=env.author_id, reason="Flu")
    await env.deliver()
    [update] = env.slack.updates()
    assert "Cancelled by the author" in card_text(update) and buttons(update) == []
    replies = [m for m in env.slack.messages(card.channel) if m.thread_ts == card.ts]
    assert len(replies) == 1 and "Cancelled by the author" in replies[0].text and "Flu" in replies[0].text
    assert [m.text for m in env.slack.messages(ADMIN_CHANNEL) if "Cancelled" in m.text]


async def test_rating_and_material_from_the_author_arrive_in_the_thread(env):
    session = await env.book()
    await materials.add_material(
        env.ctx,
        session.id,
        by=Actor.AUTHOR,
        actor_id=env.author_id,
        kind="manuscript",
        title="Draft 2",
        content="It was a dark and stormy night.",
    )
    env.clock.set(START + timedelta(hours=2))
    await lifecycle.advance_statuses(env.ctx)
    await lifecycle.rate(env.ctx, session.id, author_id=env.author_id, stars=4, feedback="Sharp notes <3")
    await env.deliver()
    [card] = [m for m in env.slack.messages(COACH_USER) if m.thread_ts is None]
    replies = [m.text for m in env.slack.messages(card.channel) if m.thread_ts == card.ts]
    assert any("shared manuscript: *Draft 2*" in t and "dark and stormy" in t for t in replies)
    assert any("★★★★☆ 4/5" in t and "Sharp notes &lt;3" in t for t in replies)


async def test_a_slack_outage_keeps_messages_until_slack_answers_again(env):
    await env.book()
    env.slack.outage(True)
    await env.deliver()  # the author's messages go (to the log here); the coach's and admins' wait
    assert env.slack.messages() == [] and env.slack.statuses("conversations.open")[0] == 503
    env.slack.outage(False)
    env.clock.advance(seconds=25)  # within a minute of Slack answering again
    assert await env.deliver() >= 2
    assert len(env.slack.messages(COACH_USER)) == 1 and len(env.slack.messages(ADMIN_CHANNEL)) == 1


async def test_a_coach_without_slack_is_skipped_and_reminders_carry_the_join_link(env):
    session = await env.book()
    await env.deliver()
    env.clock.set(START - timedelta(minutes=59))
    await env.deliver()
    [card] = [m for m in env.slack.messages(COACH_USER) if m.thread_ts is None]
    reminders = [m for m in env.slack.messages(card.channel) if m.thread_ts == card.ts]
    stored = await queries.session(env.ctx, session.id)
    assert any("Starts in" in m.text and stored.meeting_url in m.text for m in reminders)


# ---- /coach ----------------------------------------------------------------------------------------


async def test_help_and_unknown_subcommands(env):
    for text in ("", "help", "frobnicate"):
        response = await env.post(signing.slash_command(text=text))
        assert response.status_code == 200
        assert "/coach today" in response.text and "/coach link CODE" in response.text
    assert "frobnicate" in (await env.post(signing.slash_command(text="frobnicate"))).text


async def test_today_lists_the_coachs_sessions_in_their_zone(env):
    env.clock.set(START - timedelta(hours=3))
    await env.book()
    response = await env.post(signing.slash_command(text="today"))
    assert "Wed 6 Mar 2030, 16:00 CET (Europe/Berlin)" in response.text
    response = await env.post(signing.slash_command(text="today", user_id="U0NOBODY1"))
    assert "not linked" in response.text


async def test_today_is_the_coachs_calendar_day_not_the_next_24_hours(env):
    env.clock.set(datetime(2030, 3, 5, 22, 30, tzinfo=UTC))  # Tuesday 23:30 in Berlin; START is tomorrow there
    await env.book()
    assert "No sessions today" in (await env.post(signing.slash_command(text="today"))).text
    assert "Wed 6 Mar 2030, 16:00 CET" in (await env.post(signing.slash_command(text="week"))).text


async def test_link_with_a_one_time_code(env):
    code = await coach_accounts.invite(env.ctx, env.other_coach_id)
    response = await env.post(signing.slash_command(text=f"link {code}", user_id="U0NEWCOACH"))
    assert "linked to the coach profile *Olu*" in response.text
    assert (await catalog.coach(env.ctx, env.other_coach_id)).slack_user_id == "U0NEWCOACH"
    again = await env.post(signing.slash_command(text=f"link {code}", user_id="U0THIEF01"))
    assert "not valid" in again.text


# ---- buttons and the cancel dialog -----------------------------------------------------------------


async def test_mark_completed_is_refused_before_the_start_and_works_after(env):
    session = await env.book()
    await env.deliver()
    [card] = env.slack.messages(COACH_USER)
    click = signing.block_actions("session_complete", str(session.id), message=card.message, channel_id=card.channel)
    env.slack.clear()
    assert (await env.post(click)).status_code == 200
    [refusal] = env.slack.ephemerals(COACH_USER)
    assert "has not started yet" in refusal.text
    assert (await queries.session(env.ctx, session.id)).status is SessionStatus.SCHEDULED

    env.clock.set(START + timedelta(minutes=50))
    assert (await env.post(click)).status_code == 200
    assert (await queries.session(env.ctx, session.id)).status is SessionStatus.COMPLETED
    [update] = env.slack.updates()
    assert update.ts == card.ts and "Completed" in card_text(update)
    assert buttons(update) == ["session_share", "session_note"]  # after the session: homework, notes
    assert env.slack.home_tab(COACH_USER) is not None


async def test_another_coach_cannot_act_on_the_session(env):
    session = await env.book()
    env.clock.set(START + timedelta(minutes=10))
    for action in ("session_complete", "session_no_show", "session_cancel"):
        await env.post(signing.block_actions(action, str(session.id), user_id=OTHER_USER))
    refusals = env.slack.ephemerals(OTHER_USER)
    assert len(refusals) == 3 and all("another coach" in r.text for r in refusals)
    assert env.slack.calls("views.open") == []
    assert (await queries.session(env.ctx, session.id)).status is SessionStatus.SCHEDULED


async def test_cancel_asks_for_a_reason_then_cancels_with_a_full_refund(env):
    session = await env.book()
    await env.post(signing.block_actions("session_cancel", str(session.id)))
    [opened] = env.slack.calls("views.open")
    modal = opened.view
    assert modal["callback_id"] == "cancel_session"
    empty = await env.post(signing.view_submission(modal, {"reason": {"reason": signing.plain_text_value("  ")}}))
    assert empty.json()["response_action"] == "errors" and "reason" in empty.json()["errors"]
    assert (await queries.session(env.ctx, session.id)).status is SessionStatus.SCHEDULED

    done = await env.post(signing.view_submission(modal, {"reason": {"reason": signing.plain_text_value("Ill")}}))
    assert done.status_code == 200 and done.text in ("", "null")
    cancelled = await queries.session(env.ctx, session.id)
    assert (cancelled.status, cancelled.cancelled_by, cancelled.cancel_reason) == (
        SessionStatus.CANCELLED,
        Actor.COACH,
        "Ill",
    )

    # the same dialog submitted again (or a stale button) answers that the session is gone
    again = await env.post(signing.view_submission(modal, {"reason": {"reason": signing.plain_text_value("Ill")}}))
    assert again.json()["response_action"] == "errors"
    await env.post(signing.block_actions("session_cancel", str(session.id)))
    assert "no longer available" in env.slack.ephemerals(COACH_USER)[-1].text


class SlowVideo(FakeVideo):
    """A video provider whose room deletion waits until the test lets it go."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = asyncio.Event()

    async def delete(self, url: str) -> None:
        await self.gate.wait()
        await super().delete(url)


async def test_the_cancel_dialog_closes_before_the_providers_answer(database_url, slack_standin):
    """Slack drops an answer later than 3 s: the dialog is answered once the cancellation is saved,
    and the room (like the refund) is dealt with after that."""
    video = SlowVideo()
    async with running(database_url, slack_standin, video=video) as env:
        session = await env.book()
        await env.post(signing.block_actions("session_cancel", str(session.id)))
        [opened] = env.slack.calls("views.open")
        submit = signing.view_submission(opened.view, {"reason": {"reason": signing.plain_text_value("Ill")}})
        done = await asyncio.wait_for(env.post(submit), timeout=30)  # without the split: never answered
        assert done.status_code == 200
        assert (await queries.session(env.ctx, session.id)).status is SessionStatus.CANCELLED
        assert video.deleted == [] and env.slack.home_tab(COACH_USER) is None

        video.gate.set()
        await env.container.slack.after_ack.drain()
        assert video.deleted == [session.meeting_url]
        assert env.slack.home_tab(COACH_USER) is not None  # Home republished after the work


async def test_a_forged_dialog_is_refused_not_crashed(env):
    session = await env.book()
    await env.post(signing.block_actions("session_cancel", str(session.id)))
    [opened] = env.slack.calls("views.open")
    for metadata in ("not json", "[1]", '{"session_id": "1; drop"}', "{}"):
        forged = {**opened.view, "private_metadata": metadata}
        answer = await env.post(signing.view_submission(forged, {"reason": {"reason": signing.plain_text_value("x")}}))
        assert answer.status_code == 200 and answer.json()["response_action"] == "errors"
    assert (await queries.session(env.ctx, session.id)).status is SessionStatus.SCHEDULED


async def test_an_admin_acts_on_any_session(env):
    session = await env.book()
    env.clock.set(START + timedelta(minutes=70))
    await env.post(signing.block_actions("session_no_show", str(session.id), user_id=ADMIN_USER))
    assert (await queries.session(env.ctx, session.id)).status is SessionStatus.NO_SHOW


async def test_an_admin_who_coaches_acts_as_the_coach_on_their_own_sessions(database_url, slack_standin):
    async with running(database_url, slack_standin, admins=f"{ADMIN_USER},{COACH_USER}") as env:
        session = await env.book()
        await env.post(signing.block_actions("session_cancel", str(session.id)))
        [opened] = env.slack.calls("views.open")
        await env.post(signing.view_submission(opened.view, {"reason": {"reason": signing.plain_text_value("Ill")}}))
        assert (await queries.session(env.ctx, session.id)).cancelled_by is Actor.COACH  # "your coach cancelled"

        other = await bookings.book(env.ctx, env.other_coach_id, env.author_id, START)
        env.clock.set(START + timedelta(minutes=70))
        await env.post(signing.block_actions("session_no_show", str(other.id)))
        assert (await queries.session(env.ctx, other.id)).status is SessionStatus.NO_SHOW  # an admin on another's


async def test_app_home_shows_upcoming_sessions_with_their_actions(env):
    await env.book()
    await env.book(START + timedelta(days=1))
    await env.post(signing.app_home_opened(COACH_USER))
    home = env.slack.home_tab(COACH_USER)
    texts = [b["text"]["text"] for b in home["blocks"] if b["type"] == "section"]
    assert len([t for t in texts if "Session with Ann" in t]) == 2
    await env.post(signing.app_home_opened("U0NOBODY1"))
    assert "not linked" in str(env.slack.home_tab("U0NOBODY1"))


# ---- security --------------------------------------------------------------------------------------


async def test_forged_and_stale_requests_are_refused_and_do_nothing(env):
    session = await env.book()
    env.clock.set(START + timedelta(minutes=10))
    click = signing.block_actions("session_complete", str(session.id))
    assert (await env.post(click, secret="not-the-secret")).status_code == 401
    assert (await env.post(click, timestamp=int(time.time()) - 6 * 60)).status_code == 401
    assert (await queries.session(env.ctx, session.id)).status is SessionStatus.SCHEDULED
    assert env.slack.calls() == []


async def test_without_a_token_slack_is_off_and_coach_messages_wait(database_url):
    settings = Settings(database_url=database_url)  # type: ignore[call-arg]
    container = Container(settings, clock=FakeClock(), video=FakeVideo())
    app = create_app(container, run_scheduler=False, telegram=None)
    async with app.router.lifespan_context(app):
        assert container.slack is None and "coach" not in container.channels.recipients
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
            assert (await http.post("/slack/events", content="{}")).status_code == 404


def test_without_a_token_the_slack_libraries_are_not_even_loaded(tmp_path):
    """They cost about 15 MB of the server's memory (bench/memory.py)."""
    import subprocess
    import sys

    code = (
        "import sys; from bot.settings import Settings; from bot.container import Container; "
        "from bot.http import create_app; "
        f"create_app(Container(Settings(database_url='sqlite+aiosqlite:///{tmp_path}/x.db')), telegram=None); "
        "print(sorted(m for m in ('slack_bolt', 'slack_sdk', 'aiohttp') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, timeout=60)
    assert done.stdout.strip() == "[]", done.stderr
