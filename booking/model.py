"""Entities and value objects of the booking domain. Plain dataclasses: storage maps them
imperatively, so nothing here knows about a database."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from booking.errors import InvalidTransition


class SessionStatus(str, enum.Enum):
    HELD = "held"
    SCHEDULED = "scheduled"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    NO_SHOW = "no_show"


# Sessions in these states occupy the coach's calendar (the database guards enforce the same set).
ACTIVE_STATUSES = frozenset({SessionStatus.HELD, SessionStatus.SCHEDULED, SessionStatus.IN_PROGRESS})

ALLOWED_TRANSITIONS: dict[SessionStatus, frozenset[SessionStatus]] = {
    SessionStatus.HELD: frozenset({SessionStatus.SCHEDULED, SessionStatus.CANCELLED}),
    SessionStatus.SCHEDULED: frozenset(
        {SessionStatus.IN_PROGRESS, SessionStatus.COMPLETED, SessionStatus.CANCELLED, SessionStatus.NO_SHOW}
    ),
    SessionStatus.IN_PROGRESS: frozenset({SessionStatus.COMPLETED, SessionStatus.NO_SHOW}),
    SessionStatus.COMPLETED: frozenset(),
    SessionStatus.CANCELLED: frozenset(),
    SessionStatus.NO_SHOW: frozenset(),
}


class Actor(str, enum.Enum):
    AUTHOR = "author"
    COACH = "coach"
    ADMIN = "admin"
    SYSTEM = "system"


class OverrideKind(str, enum.Enum):
    BLOCK = "block"  # time off inside the weekly hours
    EXTRA = "extra"  # hours outside the weekly rules


WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


DEFAULT_REMINDER_MINUTES = (24 * 60, 60)  # authors' default; coaches get these


@dataclass(frozen=True)
class Money:
    amount: int  # minor units
    currency: str

    def percent(self, pct: int) -> Money:
        exact = Decimal(self.amount) * Decimal(pct) / Decimal(100)
        return Money(int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP)), self.currency)

    def format(self) -> str:
        return f"{self.amount / 100:.2f} {self.currency.upper()}"


@dataclass(frozen=True, slots=True)
class Interval:
    """Half-open [start, end) between two aware UTC instants."""

    start: datetime
    end: datetime

    def overlaps(self, other: Interval) -> bool:
        return self.start < other.end and other.start < self.end


@dataclass
class Coach:
    name: str
    timezone: str
    rate: int  # minor units per hour
    currency: str = "usd"
    bio: str | None = None
    specialties: list[str] = field(default_factory=list)
    credentials: list[str] = field(default_factory=list)
    years_experience: int | None = None
    avatar_url: str | None = None
    email: str | None = None
    slack_user_id: str | None = None
    slack_team_id: str | None = None  # the workspace of slack_user_id (None: the one workspace of a bot token)
    slack_invite_hash: str | None = None  # sha256 of the one-time code that links a Slack user
    slack_invite_expires_at: datetime | None = None
    is_active: bool = True
    rating_total: int = 0
    rating_count: int = 0
    total_sessions: int = 0
    min_notice_minutes: int = 24 * 60
    horizon_days: int = 60
    buffer_before_minutes: int = 0
    buffer_after_minutes: int = 0
    durations: list[int] = field(default_factory=lambda: [60])
    slot_step_minutes: int | None = None  # None: the slot's own duration
    id: int | None = None
    created_at: datetime | None = None

    @property
    def rating(self) -> Decimal:
        if not self.rating_count:
            return Decimal("0.00")
        return (Decimal(self.rating_total) / Decimal(self.rating_count)).quantize(
            Decimal("0.01"), rounding=ROUND_HALF_UP
        )

    def session_completed(self) -> None:
        self.total_sessions += 1

    def completion_undone(self) -> None:
        self.total_sessions -= 1

    def rated(self, stars: int) -> None:
        self.rating_total += stars
        self.rating_count += 1

    def price_for(self, duration_minutes: int) -> Money:
        exact = Decimal(self.rate) * Decimal(duration_minutes) / Decimal(60)
        return Money(int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP)), self.currency)

    def step_for(self, duration_minutes: int) -> int:
        return self.slot_step_minutes or duration_minutes

    @property
    def buffer_before(self) -> timedelta:
        return timedelta(minutes=self.buffer_before_minutes)

    @property
    def buffer_after(self) -> timedelta:
        return timedelta(minutes=self.buffer_after_minutes)


@dataclass
class Author:
    name: str
    timezone: str
    telegram_id: int | None = None
    email: str | None = None
    reminder_minutes: list[int] = field(default_factory=lambda: list(DEFAULT_REMINDER_MINUTES))
    language: str | None = None  # an ISO 639-1 code the author reads ("en", "de"); None: not chosen yet
    id: int | None = None
    created_at: datetime | None = None


@dataclass
class AvailabilityRule:
    """A weekly window in the coach's wall-clock time; minutes from local midnight, end may be 1440."""

    coach_id: int
    weekday: int  # 0 = Monday
    start_minute: int
    end_minute: int
    id: int | None = None

    def overlaps(self, other: AvailabilityRule) -> bool:
        return (
            self.weekday == other.weekday
            and self.start_minute < other.end_minute
            and other.start_minute < self.end_minute
        )


@dataclass
class DateOverride:
    coach_id: int
    kind: OverrideKind
    starts_at: datetime
    ends_at: datetime
    reason: str | None = None
    id: int | None = None

    @property
    def interval(self) -> Interval:
        return Interval(self.starts_at, self.ends_at)


@dataclass
class Session:
    coach_id: int
    author_id: int
    starts_at: datetime
    ends_at: datetime
    # The span the session keeps clear on the coach's calendar, buffers included (fixed at booking).
    blocked_from: datetime
    blocked_until: datetime
    duration_minutes: int
    status: SessionStatus
    price_amount: int
    currency: str
    amount_paid: int = 0
    amount_refunded: int = 0
    # Owed to the author but not yet accepted by the payment provider; settled by the scheduler.
    refund_due: int = 0
    refund_attempt: int = 0  # bumped when a refund fails at the provider: the retry needs a new key
    hold_expires_at: datetime | None = None
    checkout_ref: str | None = None
    checkout_url: str | None = None
    payment_ref: str | None = None
    meeting_url: str | None = None
    focus: str | None = None
    series_id: int | None = None  # the recurring series this session is an occurrence of
    group_slot_id: int | None = None  # the group slot this session is a seat of (booking/group_model.py)
    seat: int | None = None  # its seat number there, 1 to the slot's seats
    cancelled_by: Actor | None = None
    cancelled_at: datetime | None = None
    cancel_reason: str | None = None
    coach_notes: str | None = None
    rating: int | None = None
    feedback: str | None = None
    rated_at: datetime | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    id: int | None = None

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    @property
    def price(self) -> Money:
        return Money(self.price_amount, self.currency)

    @property
    def refundable(self) -> int:
        return self.amount_paid - self.amount_refunded

    @property
    def kept(self) -> int:
        """What we still keep of the author's money: paid, less refunded and less owed back."""
        return self.amount_paid - self.amount_refunded - self.refund_due

    @property
    def blocked(self) -> Interval:
        return Interval(self.blocked_from, self.blocked_until)

    # ---- state changes: each checks the transition it makes -------------------------------

    def _become(self, to: SessionStatus, now: datetime) -> None:
        if to not in ALLOWED_TRANSITIONS[self.status]:
            raise InvalidTransition(f"session {self.id} is {self.status.value} and cannot become {to.value}")
        self.status = to
        self.updated_at = now

    def pay(self, amount: int, payment_ref: str | None, now: datetime) -> None:
        """The held session's payment arrived: it is scheduled."""
        self.amount_paid += amount
        self.payment_ref = payment_ref
        self._become(SessionStatus.SCHEDULED, now)
        self.hold_expires_at = None

    def release_hold(self, reason: str, now: datetime) -> None:
        self._become(SessionStatus.CANCELLED, now)
        self.cancelled_by, self.cancelled_at, self.cancel_reason = Actor.SYSTEM, now, reason
        self.hold_expires_at = None
        self._leave_shared_room()

    def cancel(self, by: Actor, reason: str | None, refund: int, now: datetime) -> None:
        if self.status not in (SessionStatus.HELD, SessionStatus.SCHEDULED):
            raise InvalidTransition(f"session {self.id} is {self.status.value} and cannot be cancelled")
        self._become(SessionStatus.CANCELLED, now)
        self.cancelled_by, self.cancelled_at, self.cancel_reason = by, now, reason
        self.owe_refund(refund)
        self._leave_shared_room()

    def _leave_shared_room(self) -> None:
        """A seat's room is its group's and lives on for the other seats: a seat given up keeps no
        way in. (A 1:1 session keeps its link until settling deletes the room.)"""
        if self.group_slot_id is not None:
            self.meeting_url = None

    def reinstate(self, now: datetime) -> None:
        """A released hold paid late while its slot is still free: it is scheduled after all."""
        self.status = SessionStatus.SCHEDULED
        self.updated_at = now
        self.cancelled_by = self.cancelled_at = self.cancel_reason = None
        self.hold_expires_at = None

    def check_movable(self) -> None:
        if self.group_slot_id is not None:
            raise InvalidTransition("a seat in a group session cannot be moved: cancel it and take another")
        if self.status is not SessionStatus.SCHEDULED:
            raise InvalidTransition(f"session {self.id} is {self.status.value}; only scheduled sessions can move")

    def move(self, slot: Interval, buffer_before: timedelta, buffer_after: timedelta, now: datetime) -> None:
        self.check_movable()
        self.starts_at, self.ends_at = slot.start, slot.end
        self.blocked_from, self.blocked_until = slot.start - buffer_before, slot.end + buffer_after
        self.meeting_url = None
        self.updated_at = now

    def start(self, now: datetime) -> None:
        self._become(SessionStatus.IN_PROGRESS, now)

    def complete(self, now: datetime) -> None:
        self._become(SessionStatus.COMPLETED, now)

    def require_started(self, now: datetime) -> None:
        if now < self.starts_at:
            raise InvalidTransition(
                f"session {self.id} has not started yet: mark it completed or a no-show once it has begun"
            )

    def mark_no_show(self, refund: int, now: datetime) -> bool:
        """Returns True when this undoes a completion (the coach's session count goes back)."""
        undone = False
        if self.status is SessionStatus.COMPLETED:
            # The scheduler completes sessions on its own after the end; a no-show may still be
            # recorded then, as long as the author has not rated the session.
            if self.rating is not None:
                raise InvalidTransition(f"session {self.id} was rated; it cannot become a no-show")
            self.status, undone = SessionStatus.SCHEDULED, True
        self._become(SessionStatus.NO_SHOW, now)
        self.owe_refund(refund)
        return undone

    def rate(self, stars: int, feedback: str | None, now: datetime) -> None:
        if self.status is not SessionStatus.COMPLETED:
            raise InvalidTransition("a session can be rated once it is completed")
        if self.rating is not None:
            raise InvalidTransition("this session has already been rated")
        self.rating, self.feedback, self.rated_at = stars, feedback, now

    def write_coach_notes(self, notes: str | None, now: datetime) -> None:
        """The coach's private notes on the session (None clears them); any status but a hold."""
        if self.status is SessionStatus.HELD:
            raise InvalidTransition(f"session {self.id} is not booked yet")
        self.coach_notes, self.updated_at = notes, now

    # ---- money ----------------------------------------------------------------------------

    def payment_received(self, amount: int, payment_ref: str | None, now: datetime) -> None:
        """A payment for a session that is not waiting for one (late, or a second one)."""
        self.amount_paid += amount
        self.payment_ref = payment_ref
        self.updated_at = now

    def owe_refund(self, amount: int) -> None:
        self.refund_due += amount

    def refunded(self, amount: int) -> None:
        """The provider took a refund of `amount` that was owed."""
        self.amount_refunded += amount
        self.refund_due -= amount

    def refund_recorded(self, amount: int) -> None:
        """The provider reports a refund we had not recorded (made outside us, or ours arriving
        before our own record): it counts as refunded, and no longer as owed."""
        self.amount_refunded += amount
        self.refund_due = max(0, self.refund_due - amount)

    def refund_failed(self, amount: int) -> None:
        """A refund the provider accepted failed later: owed again, retried under a new key."""
        self.amount_refunded -= amount
        self.refund_due += amount
        self.refund_attempt += 1


@dataclass
class StatusChange:
    session_id: int
    from_status: SessionStatus | None
    to_status: SessionStatus
    actor: Actor
    at: datetime
    reason: str | None = None
    id: int | None = None


@dataclass
class OutboxMessage:
    """Something to tell someone, written in the same transaction as the change it reports."""

    kind: str
    session_id: int | None
    due_at: datetime
    payload: dict[str, Any] = field(default_factory=dict)
    recipient: str = "author"  # booking.events.Recipient: whose channel delivers it
    coach_id: int | None = None  # a message about a coach rather than a session (the daily agenda)
    dedupe_key: str | None = None  # unique when set: a message queued once, whoever queues it
    claimed_at: datetime | None = None
    sent_at: datetime | None = None
    attempts: int = 0
    last_error: str | None = None
    id: int | None = None
