"""Composition root: builds the adapters from settings and hands out the use cases' context."""

from __future__ import annotations

from booking.context import Context
from booking.ports import Clock
from bot.settings import Settings
from integrations.clock import SystemClock
from integrations.included_payments import IncludedPayments
from integrations.log_notifier import LogNotifier
from integrations.video import make_video_rooms
from storage.engine import make_engine
from storage.unit_of_work import Database


class Container:
    def __init__(self, settings: Settings, *, clock=None, payments=None, video=None, notifier=None):
        settings.ensure_sqlite_dir()
        self.settings = settings
        self.db = Database(make_engine(settings.database_url))
        self.clock = clock or SystemClock()
        self.payments = payments or _payments(settings, self.clock)
        self.video = video or make_video_rooms(settings.video_provider, **settings.video_settings())
        # Until a chat front end is running, notifications go to the log; use_telegram() swaps in
        # the Telegram notifier unless a notifier was given explicitly (tests).
        self.notifier = notifier or LogNotifier()
        self.notifier_injected = notifier is not None
        self.telegram = None
        self.ctx = Context(self.db.uow, self.clock, self.payments, self.video, settings.booking())
        self.webhook = _webhook(settings)

    def use_telegram(self, telegram) -> None:
        """The running bot (bot.telegram_app.TelegramBot): its notifier delivers the outbox."""
        self.telegram = telegram
        if not self.notifier_injected:
            self.notifier = telegram.notifier

    async def close(self) -> None:
        close_video = getattr(self.video, "aclose", None)
        if close_video is not None:
            await close_video()
        await self.db.dispose()


def _payments(settings: Settings, clock: Clock):
    if not settings.payments_enabled:
        return IncludedPayments()
    from integrations.stripe_payments import StripePayments

    return StripePayments(
        settings.stripe_secret_key.get_secret_value(),
        public_base_url=settings.public_base_url,
        api_base=settings.stripe_api_base,
        clock=clock,
    )


def _webhook(settings: Settings):
    if not (settings.payments_enabled and settings.stripe_webhook_secret):
        return None
    from integrations.stripe_payments import StripeWebhook

    return StripeWebhook(settings.stripe_webhook_secret.get_secret_value())
