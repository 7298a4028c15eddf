"""Fixtures for the Telegram platform: the Bot API stand-in (uvicorn on a free 127.0.0.1 port, in a
background thread, once per run, reset before every test), settings pointing the real
python-telegram-bot client at it, and the authors' handlers: the real ones
(conversations.telegram.register) once conversations/telegram/handlers.py exists, else a minimal
stand-in registration so these tests never depend on the flows being written."""

from __future__ import annotations

import importlib.util

import pytest
from telegram import Update
from telegram.ext import Application, CommandHandler, ContextTypes

from bot.settings import Settings
from tests.local_server import serving
from tests.telegram_platform.botapi_standin import TOKEN, BotApiStandIn, build_app

HAVE_HANDLERS = importlib.util.find_spec("conversations.telegram.handlers") is not None
WEBHOOK_SECRET = "wh-secret_0123456789"
PUBLIC_BASE_URL = "https://coachbot.example.test"


@pytest.fixture(scope="session")
def _botapi_server():
    state = BotApiStandIn()
    with serving(build_app(state), "Bot API stand-in") as base_url:
        state.base_url = base_url
        yield state


@pytest.fixture
def botapi(_botapi_server):
    """The Bot API stand-in, empty; fails the test if the bot sent anything Telegram would refuse."""
    _botapi_server.reset()
    yield _botapi_server
    assert _botapi_server.violations == [], "requests the real Bot API would refuse"
    assert _botapi_server.unknown == [], "Bot API methods the stand-in does not implement"


def telegram_settings(database_url: str, botapi: BotApiStandIn, **overrides) -> Settings:
    values = dict(
        database_url=database_url,
        telegram_bot_token=TOKEN,
        telegram_api_url=botapi.api_url,
        public_base_url=PUBLIC_BASE_URL,
        telegram_webhook_secret=WEBHOOK_SECRET,
    )
    return Settings(_env_file=None, **{**values, **overrides})


class MinimalHandlers:
    """What the tests register when the real flows are not there: /start answers, and every
    update it handled is remembered."""

    def __init__(self):
        self.handled: list[Update] = []

    def __call__(self, application: Application, ctx, *, payments_enabled: bool, states=None) -> None:
        async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
            self.handled.append(update)
            await update.effective_message.reply_text("Welcome to coachbot!")

        application.add_handler(CommandHandler("start", start))


@pytest.fixture
def handlers():
    """The registration the bot under test uses: None = the real conversations.telegram.register."""
    return None if HAVE_HANDLERS else MinimalHandlers()
