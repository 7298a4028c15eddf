"""Composition root: builds the adapters from settings and hands out the use cases' context."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from booking import waitlist_offers
from booking.context import Context
from booking.notifier_ports import Notifier
from booking.outbox import Delivery
from booking.ports import Clock, PaymentGateway, VideoRooms
from bot.calendars import calendar_access, calendar_pushes
from bot.notifiers import Channels
from bot.settings import Settings
from bot.waitlist_loop import WaitlistLoop
from integrations.clock import SystemClock
from integrations.included_payments import IncludedPayments
from integrations.log_notifier import LogNotifier
from integrations.video import make_video_rooms
from storage.engine import make_engine
from storage.unit_of_work import Database

if TYPE_CHECKING:
    from bot.slack_app import SlackBot
    from bot.telegram_app import TelegramBot
    from integrations.stripe_payments import StripeWebhook

DELIVERY_POLL_SECONDS = 1.0  # the delivery loop also looks this often (messages falling due, other processes)
_OUTBOX_WRITTEN = "coachbot.outbox_written"
_OUTBOX_COMMITTED = "coachbot.outbox_committed"


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
        # Each message goes to its recipient's channel. Until the Telegram bot runs, the authors'
        # go to the log; use_telegram() and use_slack() route them to the running front ends,
        # unless a notifier was given explicitly (tests). Coaches' and admins' messages wait in
        # the outbox until Slack runs.
        self.channels = Channels()
        self.channels.route(LogNotifier())
        self.notifier: Notifier = notifier or self.channels
        self.notifier_injected = notifier is not None
        self.telegram: TelegramBot | None = None
        self.slack: SlackBot | None = None
        self.ctx = Context(self.db.uow, self.clock, self.payments, self.video, settings.booking())
        self.calendars = calendar_access(settings)
        self.channels.route(calendar_pushes(self.ctx, self.calendars))  # sessions to coaches' CalDAV calendars
        self.webhook = _webhook(settings)
        # The outbox's delivery: its loop runs with the scheduler (bot/scheduler.py), and every
        # commit that wrote outbox rows wakes it, so a message due now leaves at once.
        self.delivery = Delivery(self.db.uow, self.notifier, self.clock, poll=DELIVERY_POLL_SECONDS)
        # Waiting-list offers: a cancellation or a lapsed hold queues a message too, so the same
        # commits wake the offer round (it runs with the scheduler, like the delivery loop).
        self.waitlist = WaitlistLoop(lambda: waitlist_offers.offer_freed(self.ctx))
        wake_on_outbox_commits(self.db.engine, self._outbox_committed)

    def _outbox_committed(self) -> None:
        self.delivery.wake()
        self.waitlist.wake()

    def use_telegram(self, telegram: TelegramBot) -> None:
        """The running bot (bot.telegram_app.TelegramBot): its notifier delivers the outbox."""
        self.telegram = telegram
        if not self.notifier_injected:
            self.channels.route(telegram.notifier)

    @property
    def bot_link(self) -> str | None:
        """The t.me link back to the chat: by TELEGRAM_BOT_USERNAME, else by the username the bot
        learned from Telegram at start; None while neither is known."""
        if self.settings.bot_link:
            return self.settings.bot_link
        username = self.telegram.username if self.telegram is not None else None
        return f"https://t.me/{username}" if username else None

    def use_slack(self, slack: SlackBot) -> None:
        """The running Slack app (bot.slack_app.SlackBot): its notifier takes coaches' and admins' messages."""
        self.slack = slack
        if not self.notifier_injected:
            self.channels.route(slack.notifier)

    async def close(self) -> None:
        await self.waitlist.stop()
        await self.delivery.stop()  # sends under way finish, the rest is given back, before the engine goes
        close_video = getattr(self.video, "aclose", None)
        if close_video is not None:
            await close_video()
        await self.db.dispose()


def wake_on_outbox_commits(engine: AsyncEngine, wake: Callable[[], None]) -> None:
    """Call `wake` once a transaction that inserted outbox rows has committed. The flag rides on
    the DBAPI connection: set by the INSERT, kept by COMMIT (dropped by ROLLBACK), and acted on
    when the connection goes back to the pool, which is after the commit has finished (waking
    before it, a claim on PostgreSQL could miss the rows)."""
    sync_engine = engine.sync_engine

    @event.listens_for(sync_engine, "after_cursor_execute")
    def _inserted(conn: Connection, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip()[:18].upper() == "INSERT INTO OUTBOX":
            conn.info[_OUTBOX_WRITTEN] = True

    @event.listens_for(sync_engine, "commit")
    def _committing(conn: Connection) -> None:
        if conn.info.pop(_OUTBOX_WRITTEN, False):
            conn.info[_OUTBOX_COMMITTED] = True

    @event.listens_for(sync_engine, "rollback")
    def _rolled_back(conn: Connection) -> None:
        conn.info.pop(_OUTBOX_WRITTEN, None)
        conn.info.pop(_OUTBOX_COMMITTED, None)

    @event.listens_for(sync_engine, "checkin")
    def _returned(dbapi_connection: Any, record: Any) -> None:
        if record.info.pop(_OUTBOX_COMMITTED, False):
            wake()


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
