"""What a send comes to, and writing it back: sent, tried again later (SendLater sets when),
given back unsent, or closed as undeliverable (Undeliverable), which also tells the admins
(booking.events.DeliveryFailed) in the same transaction; a message for the admins themselves is
only closed."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from booking.events import DeliveryFailed, Recipient, to_message
from booking.model import OutboxMessage
from booking.ports import OutboxRepository, Retry


class SendLater(Exception):
    """Raised by a notifier whose platform is down or asks to slow down: the message is tried again
    after `after`, not after the growing backoff, so what waited leaves soon after it recovers."""

    def __init__(self, reason: str, after: timedelta):
        super().__init__(reason)
        self.after = after


class Undeliverable(Exception):
    """The message's person cannot be reached this way (they blocked the bot, left the workspace,
    have no account linked): sending again would not help. `party` names that person
    ("coach:12"): the admins hear about them once a day, not once per message."""

    def __init__(self, reason: str, party: str | None = None):
        super().__init__(reason)
        self.reason = reason
        self.party = party


def failure_notice(message: OutboxMessage, failure: Undeliverable, now: datetime) -> OutboxMessage | None:
    """What the admins are told of a message closed unsent (nothing for one of their own)."""
    if message.recipient == Recipient.ADMIN.value:
        return None
    try:
        failed_to = Recipient(message.recipient)
    except ValueError:
        return None
    event = DeliveryFailed(message.kind, failed_to, failure.reason[:300])
    key = f"undelivered:{failure.party}:{now.date().isoformat()}" if failure.party else None
    return to_message(event, message.session_id, now, coach_id=message.coach_id, dedupe_key=key)


@dataclass
class Outcomes:
    """Outcomes of sends waiting to be written back, all in one transaction."""

    sent: list[int] = field(default_factory=list)
    retries: list[Retry] = field(default_factory=list)
    released: list[int] = field(default_factory=list)
    renew: list[int] = field(default_factory=list)
    closed: dict[int, tuple[OutboxMessage, Undeliverable]] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not (self.sent or self.retries or self.released or self.renew or self.closed)

    def ids(self) -> list[int]:
        return self.sent + [r.message_id for r in self.retries] + self.released + self.renew + list(self.closed)

    def one_by_one(self) -> list[Outcomes]:
        return (
            [Outcomes(sent=[i]) for i in self.sent]
            + [Outcomes(retries=[r]) for r in self.retries]
            + [Outcomes(released=[i]) for i in self.released]
            + [Outcomes(closed={i: closed}) for i, closed in self.closed.items()]
            + ([Outcomes(renew=self.renew)] if self.renew else [])
        )

    async def write(self, outbox: OutboxRepository, now: datetime) -> None:
        if self.sent:
            await outbox.mark_sent(self.sent, now)
        if self.retries:
            await outbox.retry_later(self.retries)
        if self.released:
            await outbox.release(self.released)
        if self.renew:
            await outbox.renew(self.renew, now)
        if self.closed:
            reasons = {i: failure.reason for i, (_, failure) in self.closed.items()}
            for i in await outbox.close_undelivered(reasons, now):  # a notice only for what this closed
                notice = failure_notice(*self.closed[i], now)
                if notice is None:
                    continue
                if notice.dedupe_key:
                    await outbox.add_once([notice])  # once a day per person
                else:
                    await outbox.add(notice)
