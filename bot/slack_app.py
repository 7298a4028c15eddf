"""The coaches' Slack app in the HTTP server: a slack-bolt AsyncApp whose requests (events,
interactivity, the /coach command) arrive at POST /slack/events, and the Web API client that the
outbox's Slack notifier sends through.

The client retries connection errors and one 429 (waiting Slack's Retry-After) itself; anything
longer is the outbox's retry (conversations/slack/notifier.py). bolt's AsyncApp verifies each
request's signature and its 5-minute timestamp window (401 otherwise), and with
process_before_response the handler's work is done before Slack gets its answer, except what
a listener leaves for after it (conversations/slack/after_ack.py).

With SLACK_CLIENT_ID/SECRET the app is distributed to several workspaces (bot/slack_oauth.py):
each request acts with its workspace's bot token, the outbox's messages with the coach's (or the
admins') workspace's (conversations/slack/workspaces.py), and an uninstalled workspace's
installation is deleted when Slack says so (app_uninstalled, tokens_revoked)."""

from __future__ import annotations

import asyncio
import logging

import structlog
from slack_bolt.adapter.starlette.async_handler import to_async_bolt_request, to_starlette_response
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from bot.calendar_feed import feed_url
from bot.container import Container
from bot.settings import SLACK_INSTALL_PATH, Settings
from bot.slack_oauth import oauth_settings
from bot.slack_threads import DatabaseSlackThreads
from bot.telegram_files import TelegramFiles
from conversations.slack import session_tools
from conversations.slack.after_ack import AfterAck
from conversations.slack.app import register
from conversations.slack.notifier import SlackNotifier, slack_refusal
from conversations.slack.workspaces import InstalledWorkspaces, Workspaces
from storage.slack_installations import installed_teams

log = structlog.get_logger(__name__)

CLIENT_TIMEOUT_S = 10
STOP_WAIT_S = 10


class SlackBot:
    def __init__(self, container: Container):
        settings = container.settings
        assert settings.slack_signing_secret is not None
        self.settings = settings
        self.engine = container.db.engine
        workspaces: Workspaces | None = None
        if settings.slack_oauth_enabled:
            self.client = _client(settings, None)  # each request and message picks its workspace's token
            oauth = oauth_settings(settings, container.db.engine)
            self.app = AsyncApp(
                client=self.client,
                signing_secret=settings.slack_signing_secret.get_secret_value(),
                oauth_settings=oauth,
                process_before_response=True,
                logger=logging.getLogger("slack_bolt"),
            )
            self.app.enable_token_revocation_listeners()
            assert settings.slack_admin_team is not None  # required with OAuth (bot/settings.py)
            workspaces = InstalledWorkspaces(
                oauth.installation_store,
                lambda token: _client(settings, token),
                home_team=settings.slack_admin_team,
            )
        else:
            assert settings.slack_bot_token is not None
            self.client = _client(settings, settings.slack_bot_token.get_secret_value())
            self.app = AsyncApp(
                client=self.client,
                signing_secret=settings.slack_signing_secret.get_secret_value(),
                process_before_response=True,
                logger=logging.getLogger("slack_bolt"),
            )
        self.after_ack = AfterAck(logging.getLogger("slack_bolt"))
        self.app.listener_runner.lazy_listener_runner = self.after_ack  # no constructor option for it
        home = settings.slack_admin_team if settings.slack_oauth_enabled else None  # admins act only from there
        register(
            self.app,
            container.ctx,
            admins=settings.slack_admins,
            admin_team=home,
            calendars=container.calendars,
            feed_url=lambda token: feed_url(container, token),
        )
        session_tools.register(self.app, container.ctx, admins=settings.slack_admins, admin_team=home)
        self.notifier = SlackNotifier(
            self.client,
            container.ctx,
            DatabaseSlackThreads(container.db, container.clock),
            admin_channel=settings.slack_admin_channel,
            files=TelegramFiles(container),  # authors' Telegram documents, handed to coaches as files
            workspaces=workspaces,
        )

    async def installed_teams(self) -> list[str]:
        assert self.settings.slack_client_id is not None
        return await installed_teams(self.engine, self.settings.slack_client_id)

    async def start(self) -> None:
        """Say in the log whether Slack takes the token; the app serves either way (a wrong token
        answers every request with an error Slack shows, and messages wait in the outbox)."""
        if self.settings.slack_oauth_enabled:
            await self._start_distributed()
            return
        try:
            identity = await self.client.auth_test()
        except SlackApiError as exc:
            error, status, _ = slack_refusal(exc)
            log.error("slack.token_rejected", error=error, status=status)
        except Exception as exc:  # Slack unreachable: requests and sends retry on their own
            log.warning("slack.unreachable", error=type(exc).__name__)
        else:
            log.info("slack.started", team=identity.get("team_id"), bot_user=identity.get("user_id"))

    async def _start_distributed(self) -> None:
        install = self.settings.public_base_url.rstrip("/") + SLACK_INSTALL_PATH
        if self.settings.slack_bot_token is not None:
            log.warning("slack.bot_token_unused", reason="SLACK_CLIENT_ID is set: each workspace installs the app")
        try:
            teams = await self.installed_teams()
        except Exception as exc:  # the database: said by /healthz; requests retry on their own
            log.warning("slack.workspaces_unknown", error=type(exc).__name__)
            return
        log.info("slack.started", mode="oauth", workspaces=len(teams), install_url=install)

    async def stop(self) -> None:
        """Let the work started after an answer finish (a refund cut short stays owed and is retried)."""
        try:
            async with asyncio.timeout(STOP_WAIT_S):
                await self.after_ack.drain()
        except TimeoutError:
            log.warning("slack.stopped_with_work_under_way")

    async def handle(self, request: Request, body: bytes) -> Response:
        response = await self.app.async_dispatch(to_async_bolt_request(request, body))
        return to_starlette_response(response)

    async def handle_oauth(self, request: Request) -> Response:
        """GET /slack/install (on to Slack's consent page, with a state) and /slack/oauth_redirect
        (Slack sends the installer back: the state is checked and the installation saved)."""
        flow = self.app.oauth_flow
        if flow is None:
            return JSONResponse({"error": "installing to other workspaces is not enabled"}, status_code=404)
        bolt_request = to_async_bolt_request(request, b"")
        if request.url.path == flow.install_path:
            return to_starlette_response(await flow.handle_installation(bolt_request))
        return to_starlette_response(await flow.handle_callback(bolt_request))


def _client(settings: Settings, token: str | None) -> AsyncWebClient:
    return AsyncWebClient(
        token=token,
        base_url=settings.slack_api_url,
        timeout=CLIENT_TIMEOUT_S,
        retry_handlers=[AsyncConnectionErrorRetryHandler(), AsyncRateLimitErrorRetryHandler(max_retry_count=1)],
    )
