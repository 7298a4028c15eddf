"""Distributing the coaches' Slack app to several workspaces (SLACK_CLIENT_ID/SECRET): bolt's OAuth
flow at /slack/install and /slack/oauth_redirect, with slack_sdk's installation and state stores
on our database (tables made by migration 0013, never by the stores). bolt's authorize finds each
request's workspace's bot token in the installation store."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import structlog
from slack_bolt.oauth.async_callback_options import AsyncCallbackOptions, AsyncFailureArgs, AsyncSuccessArgs
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_bolt.response import BoltResponse
from slack_sdk.oauth.installation_store.sqlalchemy import AsyncSQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import AsyncSQLAlchemyOAuthStateStore
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.settings import SLACK_INSTALL_PATH, SLACK_OAUTH_REDIRECT_PATH, Settings

log = structlog.get_logger(__name__)

# What the app asks each workspace for: deploy/slack-manifest.yaml's bot scopes (a test compares).
BOT_SCOPES = ("chat:write", "commands", "im:write", "files:write", "users:read")
STATE_EXPIRATION_S = 600  # from /slack/install to Slack's redirect back


def oauth_settings(settings: Settings, engine: AsyncEngine) -> AsyncOAuthSettings:
    assert settings.slack_client_id is not None and settings.slack_client_secret is not None
    logger = logging.getLogger("slack_bolt")
    return AsyncOAuthSettings(
        client_id=settings.slack_client_id,
        client_secret=settings.slack_client_secret.get_secret_value(),
        scopes=list(BOT_SCOPES),
        user_scopes=[],
        redirect_uri=settings.public_base_url.rstrip("/") + SLACK_OAUTH_REDIRECT_PATH,
        install_path=SLACK_INSTALL_PATH,
        install_page_rendering_enabled=False,  # /slack/install goes straight to Slack's consent page
        redirect_uri_path=SLACK_OAUTH_REDIRECT_PATH,
        authorization_url=settings.slack_authorize_url,
        callback_options=AsyncCallbackOptions(success=_installed, failure=_not_installed),
        installation_store=AsyncSQLAlchemyInstallationStore(
            client_id=settings.slack_client_id, engine=engine, logger=logger
        ),
        installation_store_bot_only=True,  # the app acts as its bot only; no user tokens
        state_store=purging_state_store(STATE_EXPIRATION_S, engine, logger),
        state_expiration_seconds=STATE_EXPIRATION_S,
        logger=logger,
    )


class _PurgingStateStore(AsyncSQLAlchemyOAuthStateStore):
    """slack_sdk's store deletes a state only when it is consumed, and every visit to /slack/install
    issues one: drop the lapsed ones whenever a new one is issued, so the table holds at most the
    states of the last STATE_EXPIRATION_S (migration 0022 indexes expire_at and state)."""

    async def async_issue(self, *args, **kwargs) -> str:
        now = datetime.now(UTC).replace(tzinfo=None)  # slack_sdk keeps naive UTC
        async with self.engine.begin() as conn:
            await conn.execute(delete(self.oauth_states).where(self.oauth_states.c.expire_at <= now))
        return await super().async_issue(*args, **kwargs)


def purging_state_store(
    expiration_seconds: int, engine: AsyncEngine, logger: logging.Logger | None = None
) -> AsyncSQLAlchemyOAuthStateStore:
    return _PurgingStateStore(
        expiration_seconds=expiration_seconds, engine=engine, logger=logger or logging.getLogger("slack_bolt")
    )


async def _installed(args: AsyncSuccessArgs) -> BoltResponse:
    found = args.installation
    log.info("slack.installed", team=found.team_id, team_name=found.team_name, by=found.user_id)
    return await args.default.success(args)


async def _not_installed(args: AsyncFailureArgs) -> BoltResponse:
    log.warning("slack.install_failed", reason=args.reason, error=type(args.error).__name__ if args.error else None)
    return await args.default.failure(args)
