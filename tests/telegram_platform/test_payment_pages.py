"""The pages Stripe Checkout returns to lead back to the chat: by TELEGRAM_BOT_USERNAME when set,
else by the username the bot learned from Telegram (getMe) at start (issue 11, defect 6)."""

from __future__ import annotations

from datetime import timedelta

import httpx

from bot.container import Container
from bot.http import create_app
from bot.telegram_app import TelegramBot
from tests.telegram_platform.botapi_standin import BOT_USERNAME
from tests.telegram_platform.conftest import telegram_settings


async def _pages(settings, *, with_bot: bool = True) -> list[str]:
    container = Container(settings)
    telegram = TelegramBot(container, poll_timeout=timedelta(seconds=1)) if with_bot else None
    app = create_app(container, run_scheduler=False, telegram=telegram)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
            return [(await client.get(path)).text for path in ("/payments/success", "/payments/cancelled")]


async def test_the_pages_link_to_the_bot_telegram_named_at_start(database_url, botapi):
    for page in await _pages(telegram_settings(database_url, botapi)):
        assert f'<a href="https://t.me/{BOT_USERNAME}">Back to the chat</a>' in page


async def test_the_configured_username_wins(database_url, botapi):
    for page in await _pages(telegram_settings(database_url, botapi, telegram_bot_username="coachbot_brand_bot")):
        assert '<a href="https://t.me/coachbot_brand_bot">Back to the chat</a>' in page


async def test_without_the_bot_the_pages_say_to_return_to_the_chat(database_url, botapi):
    for page in await _pages(telegram_settings(database_url, botapi), with_bot=False):
        assert "return to the chat" in page and "t.me" not in page
