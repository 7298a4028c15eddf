"""The bot end to end in polling mode: the real Application (python-telegram-bot, httpx) started by
the HTTP server's lifespan, long-polling the Bot API stand-in over HTTP."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
import structlog

from booking import bookings, catalog
from bot.container import Container
from bot.http import create_app
from bot.scheduler import tick
from bot.telegram_app import BOT_OFF_MESSAGE, TelegramBot
from integrations.log_notifier import LogNotifier
from tests.fakes import FakeClock, FakeVideo
from tests.telegram_platform.botapi_standin import TOKEN, message_update
from tests.telegram_platform.conftest import HAVE_HANDLERS, MinimalHandlers, telegram_settings

COACHBOT = str(Path(sys.executable).parent / "coachbot")
FAST_POLL = timedelta(seconds=1)


async def test_polling_bot_answers_start_over_http(database_url, botapi, handlers):
    container = Container(telegram_settings(database_url, botapi))
    telegram = TelegramBot(container, register=handlers, poll_timeout=FAST_POLL)
    app = create_app(container, run_scheduler=False, telegram=telegram)
    async with app.router.lifespan_context(app):
        assert telegram.running and telegram.application.updater.running
        update_id = botapi.push_update(message_update("/start", user_id=4242))
        answers = await botapi.wait_for(lambda: [c for c in botapi.calls_to("sendMessage") if c.chat_id == 4242])
        assert answers[0].params["text"]
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
            assert (await client.get("/healthz")).status_code == 200
            # polling mode: the webhook route is not open
            assert (await client.post("/webhooks/telegram", json={"update_id": 1})).status_code == 404
    if isinstance(handlers, MinimalHandlers):
        assert [u.effective_user.id for u in handlers.handled] == [4242]
    methods = [c.method for c in botapi.calls]
    assert methods[0] == "getMe" and "deleteWebhook" in methods  # polling starts by clearing any webhook
    # on stop the updater confirmed what it fetched, so a restart does not see /start again
    assert max(c.params.get("offset") or 0 for c in botapi.calls_to("getUpdates")) > update_id
    assert not telegram.running


async def test_scheduler_delivers_the_outbox_through_telegram_when_the_bot_is_on(database_url, botapi, handlers):
    clock = FakeClock()
    container = Container(telegram_settings(database_url, botapi), clock=clock, video=FakeVideo())
    app = create_app(
        container, run_scheduler=False, telegram=TelegramBot(container, register=handlers, poll_timeout=FAST_POLL)
    )
    async with app.router.lifespan_context(app):
        session = await _book(container, telegram_id=5151)
        await tick(container)
        sent = botapi.calls_to("sendDocument")
        assert [c.chat_id for c in sent] == [5151]
        assert sent[0].files["document"][0] == f"coaching-session-{session.id}.ics"


async def test_without_a_token_notifications_stay_in_the_log(database_url):
    container = Container(telegram_settings(database_url, _NoApi(), telegram_bot_token=None))
    app = create_app(container, run_scheduler=False)
    with structlog.testing.capture_logs() as logs:
        async with app.router.lifespan_context(app):
            assert isinstance(container.channels.notifier_for("author"), LogNotifier) and container.telegram is None
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
                assert (await client.get("/healthz")).status_code == 200
                assert (await client.post("/webhooks/telegram", json={"update_id": 1})).status_code == 404
    off = [entry for entry in logs if entry["event"] == BOT_OFF_MESSAGE]
    assert len(off) == 1 and "@BotFather" in BOT_OFF_MESSAGE and "TELEGRAM_BOT_TOKEN" in BOT_OFF_MESSAGE


async def test_a_token_telegram_rejects_is_reported_once_without_leaking_it(database_url, botapi, handlers):
    wrong = "42:wrong-token-never-in-logs"
    container = Container(telegram_settings(database_url, botapi, telegram_bot_token=wrong))
    telegram = TelegramBot(container, register=handlers, poll_timeout=FAST_POLL)
    app = create_app(container, run_scheduler=False, telegram=telegram)
    with structlog.testing.capture_logs() as logs:
        async with app.router.lifespan_context(app):
            assert telegram.token_rejected and not telegram.running
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
                assert (await client.get("/healthz")).status_code == 200
    assert any("rejected TELEGRAM_BOT_TOKEN" in entry["event"] for entry in logs)
    assert wrong not in repr(logs)
    assert [c.method for c in botapi.calls] == ["getMe"]


async def test_telegram_unreachable_at_startup_is_retried_in_the_background(database_url, botapi, handlers):
    botapi.fail("getMe", 502, "Bad Gateway", times=2)
    container = Container(telegram_settings(database_url, botapi))
    telegram = TelegramBot(container, register=handlers, poll_timeout=FAST_POLL, retry_delay=0.05)
    app = create_app(container, run_scheduler=False, telegram=telegram)
    async with app.router.lifespan_context(app):
        assert not telegram.running  # the HTTP server is up regardless
        await botapi.wait_for(lambda: telegram.running and telegram.application.updater.running)
        botapi.push_update(message_update("/start", user_id=99))
        await botapi.wait_for(lambda: [c for c in botapi.calls_to("sendMessage") if c.chat_id == 99])
    assert len(botapi.calls_to("getMe")) == 3


def test_serve_without_a_token_says_how_to_turn_the_bot_on(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("TELEGRAM_")}
    env.update(DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path}/var/run.db")
    subprocess.run([COACHBOT, "db", "upgrade"], env=env, cwd=tmp_path, check=True, capture_output=True, timeout=60)
    output = _serve_until_healthy(env, tmp_path)
    assert "Telegram bot is off" in output and "@BotFather" in output and "TELEGRAM_BOT_TOKEN" in output


@pytest.mark.skipif(not HAVE_HANDLERS, reason="conversations/telegram/handlers.py is not written yet")
def test_serve_runs_the_real_bot_in_polling_mode(tmp_path, botapi):
    env = {k: v for k, v in os.environ.items() if not k.startswith("TELEGRAM_")}
    env.update(
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path}/var/run.db",
        TELEGRAM_BOT_TOKEN=TOKEN,
        TELEGRAM_API_URL=botapi.api_url,
    )
    subprocess.run([COACHBOT, "db", "upgrade"], env=env, cwd=tmp_path, check=True, capture_output=True, timeout=60)
    botapi.push_update(message_update("/start", user_id=31337))

    def answered() -> bool:
        return any(c.chat_id == 31337 for c in botapi.calls_to("sendMessage"))

    output = _serve_until_healthy(env, tmp_path, until=answered)
    assert answered(), output
    assert TOKEN not in output and "Telegram bot is off" not in output


class _NoApi:
    api_url = "http://127.0.0.1:9/bot"


async def _book(container: Container, *, telegram_id: int):
    ctx = container.ctx
    coach = await catalog.add_coach(ctx, name="Maya Lind", timezone="UTC", rate=6000, min_notice_minutes=0)
    for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun"):
        await catalog.add_rule(ctx, coach.id, weekday=day, start="00:00", end="24:00")
    author = await catalog.add_author(ctx, name="Ann", timezone="Europe/Berlin", telegram_id=telegram_id)
    start = container.clock.now().replace(minute=0, second=0, microsecond=0) + timedelta(days=2)
    return await bookings.book(ctx, coach.id, author.id, start)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve_until_healthy(env: dict, cwd, *, until=lambda: True, timeout: float = 30) -> str:
    port = _free_port()
    server = subprocess.Popen(
        [COACHBOT, "serve", "--port", str(port)],
        env=env,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                healthy = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200
            except httpx.TransportError:
                healthy = False
            if healthy and until():
                break
            if time.monotonic() > deadline or server.poll() is not None:
                break
            time.sleep(0.2)
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=30)
    assert healthy, output
    return output
