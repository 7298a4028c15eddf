"""Composition root: builds the adapters from settings and hands out the use cases' context."""

from __future__ import annotations

from typing import TYPE_CHECKING

from booking.context import Context
from booking.ports import Clock, Notifier, PaymentGateway, VideoRooms
from bot.settings import Settings
from integrations.clock import SystemClock
from integrations.included_payments import IncludedPayments
from integrations.log_notifier import LogNotifier
from integrations.video import make_video_rooms
from storage.engine import make_engine
from storage.unit_of_work import Database

if TYPE_CHECKING:
    from bot.telegram_app import TelegramBot
    from integrations.stripe_payments import StripeWebhook


class Container:
    def __init__(
        self,
        settings: Settings,
        *,
        clock: Clock | None = None,
        payments: PaymentGateway | None = None,
        video: VideoRooms | None = None,
        notifier: Notifier | None = None,
    ):
        settings.ensure_sqlite_dir()
        self.settings = settings
        self.db = Database(make_engine(settings.database_url))
        self.clock: Clock = clock or SystemClock()
        self.payments: PaymentGateway = payments or _payments(settings, self.clock)
        self.video: VideoRooms = video or make_video_rooms(settings.video_provider, **settings.video_settings())
        # Until a chat front end is running, notifications go to the log; use_telegram() swaps in
        # the Telegram notifier unless a notifier was given explicitly (tests).
        self.notifier: Notifier = notifier or LogNotifier()
        self.notifier_injected = notifier is not None
        self.telegram: TelegramBot | None = None
        self.ctx = Context(self.db.uow, self.clock, self.payments, self.video, settings.booking())
        self.webhook = _webhook(settings)

    def use_telegram(self, telegram: TelegramBot) -> None:
        """The running bot (bot.telegram_app.TelegramBot): its notifier delivers the outbox."""
        self.telegram = telegram
        if not self.notifier_injected:
            self.notifier = telegram.notifier

    async def close(self) -> None:
        close_video = getattr(self.video, "aclose", None)
        if close_video is not None:
            await close_video()
        await self.db.dispose()


def _payments(settings: Settings, clock: Clock) -> PaymentGateway:
    if not settings.payments_enabled:
        return IncludedPayments()
    from integrations.stripe_payments import StripePayments

    assert settings.stripe_secret_key is not None  # payments_enabled: the key is set
    return StripePayments(
        settings.stripe_secret_key.get_secret_value(),
        public_base_url=settings.public_base_url,
        api_base=settings.stripe_api_base,
        clock=clock,
    )


def _webhook(settings: Settings) -> StripeWebhook | None:
    if not (settings.payments_enabled and settings.stripe_webhook_secret):
        return None
    from integrations.stripe_payments import StripeWebhook

    return StripeWebhook(settings.stripe_webhook_secret.get_secret_value())
