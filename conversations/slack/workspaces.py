"""Which bot token the outbox's Slack messages go out with. A bot token (SLACK_BOT_TOKEN) is one
workspace: one client for everything. With the app distributed to several workspaces, each
coach's DM goes with the bot token of the coach's workspace and the admins' feed with that of the
admins' workspace, looked up in the installation store at every send, so a reinstalled app's new
token is used at once and an uninstalled workspace gets nothing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Protocol

import structlog
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.web.async_client import AsyncWebClient

from booking.outbox import SendLater

log = structlog.get_logger(__name__)

NOT_INSTALLED_RETRY = timedelta(minutes=5)  # as for a token Slack refuses: the app may be installed again
MAX_CLIENTS = 256


class Workspaces(Protocol):
    async def client_for(self, team_id: str | None) -> AsyncWebClient:
        """The client for a coach in workspace `team_id` (None: linked without a workspace)."""
        ...

    async def admin_client(self) -> AsyncWebClient: ...


class OneWorkspace:
    """A bot token: its workspace is everyone's."""

    def __init__(self, client: AsyncWebClient):
        self.client = client

    async def client_for(self, team_id: str | None) -> AsyncWebClient:
        return self.client

    async def admin_client(self) -> AsyncWebClient:
        return self.client


class InstalledWorkspaces:
    """Workspaces that installed the app through OAuth (bot tokens in `store`). `make_client` makes
    a client for a token. `home_team` (SLACK_ADMIN_TEAM) is the marketplace's own workspace: the
    admins' channel is there, and so are coaches linked without a workspace. It is named, never
    guessed from what is installed: anyone may install the app, and a stranger's workspace must
    not receive or swallow our messages."""

    def __init__(
        self,
        store: AsyncInstallationStore,
        make_client: Callable[[str], AsyncWebClient],
        *,
        home_team: str,
    ):
        self.store = store
        self.make_client = make_client
        self.home_team = home_team
        self._clients: dict[str, AsyncWebClient] = {}  # by token: a new token gets a new client

    async def client_for(self, team_id: str | None) -> AsyncWebClient:
        return await self._client(team_id or self.home_team)

    async def admin_client(self) -> AsyncWebClient:
        return await self._client(self.home_team)

    async def _client(self, team_id: str) -> AsyncWebClient:
        bot = await self.store.async_find_bot(enterprise_id=None, team_id=team_id)
        if bot is None or not bot.bot_token:
            log.error("slack.workspace_not_installed", team=team_id)
            raise SendLater(f"the Slack app is not installed in workspace {team_id}", NOT_INSTALLED_RETRY)
        client = self._clients.get(bot.bot_token)
        if client is None:
            if len(self._clients) >= MAX_CLIENTS:
                self._clients.clear()
            client = self._clients[bot.bot_token] = self.make_client(bot.bot_token)
        return client
