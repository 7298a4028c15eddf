"""The Slack app distributed to several workspaces (SLACK_CLIENT_ID/SECRET) through the real server
(Container and Starlette app over ASGI), bolt's OAuth flow and the Web API stand-in over HTTP:
installing through /slack/install and Slack's consent page, each request acting with its
workspace's bot token, each coach's cards sent with the coach's workspace's token, and an
uninstalled workspace getting nothing until the app is installed again."""

from __future__ import annotations

import contextlib
import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import yaml

from booking import bookings, catalog, coach_accounts
from booking.outbox import deliver_due
from bot.container import Container
from bot.http import create_app
from bot.settings import Settings
from bot.slack_oauth import BOT_SCOPES
from storage.slack_installations import installed_teams
from tests.fakes import FakeClock, FakeVideo
from tests.slack import signing
from tests.slack.standin import APP_ID, TEAM_ID, SlackStandin
from tests.test_slack_manifest import MANIFEST

CLIENT_ID, CLIENT_SECRET = "1000000001.3000000003", "stand-in-client-secret"
T1, T2, NOT_INSTALLED = TEAM_ID, "T0OTHERWS", "T0NOTHERE"
MAYA, OLU = "U0MAYA0001", "U0OLU00001"  # coaches: Maya in T1, Olu in T2
ADMIN_CHANNEL = "C0ADMINFEED"
BASE = "http://coachbot.test"
START = datetime(2030, 3, 6, 15, 0, tzinfo=UTC)


@dataclass
class Env:
    container: Container
    http: httpx.AsyncClient
    clock: FakeClock
    slack: SlackStandin
    maya: int
    olu: int
    author: int

    @property
    def ctx(self):
        return self.container.ctx

    async def post(self, body: str) -> httpx.Response:
        return await self.http.post(
            "/slack/events", content=body, headers=signing.signed_headers(signing.SIGNING_SECRET, body)
        )

    async def begin_install(self, team: str) -> tuple[httpx.URL, str]:
        """/slack/install and Slack's consent page: where Slack sends the browser back, and the
        state cookie the browser holds."""
        start = await self.http.get("/slack/install", params={"team": team})
        assert start.status_code == 302, start.text
        cookie = start.headers["set-cookie"].split(";")[0]
        async with httpx.AsyncClient() as browser:
            consent = await browser.get(start.headers["location"])
        assert consent.status_code == 302, consent.text
        return httpx.URL(consent.headers["location"]), cookie

    async def finish_install(self, back: httpx.URL, cookie: str | None) -> httpx.Response:
        assert str(back).startswith(f"{BASE}/slack/oauth_redirect?")
        headers = {"cookie": cookie} if cookie else {}
        return await self.http.get(back.path, params=back.params, headers=headers)

    async def install(self, team: str) -> str:
        done = await self.finish_install(*await self.begin_install(team))
        assert done.status_code == 200, done.text
        token = self.slack.token_of(team)
        assert token is not None
        return token

    async def teams(self) -> list[str]:
        return await installed_teams(self.container.db.engine, CLIENT_ID)

    async def book(self, coach_id: int, start: datetime = START):
        return await bookings.book(self.ctx, coach_id, self.author, start)

    async def deliver(self) -> int:
        return await deliver_due(self.container.db.uow, self.container.notifier, self.clock)


@contextlib.asynccontextmanager
async def distributed(database_url: str, slack: SlackStandin, *, admin_team: str = T1):
    slack.oauth_app(CLIENT_ID, CLIENT_SECRET)
    slack.add_workspace(T2)
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        database_url=database_url,
        public_base_url=BASE,
        slack_client_id=CLIENT_ID,
        slack_client_secret=CLIENT_SECRET,
        slack_signing_secret=signing.SIGNING_SECRET,
        slack_api_url=slack.base_url,
        slack_admin_channel=ADMIN_CHANNEL,
        slack_admin_team=admin_team,
    )
    clock = FakeClock(datetime(2030, 3, 4, 9, 0, tzinfo=UTC))
    container = Container(settings, clock=clock, video=FakeVideo())
    app = create_app(container, run_scheduler=False, telegram=None)
    async with app.router.lifespan_context(app):
        ctx = container.ctx
        maya = await catalog.add_coach(ctx, name="Maya", timezone="Europe/Berlin", rate=6000, min_notice_minutes=0)
        olu = await catalog.add_coach(ctx, name="Olu", timezone="UTC", rate=6000, min_notice_minutes=0)
        for coach in (maya, olu):
            for day in ("mon", "tue", "wed", "thu", "fri"):
                await catalog.add_rule(ctx, coach.id, weekday=day, start="08:00", end="20:00")
        author = await catalog.add_author(ctx, name="Ann", timezone="UTC", telegram_id=77)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as http:
            yield Env(container, http, clock, slack, maya.id, olu.id, author.id)


@pytest.fixture
async def env(database_url, slack_standin):
    async with distributed(database_url, slack_standin) as e:
        yield e


def card_of(env: Env, user: str):
    [card] = [m for m in env.slack.messages(user) if m.thread_ts is None]
    return card


def tokens(env: Env, method: str) -> set[str | None]:
    return {c.token for c in env.slack.calls(method)}


async def test_workspaces_install_and_each_coach_gets_cards_with_their_workspace_token(env):
    t1, t2 = await env.install(T1), await env.install(T2)
    assert await env.teams() == sorted([T1, T2])
    authorize = env.slack.calls("oauth.authorize")[0].args
    assert authorize["client_id"] == CLIENT_ID and authorize["redirect_uri"] == f"{BASE}/slack/oauth_redirect"
    assert set(authorize["scope"].split(",")) == set(BOT_SCOPES)

    await coach_accounts.link_slack(env.ctx, env.maya, MAYA, T1)
    code = await coach_accounts.invite(env.ctx, env.olu)
    linked = await env.post(signing.slash_command(text=f"link {code}", user_id=OLU, team_id=T2))
    assert "You are linked" in linked.text
    assert (await catalog.coach(env.ctx, env.olu)).slack_team_id == T2
    assert env.slack.calls("auth.test")[-1].token == t2  # bolt authorized Olu's request with T2's bot

    env.slack.clear()
    await env.book(env.maya)
    await env.book(env.olu, START + timedelta(days=1))
    await env.deliver()
    assert card_of(env, MAYA).token == t1
    assert card_of(env, OLU).token == t2
    opened = {c.args["users"]: c.token for c in env.slack.calls("conversations.open")}
    assert opened == {MAYA: t1, OLU: t2}
    assert {m.token for m in env.slack.messages(ADMIN_CHANNEL)} == {t1}  # SLACK_ADMIN_TEAM's bot
    assert env.slack.token not in tokens(env, "chat.postMessage")  # only tokens from the installations


async def test_a_signed_request_acts_with_its_workspace_token_and_an_uninstalled_workspace_gets_nothing(env):
    await env.install(T1)
    t2 = await env.install(T2)
    await coach_accounts.link_slack(env.ctx, env.olu, OLU, T2)
    env.slack.clear()
    opened = await env.post(signing.slash_command(text="availability", user_id=OLU, team_id=T2))
    assert opened.status_code == 200
    assert (await env.slack.wait_for("views.open")).token == t2

    env.slack.clear()
    respond = env.slack.response_url()
    stranger = await env.post(
        signing.slash_command(text="help", user_id="U0STRANGER", team_id=NOT_INSTALLED, response_url=respond)
    )
    assert stranger.status_code == 200 and "/coach today" not in stranger.text
    assert [c.method for c in env.slack.calls()] == ["response_url"]  # told so, nothing else done
    assert "install" in env.slack.calls("response_url")[0].args["text"].lower()


async def test_bad_missing_or_replayed_state_is_refused_and_nothing_is_installed(env):
    back, cookie = await env.begin_install(T2)
    state = back.params["state"]
    missing = await env.http.get("/slack/oauth_redirect", params={"code": back.params["code"]})
    assert missing.status_code == 400  # no state, no cookie: not the browser that began
    other_browser = await env.finish_install(back, None)
    assert other_browser.status_code == 400
    forged = back.copy_set_param("state", "made-up")
    made_up = await env.finish_install(forged, "slack-app-oauth-state=made-up")
    assert made_up.status_code == 401  # the cookie agrees but we never issued that state
    assert env.slack.calls("oauth.v2.access") == [] and await env.teams() == []

    assert (await env.finish_install(back, cookie)).status_code == 200
    assert await env.teams() == [T2]
    replayed = await env.finish_install(back, cookie)
    assert replayed.status_code == 401 and len(env.slack.calls("oauth.v2.access")) == 1
    assert state not in replayed.text


async def test_an_uninstalled_workspace_loses_its_installation_and_gets_nothing_until_installed_again(env):
    await env.install(T1)
    old = await env.install(T2)
    await coach_accounts.link_slack(env.ctx, env.olu, OLU, T2)
    env.slack.uninstall(T2)  # Slack revokes the tokens, then tells the app
    gone = await env.post(app_uninstalled(T2))
    assert gone.status_code == 200
    assert await env.teams() == [T1]

    env.slack.clear()
    await env.book(env.olu)
    await env.deliver()
    env.clock.advance(minutes=6)
    await env.deliver()
    assert old not in tokens(env, "conversations.open") | tokens(env, "chat.postMessage")
    assert env.slack.messages(OLU) == []

    new = await env.install(T2)  # installed again: a new token, used at the next try
    assert new != old
    env.clock.advance(minutes=6)
    await env.deliver()
    assert card_of(env, OLU).token == new


async def test_a_strangers_install_takes_nothing_from_the_home_workspace(database_url, slack_standin):
    async with distributed(database_url, slack_standin) as env:  # SLACK_ADMIN_TEAM: T1
        home = await env.install(T1)
        await coach_accounts.link_slack(env.ctx, env.olu, OLU)  # linked without a workspace: the home one
        await env.install(T2)  # anyone with the link may install the app
        await env.book(env.olu)
        await env.deliver()
        assert card_of(env, OLU).token == home
        assert [m.token for m in env.slack.messages(ADMIN_CHANNEL)] == [home]


def test_the_app_asks_for_the_manifests_scopes_and_the_manifest_has_the_redirect_url():
    manifest = yaml.safe_load(MANIFEST.read_text())
    assert sorted(manifest["oauth_config"]["scopes"]["bot"]) == sorted(BOT_SCOPES)
    assert [u.rsplit("/", 2)[-2:] for u in manifest["oauth_config"]["redirect_urls"]] == [["slack", "oauth_redirect"]]
    assert {"app_uninstalled", "tokens_revoked"} <= set(manifest["settings"]["event_subscriptions"]["bot_events"])


def app_uninstalled(team: str) -> str:
    return json.dumps(
        {
            "token": signing.VERIFICATION_TOKEN,
            "team_id": team,
            "api_app_id": APP_ID,
            "event": {"type": "app_uninstalled", "event_ts": f"{time.time():.6f}"},
            "type": "event_callback",
            "event_id": f"Ev{int(time.time() * 1000)}",
            "event_time": int(time.time()),
            "authorizations": [{"enterprise_id": None, "team_id": team, "user_id": "U0BOT", "is_bot": True}],
        }
    )


async def test_a_coach_is_only_themselves_in_their_own_workspace(env):
    await env.install(T1)
    await env.install(T2)
    await coach_accounts.link_slack(env.ctx, env.olu, OLU, T2)
    at_home = await env.post(signing.slash_command(text="today", user_id=OLU, team_id=T2))
    assert "not linked" not in at_home.text
    elsewhere = await env.post(signing.slash_command(text="today", user_id=OLU, team_id=T1))
    assert "not linked" in elsewhere.text  # the same user id from another workspace is not this coach
