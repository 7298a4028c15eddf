"""The authors' Telegram bot: the python-telegram-bot Application, built from settings and run
inside the HTTP server's lifespan (bot/http.py).

- polling (default): the Application's Updater long-polls getUpdates.
- webhook: no Updater; on start the bot calls setWebhook(PUBLIC_BASE_URL + /webhooks/telegram,
  secret_token=TELEGRAM_WEBHOOK_SECRET) and the HTTP server feeds verified POSTs into
  `application.update_queue`. The webhook is left in place on shutdown so Telegram queues updates
  across a restart.

Outbound calls go through AIORateLimiter (Telegram's overall and per-group limits; a 429's
retry_after is waited out and the call retried). Conversation state is kept in our database
(bot/telegram_persistence.py). If Telegram cannot be reached at startup the server still serves
and the bot keeps trying in the background; a token Telegram rejects is logged once, clearly,
and the bot stays off until the setting is fixed (outbox messages wait, nothing is lost)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import structlog
from telegram import Update
from telegram.error import BadRequest, InvalidToken, NetworkError, TelegramError
from telegram.ext import AIORateLimiter, Application, ApplicationBuilder, ContextTypes

from bot.container import Container
from bot.telegram_persistence import DatabasePersistence
from conversations.telegram.notifier import TelegramNotifier

log = structlog.get_logger(__name__)

Register = Callable[..., None]  # (application, ctx, *, payments_enabled) -> None

RATE_LIMIT_RETRIES = 3
POLL_TIMEOUT = timedelta(seconds=10)
START_RETRY_MAX = 300.0  # seconds between attempts to reach Telegram, at most

BOT_OFF_MESSAGE = (
    "Telegram bot is off: TELEGRAM_BOT_TOKEN is not set. Create a bot with @BotFather "
    "(https://t.me/BotFather, command /newbot), then put its token in TELEGRAM_BOT_TOKEN "
    "(.env or the environment) and restart. Serving HTTP without the bot."
)
TOKEN_REJECTED_MESSAGE = (
    "Telegram rejected TELEGRAM_BOT_TOKEN: check the token @BotFather gave you (/mybots -> API Token) "
    "and restart. The bot stays off meanwhile; notifications wait in the outbox."
)


def build_application(container: Container, *, register: Register | None = None) -> Application:
    settings = container.settings
    if not settings.telegram_enabled or settings.telegram_bot_token is None:
        raise ValueError("TELEGRAM_BOT_TOKEN is not set")
    builder = (
        ApplicationBuilder()
        .token(settings.telegram_bot_token.get_secret_value().strip())
        .base_url(settings.telegram_api_url)
        .base_file_url(settings.telegram_file_url)
        .rate_limiter(AIORateLimiter(max_retries=RATE_LIMIT_RETRIES))
        .persistence(DatabasePersistence(container.db))
    )
    if settings.telegram_mode == "webhook":
        builder = builder.updater(None)
    application = builder.build()
    if register is None:
        from conversations.telegram import register as register_conversations

        register = register_conversations
    register(application, container.ctx, payments_enabled=container.payments.enabled)
    if not application.error_handlers:
        application.add_error_handler(_log_error)
    return application


async def _log_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    update_id = update.update_id if isinstance(update, Update) else None
    log.error("telegram.handler_failed", update_id=update_id, error=repr(context.error), exc_info=context.error)


class TelegramBot:
    """The Application and its life: start and stop with the HTTP server."""

    def __init__(
        self,
        container: Container,
        *,
        register: Register | None = None,
        poll_timeout: timedelta = POLL_TIMEOUT,
        retry_delay: float = 5.0,
    ):
        self.settings = container.settings
        self.application = build_application(container, register=register)
        self.notifier = TelegramNotifier(self.application.bot, container.ctx, now=container.clock.now)
        self.poll_timeout = poll_timeout
        self.retry_delay = retry_delay
        self.token_rejected = False
        self.start_error: str | None = None
        self._retry: asyncio.Task[None] | None = None

    @property
    def webhook_mode(self) -> bool:
        return self.settings.telegram_mode == "webhook"

    @property
    def webhook_secret(self) -> str:
        secret = self.settings.telegram_webhook_secret
        assert secret is not None  # Settings requires it in webhook mode, the only mode that reads it
        return secret.get_secret_value()

    @property
    def running(self) -> bool:
        return self.application.running

    async def start(self) -> None:
        """Start now if Telegram answers; otherwise keep trying in the background."""
        try:
            await self._start_once()
        except InvalidToken:  # its message contains the token: never log it
            self.token_rejected = True
            log.error(TOKEN_REJECTED_MESSAGE)
        except BadRequest as exc:  # a NetworkError to PTB, but a retry would be refused the same way
            self._failed(exc)
        except NetworkError as exc:
            log.warning("telegram.unreachable", error=str(exc), retry_in=self.retry_delay)
            self._retry = asyncio.create_task(self._keep_trying())
        except TelegramError as exc:
            self._failed(exc)

    def _failed(self, exc: TelegramError) -> None:
        """Telegram refused to start the bot as configured (e.g. setWebhook without HTTPS)."""
        self.start_error = str(exc)
        log.error(
            "telegram.start_failed",
            error=str(exc),
            mode=self.settings.telegram_mode,
            hint="the bot stays off; fix the settings and restart",
        )

    async def _keep_trying(self) -> None:
        delay = self.retry_delay
        while True:
            await asyncio.sleep(delay)
            try:
                await self._start_once()
                return
            except InvalidToken:
                self.token_rejected = True
                log.error(TOKEN_REJECTED_MESSAGE)
                return
            except BadRequest as exc:
                self._failed(exc)
                return
            except NetworkError as exc:
                delay = min(delay * 2, START_RETRY_MAX)
                log.warning("telegram.unreachable", error=str(exc), retry_in=delay)
            except TelegramError as exc:
                self._failed(exc)
                return

    async def _start_once(self) -> None:
        app = self.application
        await app.initialize()  # getMe; idempotent once it succeeded
        if self.webhook_mode:
            await app.bot.set_webhook(
                url=self.settings.telegram_webhook_url,
                secret_token=self.webhook_secret,
                allowed_updates=Update.ALL_TYPES,
            )
        else:
            updater = app.updater
            assert updater is not None  # only webhook mode builds the Application without one
            if not updater.running:
                await updater.start_polling(
                    timeout=self.poll_timeout,
                    allowed_updates=Update.ALL_TYPES,
                    bootstrap_retries=3,
                )
        if not app.running:  # last: the bot counts as running only once Telegram has accepted it
            await app.start()
        log.info("telegram.started", mode=self.settings.telegram_mode, username=app.bot.username)

    async def feed(self, data: dict[str, Any]) -> None:
        """One update from the webhook (already authenticated), processed by the Application."""
        await self.application.update_queue.put(Update.de_json(data, self.application.bot))

    async def stop(self) -> None:
        if self._retry is not None:
            self._retry.cancel()
            try:
                await self._retry
            except (asyncio.CancelledError, Exception):
                pass
            self._retry = None
        app = self.application
        try:
            if app.updater is not None and app.updater.running:
                await app.updater.stop()
            if app.running:
                await app.stop()  # also writes the persistence one last time
        finally:
            await app.shutdown()
        log.info("telegram.stopped")


def make_telegram(container: Container, *, register: Register | None = None) -> TelegramBot | None:
    """The bot when a token is configured, else None (after saying so in the log)."""
    if not container.settings.telegram_enabled:
        return None
    return TelegramBot(container, register=register)
