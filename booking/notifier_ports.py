"""What the outbox's delivery (booking/outbox.py) needs from the channels that tell people:
Telegram, Slack, the coaches' CalDAV calendars. Adapters live in conversations/ and booking/calendar_push.py."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from booking.model import OutboxMessage


class Notifier(Protocol):
    @property
    def recipients(self) -> frozenset[str]:
        """Recipients (booking.events.Recipient values) whose channel is running: messages for
        anyone else stay in the outbox until a notifier that reaches them runs."""

    async def deliver(self, message: OutboxMessage) -> None:
        """Tell the people concerned; raise to have the message retried."""


@dataclass(frozen=True)
class Prepared:
    """A claimed message made ready to send by a BatchNotifier.

    `send` is None when there is nothing to send: the message is done, because it no longer
    applies or, with `undeliverable` (the reason), because its person cannot be reached (the admins
    are told). `error` is set when it could not be prepared now: it is retried later. Messages to one `channel` (a chat) are sent one at a time, in their order."""

    message: OutboxMessage
    send: Callable[[], Awaitable[None]] | None = None
    channel: Hashable = None
    error: Exception | None = None
    undeliverable: str | None = None
    party: str | None = None  # whom an undeliverable message was for ("coach:12"; outcomes.Undeliverable)
    interval: float | None = None  # its channel's pacing, when not the notifier's channel_interval


@runtime_checkable
class BatchNotifier(Notifier, Protocol):
    """A notifier that prepares a whole claimed batch at once (one read for all of it) and whose
    sends can run concurrently, one channel at a time, `channel_interval` seconds apart."""

    channel_interval: float

    async def prepare(self, messages: Sequence[OutboxMessage]) -> list[Prepared]:
        """One Prepared per message, in the same order; never raises for one message's sake."""
