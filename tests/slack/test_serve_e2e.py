"""End to end through `coachbot serve` (a real process on the embedded SQLite database): a booking
reaches the coach's Slack within a scheduler tick, and the coach works through signed requests to
POST /slack/events, all against the Slack Web API stand-in."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from booking import bookings, catalog, coach_accounts
from bot.container import Container
from bot.settings import Settings
from tests.served import serving
from tests.slack import signing
from tests.slack.standin import TOKEN


async def seed(url: str) -> tuple[int, int]:
    container = Container(Settings(database_url=url))  # type: ignore[call-arg]
    try:
        ctx = container.ctx
        coach = await catalog.add_coach(ctx, name="Maya", timezone="Europe/Berlin", rate=6000, min_notice_minutes=0)
        for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun"):
            await catalog.add_rule(ctx, coach.id, weekday=day, start="00:00", end="24:00")
        await coach_accounts.link_slack(ctx, coach.id, signing.COACH_ID)
        author = await catalog.add_author(ctx, name="Ann", timezone="UTC")
        return coach.id, author.id
    finally:
        await container.close()


async def book(url: str, coach_id: int, author_id: int) -> int:
    container = Container(Settings(database_url=url))  # type: ignore[call-arg]
    try:
        start = (datetime.now(UTC) + timedelta(days=2)).replace(minute=0, second=0, microsecond=0)
        session = await bookings.book(container.ctx, coach_id, author_id, start)
        assert session.id is not None
        return session.id
    finally:
        await container.close()


@pytest.fixture
def served(tmp_path, slack_standin):
    url = f"sqlite+aiosqlite:///{tmp_path}/var/e2e.db"
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "SCHEDULER_INTERVAL_SECONDS": "1",
        "SLACK_BOT_TOKEN": TOKEN,
        "SLACK_SIGNING_SECRET": signing.SIGNING_SECRET,
        "SLACK_API_URL": slack_standin.base_url,
        "TELEGRAM_BOT_TOKEN": "",
        "STRIPE_SECRET_KEY": "",
    }
    with serving(env, tmp_path) as base:
        yield url, base


async def test_a_booking_reaches_the_coach_and_the_coach_acts_through_serve(served, slack_standin):
    url, base = served
    await slack_standin.wait_for("auth.test")  # serve checked the token at start
    coach_id, author_id = await seed(url)
    session_id = await book(url, coach_id, author_id)  # committed by another process: the next tick finds it

    card = await slack_standin.wait_for("chat.postMessage", lambda c: c.channel and c.channel.startswith("D"))
    assert "Session with Ann" in str(card.blocks)

    async with httpx.AsyncClient(base_url=base) as http:

        async def post(body: str, **kwargs) -> httpx.Response:
            return await http.post(
                "/slack/events", content=body, headers=signing.signed_headers(signing.SIGNING_SECRET, body, **kwargs)
            )

        help_text = await post(signing.slash_command(text="help"))
        assert help_text.status_code == 200 and "/coach today" in help_text.text
        forged = await http.post(
            "/slack/events",
            content=(body := signing.slash_command(text="help")),
            headers=signing.signed_headers("wrong-secret", body),
        )
        assert forged.status_code == 401

        opened = await post(signing.block_actions("session_cancel", str(session_id)))
        assert opened.status_code == 200
        view = (await slack_standin.wait_for("views.open")).view
        reason = {"reason": {"reason": signing.plain_text_value("Double-booked, sorry")}}
        done = await post(signing.view_submission(view, reason))
        assert done.status_code == 200

    update = await slack_standin.wait_for("chat.update", lambda c: "Cancelled by you" in str(c.blocks))
    assert update.ts == card.ts
