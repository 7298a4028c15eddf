"""Typed domain events: one dataclass per outbox message kind, each addressed to a recipient.

A use case creates an event and `Context.tell` writes it to the outbox in the same transaction as
the change it reports; a notifier reads it back with `from_message` and dispatches on its type.
The payload of a stored message is the event's fields (instants as ISO-8601, enums as values).
"""

from __future__ import annotations

import dataclasses
import enum
import typing
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, ClassVar, Self

from booking.model import Actor, OutboxMessage


class Recipient(str, enum.Enum):
    AUTHOR = "author"
    COACH = "coach"
    ADMIN = "admin"
    CALENDAR = "calendar"  # the coach's connected CalDAV calendars (booking/calendar_push.py)


class RefundReason(str, enum.Enum):
    """Why a payment was given back in full."""

    DUPLICATE = "duplicate"  # a second payment for a session already paid
    SLOT_TAKEN = "slot_taken"  # paid after the hold lapsed, and the slot was taken meanwhile
    CANCELLED = "cancelled"  # paid for a session that had been cancelled
    WRONG_AMOUNT = "wrong_amount"  # the payment was not the session's price (or not in its currency)
    LAPSED = "lapsed"  # a series' one payment, arriving after its holds had lapsed together


@dataclass(frozen=True)
class Event:
    """`to` is whom a kind is for by default; `for_(who)` addresses a copy to someone else (the
    coach's copy of a cancellation). The recipient is stored in the message's own column, not in
    its payload."""

    kind: ClassVar[str]
    to: ClassVar[Recipient] = Recipient.AUTHOR
    audience: Recipient | None = field(default=None, kw_only=True)

    @property
    def recipient(self) -> Recipient:
        return self.audience or self.to

    def for_(self, who: Recipient) -> Self:
        return dataclasses.replace(self, audience=who)


@dataclass(frozen=True)
class SessionConfirmed(Event):
    kind: ClassVar[str] = "session_confirmed"


@dataclass(frozen=True)
class SeriesConfirmed(Event):
    """One message for a whole recurring series (instead of one SessionConfirmed per occurrence),
    queued on its first confirmed occurrence once none of it waits for payment any more; the
    notifier lists the series' confirmed occurrences as they are when it sends."""

    kind: ClassVar[str] = "series_confirmed"
    series_id: int


@dataclass(frozen=True)
class Reminder(Event):
    """Due before the start; `starts_at` is the start it was made for (stale once moved)."""

    kind: ClassVar[str] = "reminder"
    minutes_before: int
    starts_at: datetime


@dataclass(frozen=True)
class StartingNow(Event):
    kind: ClassVar[str] = "starting_now"
    starts_at: datetime


@dataclass(frozen=True)
class SessionCancelled(Event):
    kind: ClassVar[str] = "session_cancelled"
    by: Actor
    refund: int


@dataclass(frozen=True)
class SessionRescheduled(Event):
    kind: ClassVar[str] = "session_rescheduled"
    by: Actor
    previous: datetime


@dataclass(frozen=True)
class HoldExpired(Event):
    kind: ClassVar[str] = "hold_expired"
    reason: str


@dataclass(frozen=True)
class PaymentRefunded(Event):
    kind: ClassVar[str] = "payment_refunded"
    amount: int
    reason: RefundReason


@dataclass(frozen=True)
class RefundSent(Event):
    kind: ClassVar[str] = "refund_sent"
    amount: int


@dataclass(frozen=True)
class SessionNoShow(Event):
    kind: ClassVar[str] = "session_no_show"
    who: Actor
    refund: int


@dataclass(frozen=True)
class RatingPrompt(Event):
    kind: ClassVar[str] = "rating_prompt"


@dataclass(frozen=True)
class SessionCompleted(Event):
    """For the coach: their card shows the session as done (the author gets a RatingPrompt)."""

    kind: ClassVar[str] = "session_completed"
    to: ClassVar[Recipient] = Recipient.COACH


@dataclass(frozen=True)
class SessionRated(Event):
    kind: ClassVar[str] = "session_rated"
    to: ClassVar[Recipient] = Recipient.COACH
    stars: int


@dataclass(frozen=True)
class MaterialShared(Event):
    """For the other side of the session from the one who shared it."""

    kind: ClassVar[str] = "material_shared"
    by: Actor
    material_id: int

    @property
    def recipient(self) -> Recipient:
        return self.audience or (Recipient.COACH if self.by is Actor.AUTHOR else Recipient.AUTHOR)


@dataclass(frozen=True)
class DailyAgenda(Event):
    """The coach's sessions of `day` (their local date), sent at 08:00 there (booking/agenda.py).
    A message about the coach, not a session: its coach_id is set and its session_id is not."""

    kind: ClassVar[str] = "daily_agenda"
    to: ClassVar[Recipient] = Recipient.COACH
    day: date


@dataclass(frozen=True)
class RefundOwed(Event):
    """For the admins: a refund the payment provider did not take when it was granted. It stays
    owed and the scheduler retries it; the author hears when it is paid (RefundSent)."""

    kind: ClassVar[str] = "refund_owed"
    to: ClassVar[Recipient] = Recipient.ADMIN
    amount: int
    error: str


@dataclass(frozen=True)
class DeliveryFailed(Event):
    """For the admins: a message that could not reach its person and was closed unsent (the
    author blocked the bot, the coach has no Slack account linked...)."""

    kind: ClassVar[str] = "delivery_failed"
    to: ClassVar[Recipient] = Recipient.ADMIN
    failed_kind: str
    failed_to: Recipient
    reason: str


@dataclass(frozen=True)
class CalendarChanged(Event):
    """The session was booked, moved or cancelled: bring the coach's CalDAV calendars up to date
    (the push writes the session as it is when delivered, so a late or repeated one is harmless)."""

    kind: ClassVar[str] = "calendar_changed"
    to: ClassVar[Recipient] = Recipient.CALENDAR


class CalendarPart(str, enum.Enum):
    """What failed with a coach's calendar: reading its busy time, or writing sessions to it."""

    IMPORT = "import"
    PUSH = "push"


@dataclass(frozen=True)
class CalendarFailing(Event):
    """For the coach, once: one of their calendars started failing (booking/calendar_health.py).
    A message about the coach, not a session: its coach_id is set and its session_id is not."""

    kind: ClassVar[str] = "calendar_failing"
    to: ClassVar[Recipient] = Recipient.COACH
    source_id: int
    part: CalendarPart
    error: str


@dataclass(frozen=True)
class CalendarRecovered(Event):
    """For the coach, once: a calendar that was failing works again."""

    kind: ClassVar[str] = "calendar_recovered"
    to: ClassVar[Recipient] = Recipient.COACH
    source_id: int
    part: CalendarPart


@dataclass(frozen=True)
class WaitlistOffer(Event):
    """A slot the author waited for is held for them until `expires_at`: book it with one tap,
    or say no thanks and it goes to the next in line (booking/waitlist.py)."""

    kind: ClassVar[str] = "waitlist_offer"
    entry_id: int
    expires_at: datetime


EVENTS: dict[str, type[Event]] = {
    cls.kind: cls
    for cls in (
        SessionConfirmed,
        SeriesConfirmed,
        Reminder,
        StartingNow,
        SessionCancelled,
        SessionRescheduled,
        HoldExpired,
        PaymentRefunded,
        RefundSent,
        SessionNoShow,
        RatingPrompt,
        SessionCompleted,
        SessionRated,
        MaterialShared,
        DailyAgenda,
        RefundOwed,
        DeliveryFailed,
        CalendarChanged,
        CalendarFailing,
        CalendarRecovered,
        WaitlistOffer,
    )
}
# Messages tied to a session's start: superseded when it moves or is cancelled.
TIMED_KINDS = (Reminder.kind, StartingNow.kind)


def _payload_fields(cls: type[Event] | Event) -> list[dataclasses.Field[Any]]:
    return [f for f in dataclasses.fields(cls) if f.name != "audience"]


def to_message(
    event: Event,
    session_id: int | None,
    due_at: datetime,
    *,
    coach_id: int | None = None,
    dedupe_key: str | None = None,
) -> OutboxMessage:
    payload = {f.name: _encode(getattr(event, f.name)) for f in _payload_fields(event)}
    return OutboxMessage(
        kind=event.kind,
        session_id=session_id,
        due_at=due_at,
        payload=payload,
        recipient=event.recipient.value,
        coach_id=coach_id,
        dedupe_key=dedupe_key,
    )


def from_message(message: OutboxMessage) -> Event:
    """The event a stored message carries; ValueError for an unknown kind or a bad payload."""
    cls = EVENTS.get(message.kind)
    if cls is None:
        raise ValueError(f"unknown message kind {message.kind!r}")
    hints = typing.get_type_hints(cls)
    try:
        values = {f.name: _decode(hints[f.name], message.payload[f.name]) for f in _payload_fields(cls)}
        event = cls(**values)
        if message.recipient and message.recipient != event.recipient.value:
            event = event.for_(Recipient(message.recipient))
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"bad payload for {message.kind}: {exc}") from None
    return event


def _encode(value: Any) -> Any:
    if isinstance(value, datetime | date):  # a datetime is a date too: both as ISO-8601
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    return value


def _decode(kind: Any, value: Any) -> Any:
    if kind is datetime:
        return datetime.fromisoformat(value)
    if kind is date:
        return date.fromisoformat(value)
    if kind is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"expected a whole number, got {value!r}")
        return value
    if kind is str:
        return str(value)
    return kind(value)  # an enum
