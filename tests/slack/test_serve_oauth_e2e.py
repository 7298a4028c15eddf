"""End to end through `coachbot serve` with the app distributed to several workspaces: a workspace
installs it through the server's /slack/install and Slack's consent page (the stand-in), then a
booking of a coach in that workspace reaches the coach with that workspace's bot token, and a
signed request from there is answered."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from booking import bookings, catalog, coach_accounts
from bot.container import Container
from bot.settings import Settings
from tests.served import free_port, serving
from tests.slack import signing

CLIENT_ID, CLIENT_SECRET = "1000000001.3000000003", "stand-in-client-secret"
TEAM = "T0OTHERWS"
COACH_USER = "U0OLU00001"


async def seed_and_book(url: str) -> None:
    container = Container(Settings(_env_file=None, database_url=url))  # type: ignore[call-arg]
    try:
        ctx = container.ctx
        coach = await catalog.add_coach(ctx, name="Olu", timezone="UTC", rate=6000, min_notice_minutes=0)
        for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun"):
            await catalog.add_rule(ctx, coach.id, weekday=day, start="00:00", end="24:00")
        await coach_accounts.link_slack(ctx, coach.id, COACH_USER, TEAM)
        author = await catalog.add_author(ctx, name="Ann", timezone="UTC")
        start = (datetime.now(UTC) + timedelta(days=2)).replace(minute=0, second=0, microsecond=0)
        await bookings.book(ctx, coach.id, author.id, start)
    finally:
        await container.close()


@pytest.fixture
def served(tmp_path, slack_standin):
    slack_standin.oauth_app(CLIENT_ID, CLIENT_SECRET)
    slack_standin.add_workspace(TEAM)
    url = f"sqlite+aiosqlite:///{tmp_path}/var/e2e.db"
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "PUBLIC_BASE_URL": base,
        "SCHEDULER_INTERVAL_SECONDS": "1",
        "SLACK_BOT_TOKEN": "",
        "SLACK_CLIENT_ID": CLIENT_ID,
        "SLACK_CLIENT_SECRET": CLIENT_SECRET,
        "SLACK_SIGNING_SECRET": signing.SIGNING_SECRET,
        "SLACK_ADMIN_TEAM": TEAM,
        "SLACK_API_URL": slack_standin.base_url,
        "TELEGRAM_BOT_TOKEN": "",
        "STRIPE_SECRET_KEY": "",
    }
    with serving(env, tmp_path, port):
        yield url, base


async def test_a_workspace_installs_through_serve_and_its_coach_gets_the_card_with_its_token(served, slack_standin):
    url, base = served
    async with httpx.AsyncClient() as browser:
        start = await browser.get(f"{base}/slack/install", params={"team": TEAM})
        assert start.status_code == 302 and start.headers["location"].startswith(slack_standin.authorize_url)
        consent = await browser.get(start.headers["location"])
        assert consent.status_code == 302
        cookie = start.headers["set-cookie"].split(";")[0]  # Secure: a browser sends it over HTTPS
        done = await browser.get(consent.headers["location"], headers={"cookie": cookie})
        assert done.status_code == 200, done.text
    token = slack_standin.token_of(TEAM)
    assert token is not None and token != slack_standin.token

    await seed_and_book(url)  # committed by another process: the next tick finds it
    card = await slack_standin.wait_for("chat.postMessage", lambda c: c.channel and c.channel.startswith("D"))
    assert card.token == token and "Session with Ann" in str(card.blocks)

    body = signing.slash_command(text="today", user_id=COACH_USER, team_id=TEAM)
    async with httpx.AsyncClient(base_url=base) as http:
        answer = await http.post(
            "/slack/events", content=body, headers=signing.signed_headers(signing.SIGNING_SECRET, body)
        )
    assert answer.status_code == 200 and "No sessions today" in answer.text
    assert slack_standin.calls("auth.test")[-1].token == token
