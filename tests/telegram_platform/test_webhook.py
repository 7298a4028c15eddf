"""Webhook mode: no Updater, setWebhook with the public URL and the secret on start, and
POST /webhooks/telegram accepting only requests that carry the secret."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from bot.container import Container
from bot.http import create_app
from bot.telegram_app import TelegramBot
from tests.telegram_platform.botapi_standin import message_update
from tests.telegram_platform.conftest import PUBLIC_BASE_URL, WEBHOOK_SECRET, MinimalHandlers, telegram_settings

HEADER = "X-Telegram-Bot-Api-Secret-Token"


@pytest.fixture
async def webhook_app(database_url, botapi, handlers):
    container = Container(telegram_settings(database_url, botapi, telegram_mode="webhook"))
    telegram = TelegramBot(container, register=handlers)
    app = create_app(container, run_scheduler=False, telegram=telegram)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
            yield client, telegram


def answers_to(botapi, chat_id: int):
    return [c for c in botapi.calls_to("sendMessage") if c.chat_id == chat_id]


async def test_start_registers_the_webhook_with_its_secret(webhook_app, botapi):
    _, telegram = webhook_app
    assert telegram.running and telegram.application.updater is None
    assert botapi.webhook["url"] == PUBLIC_BASE_URL + "/webhooks/telegram"
    assert botapi.webhook["secret_token"] == WEBHOOK_SECRET
    assert botapi.calls_to("getUpdates") == []


async def test_an_update_with_the_secret_is_processed(webhook_app, botapi, handlers):
    client, _ = webhook_app
    response = await client.post(
        "/webhooks/telegram",
        json={"update_id": 7001, **message_update("/start", user_id=808)},
        headers={HEADER: WEBHOOK_SECRET},
    )
    assert response.status_code == 200
    await botapi.wait_for(lambda: answers_to(botapi, 808))
    if isinstance(handlers, MinimalHandlers):
        assert [u.update_id for u in handlers.handled] == [7001]


@pytest.mark.parametrize(
    "headers",
    [{}, {HEADER: "wrong-secret"}, {HEADER: WEBHOOK_SECRET + "x"}, {HEADER: ""}],
    ids=["missing", "wrong", "longer", "empty"],
)
async def test_an_update_without_the_right_secret_is_refused_and_not_processed(webhook_app, botapi, handlers, headers):
    client, _ = webhook_app
    response = await client.post(
        "/webhooks/telegram", json={"update_id": 7002, **message_update("/start", user_id=909)}, headers=headers
    )
    assert response.status_code == 403
    await asyncio.sleep(0.3)
    assert answers_to(botapi, 909) == []
    if isinstance(handlers, MinimalHandlers):
        assert handlers.handled == []


async def test_malformed_bodies_are_refused(webhook_app, botapi):
    client, _ = webhook_app
    bad = [b"not json", b"[]", b'{"message": {}}', b'{"update_id": "7"}']
    for body in bad:
        response = await client.post("/webhooks/telegram", content=body, headers={HEADER: WEBHOOK_SECRET})
        assert response.status_code == 400, body
    too_big = b'{"update_id": 1, "x": "' + b"a" * 1_000_001 + b'"}'
    assert (
        await client.post("/webhooks/telegram", content=too_big, headers={HEADER: WEBHOOK_SECRET})
    ).status_code == 413


async def test_webhook_mode_needs_its_secret():
    from pydantic import ValidationError

    from bot.settings import Settings

    with pytest.raises(ValidationError, match="TELEGRAM_WEBHOOK_SECRET is required"):
        Settings(_env_file=None, telegram_bot_token="1:x", telegram_mode="webhook")
    with pytest.raises(ValidationError, match="A-Z, a-z, 0-9"):
        Settings(_env_file=None, telegram_bot_token="1:x", telegram_mode="webhook", telegram_webhook_secret="a b")
    # without a token the bot is off, so the secret is not needed
    assert Settings(_env_file=None, telegram_mode="webhook").telegram_enabled is False


def test_file_url_follows_the_api_url():
    from bot.settings import Settings

    assert Settings(_env_file=None).telegram_file_url == "https://api.telegram.org/file/bot"
    local = Settings(_env_file=None, telegram_api_url="http://127.0.0.1:8081/bot")
    assert local.telegram_file_url == "http://127.0.0.1:8081/file/bot"


def test_serve_refuses_webhook_mode_without_a_secret_in_one_line(tmp_path):
    import os
    import subprocess
    import sys
    from pathlib import Path

    env = {k: v for k, v in os.environ.items() if not k.startswith("TELEGRAM_")}
    env.update(TELEGRAM_BOT_TOKEN="1:x", TELEGRAM_MODE="webhook", DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path}/x.db")
    done = subprocess.run(
        [str(Path(sys.executable).parent / "coachbot"), "serve"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert done.stderr == "error: configuration: TELEGRAM_WEBHOOK_SECRET is required when TELEGRAM_MODE=webhook\n"


async def test_a_webhook_telegram_refuses_is_reported_and_the_server_still_serves(database_url, botapi, handlers):
    botapi.fail("setWebhook", 400, "Bad Request: bad webhook: HTTPS url must be provided for webhook")
    container = Container(telegram_settings(database_url, botapi, telegram_mode="webhook"))
    telegram = TelegramBot(container, register=handlers)
    app = create_app(container, run_scheduler=False, telegram=telegram)
    async with app.router.lifespan_context(app):
        assert "https url must be provided" in telegram.start_error and not telegram.running
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
            assert (await client.get("/healthz")).status_code == 200


async def test_a_genuine_but_malformed_update_is_acknowledged_not_resent(webhook_app, botapi, handlers):
    client, _ = webhook_app
    for body in (
        {"update_id": 7101, "message": "not an object"},
        {"update_id": 7102, "callback_query": {"id": 5}},
        {"update_id": 7103, "message": {"message_id": "x", "chat": None, "date": "yesterday"}},
    ):
        response = await client.post("/webhooks/telegram", json=body, headers={HEADER: WEBHOOK_SECRET})
        assert response.status_code == 200, body  # a 500 makes Telegram resend it, again and again
    response = await client.post(
        "/webhooks/telegram",
        json={"update_id": 7104, **message_update("/start", user_id=818)},
        headers={HEADER: WEBHOOK_SECRET},
    )
    assert response.status_code == 200
    await botapi.wait_for(lambda: answers_to(botapi, 818))  # the bot still serves the next update
