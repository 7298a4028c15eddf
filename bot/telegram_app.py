"""The authors' Telegram bot: the python-telegram-bot Application, built from settings and run
inside the HTTP server's lifespan (bot/http.py).

- polling (default): the Application's Updater long-polls getUpdates.
- webhook: no Updater; on start the bot calls setWebhook(PUBLIC_BASE_URL + /webhooks/telegram,
  secret_token=TELEGRAM_WEBHOOK_SECRET) and the HTTP server feeds verified POSTs into
  `application.update_queue`. The webhook is left in place on shutdown so Telegram queues updates
  across a restart.

Outbound calls go through PacedRateLimiter: calls to chats leave evenly spaced, at most
SEND_RATE per second for the whole bot (Telegram allows about 30; AIORateLimiter let 30 out at
once and then metered, which draws 429s against a strict window), 20 a minute per group as
before, and a 429's retry_after holds every call to a chat, then the call is retried. Chat state is read from and written to our database
per update (bot/telegram_state.py), so the Application keeps none between updates. If Telegram cannot be reached at startup the server still serves
and the bot keeps trying in the background; a token Telegram rejects is logged once, clearly,
and the bot stays off until the setting is fixed (outbox messages wait, nothing is lost)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Coroutine
from datetime import timedelta
from typing import Any

import structlog
from aiolimiter import AsyncLimiter
from telegram import Update
from telegram.error import BadRequest, InvalidToken, NetworkError, RetryAfter, TelegramError
from telegram.ext import Application, ApplicationBuilder, BaseRateLimiter, ContextTypes

from bot.container import Container
from bot.telegram_state import DatabaseChatStates
from conversations.telegram.earlier_messages import EarlierMessages
from conversations.telegram.notifier import TelegramNotifier

log = structlog.get_logger(__name__)

Register = Callable[..., None]  # (application, ctx, *, payments_enabled, states) -> None

RATE_LIMIT_RETRIES = 3
SEND_RATE = 28.0  # calls to chats per second, evenly spaced (Telegram: about 30/s; measured: no 429s)
GROUP_RATE = (20, 60.0)  # calls per group and period (s), as AIORateLimiter's defaults
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
        .rate_limiter(PacedRateLimiter(max_retries=RATE_LIMIT_RETRIES))
    )
    if settings.telegram_mode == "webhook":
        builder = builder.updater(None)
    application = builder.build()
    if register is None:
        from conversations.telegram import register as register_conversations

        register = register_conversations
    states = DatabaseChatStates(container.db, container.clock)
    register(application, container.ctx, payments_enabled=container.payments.enabled, states=states)
    if not application.error_handlers:
        application.add_error_handler(_log_error)
    return application


class EvenPace:
    """Evenly spaced departures, one every 1/rate seconds on a fixed schedule, taken in turn (FIFO).
    A caller that finds the schedule behind by more than half an interval (the pace was idle, or
    the event loop stalled) starts it afresh from now instead of catching up, so no burst ever
    leaves; a late wake-up of a few milliseconds is not carried over to the next one. `hold`
    keeps everyone back until a time (a 429's retry_after)."""

    def __init__(self, rate: float):
        self.interval = 1.0 / rate
        self._turn = asyncio.Lock()
        self._next = float("-inf")
        self._held_until = 0.0

    async def wait(self) -> None:
        loop = asyncio.get_running_loop()
        async with self._turn:
            if self._next < loop.time() - self.interval / 2:
                self._next = loop.time()
            delay = self._delay(loop.time())
            while delay > 0:  # a 429 may hold the pace meanwhile: look again after sleeping
                await asyncio.sleep(delay)
                delay = self._delay(loop.time())
            self._next = max(self._next, self._held_until) + self.interval

    def _delay(self, now: float) -> float:
        return max(self._next, self._held_until) - now

    def hold(self, seconds: float) -> None:
        self._held_until = max(self._held_until, asyncio.get_running_loop().time() + seconds)


class PacedRateLimiter(BaseRateLimiter[int]):
    """python-telegram-bot's rate limiter hook, pacing evenly: every call to a chat waits for its
    slot of one EvenPace shared by the whole bot; calls to groups also wait for the group's
    20-a-minute limiter (aiolimiter, as AIORateLimiter); a RetryAfter (429) holds the pace for
    retry_after + 0.1 s and the call is retried, up to `max_retries` times (`rate_limit_args`
    overrides that per call), then raised."""

    def __init__(self, rate: float = SEND_RATE, *, max_retries: int = 0):
        self.pace = EvenPace(rate)
        self.max_retries = max_retries
        self._groups: dict[int | str, AsyncLimiter] = {}

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to tear down."""

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        retries = rate_limit_args or self.max_retries
        chat_id = data.get("chat_id")
        with contextlib.suppress(ValueError, TypeError):
            chat_id = int(chat_id)  # type: ignore[arg-type]
        group = chat_id if (isinstance(chat_id, int) and chat_id < 0) or isinstance(chat_id, str) else None
        for attempt in range(retries + 1):
            try:
                async with self._group(group):
                    if chat_id is not None:
                        await self.pace.wait()
                    return await callback(*args, **kwargs)
            except RetryAfter as exc:
                if attempt == retries:
                    log.warning("telegram.rate_limited", endpoint=endpoint, retries=retries)
                    raise
                seconds = _seconds(exc) + 0.1
                log.info("telegram.retry_after", endpoint=endpoint, seconds=seconds)
                self.pace.hold(seconds)
                if chat_id is None:
                    await asyncio.sleep(seconds)
        raise AssertionError("unreachable")

    def _group(self, group: int | str | None) -> contextlib.AbstractAsyncContextManager[Any]:
        if group is None:
            return contextlib.nullcontext()
        if group not in self._groups:
            if len(self._groups) > 512:  # forget groups whose limiter is full again
                self._groups = {k: v for k, v in self._groups.items() if not v.has_capacity(v.max_rate)}
            self._groups[group] = AsyncLimiter(*GROUP_RATE)
        return self._groups[group]


def _seconds(exc: RetryAfter) -> float:
    value = getattr(exc, "_retry_after", None)  # a timedelta; the public attribute may be an int
    return value.total_seconds() if isinstance(value, timedelta) else float(exc.retry_after)  # type: ignore[arg-type]


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
        self.notifier = TelegramNotifier(
            self.application.bot,
            container.ctx,
            now=container.clock.now,
            earlier=EarlierMessages(DatabaseChatStates(container.db, container.clock)),
        )
        self.delivery = container.delivery
        self.poll_timeout = poll_timeout
        self.retry_delay = retry_delay
        self.token_rejected = False
        self.start_error: str | None = None
        self._retry: asyncio.Task[None] | None = None
        self._post_init_done = False

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

    @property
    def username(self) -> str | None:
        """The bot's username as Telegram gave it (getMe), once the bot has started."""
        try:
            return self.application.bot.username
        except RuntimeError:  # not initialized yet: Telegram not reached
            return None

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
        if app.post_init is not None and not self._post_init_done:
            # run_polling/run_webhook would call it; we drive the Application ourselves (the command menu)
            await app.post_init(app)
            self._post_init_done = True
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
        if self.delivery.notifier is self.notifier:  # run on its own (the server stops the delivery first)
            await self.delivery.stop()
        app = self.application
        try:
            if app.updater is not None and app.updater.running:
                await app.updater.stop()
            if app.running:
                await app.stop()
        finally:
            await app.shutdown()
        log.info("telegram.stopped")


def make_telegram(container: Container, *, register: Register | None = None) -> TelegramBot | None:
    """The bot when a token is configured, else None (after saying so in the log)."""
    if not container.settings.telegram_enabled:
        return None
    return TelegramBot(container, register=register)
