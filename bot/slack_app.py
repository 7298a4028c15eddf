"""The coaches' Slack app in the HTTP server: a slack-bolt AsyncApp whose requests (events,
interactivity, the /coach command) arrive at POST /slack/events, and the Web API client that the
outbox's Slack notifier sends through.

The client retries connection errors and one 429 (waiting Slack's Retry-After) itself; anything
longer is the outbox's retry (conversations/slack/notifier.py). bolt's AsyncApp verifies each
request's signature and its 5-minute timestamp window (401 otherwise), and with
process_before_response the handler's work is done before Slack gets its answer, except what
a listener leaves for after it (conversations/slack/after_ack.py)."""

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
from starlette.responses import Response

from bot.container import Container
from bot.slack_threads import DatabaseSlackThreads
from bot.telegram_files import TelegramFiles
from conversations.slack import session_tools
from conversations.slack.after_ack import AfterAck
from conversations.slack.app import register
from conversations.slack.notifier import SlackNotifier, slack_refusal

log = structlog.get_logger(__name__)

CLIENT_TIMEOUT_S = 10
STOP_WAIT_S = 10


class SlackBot:
    def __init__(self, container: Container):
        settings = container.settings
        assert settings.slack_bot_token is not None and settings.slack_signing_secret is not None
        self.client = AsyncWebClient(
            token=settings.slack_bot_token.get_secret_value(),
            base_url=settings.slack_api_url,
            timeout=CLIENT_TIMEOUT_S,
            retry_handlers=[AsyncConnectionErrorRetryHandler(), AsyncRateLimitErrorRetryHandler(max_retry_count=1)],
        )
        self.after_ack = AfterAck(logging.getLogger("slack_bolt"))
        self.app = AsyncApp(
            client=self.client,
            signing_secret=settings.slack_signing_secret.get_secret_value(),
            process_before_response=True,
            logger=logging.getLogger("slack_bolt"),
        )
        self.app.listener_runner.lazy_listener_runner = self.after_ack  # no constructor option for it
        register(self.app, container.ctx, admins=settings.slack_admins)
        session_tools.register(self.app, container.ctx, admins=settings.slack_admins)
        self.notifier = SlackNotifier(
            self.client,
            container.ctx,
            DatabaseSlackThreads(container.db, container.clock),
            admin_channel=settings.slack_admin_channel,
            files=TelegramFiles(container),  # authors' Telegram documents, handed to coaches as files
        )

    async def start(self) -> None:
        """Say in the log whether Slack takes the token; the app serves either way (a wrong token
        answers every request with an error Slack shows, and messages wait in the outbox)."""
        try:
            identity = await self.client.auth_test()
        except SlackApiError as exc:
            error, status, _ = slack_refusal(exc)
            log.error("slack.token_rejected", error=error, status=status)
        except Exception as exc:  # Slack unreachable: requests and sends retry on their own
            log.warning("slack.unreachable", error=type(exc).__name__)
        else:
            log.info("slack.started", team=identity.get("team_id"), bot_user=identity.get("user_id"))

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
