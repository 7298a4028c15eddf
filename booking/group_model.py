"""Group sessions: a coach's slot with a number of seats at a price per seat. Each seat is a
normal booking.model.Session carrying the group slot's id and its seat number, so it is paid,
cancelled and refunded on its own; the meeting room is the group slot's and shared."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime

from booking.model import Author, Interval, Money, Session

MIN_SEATS, MAX_SEATS = 2, 100
MIN_MINUTES, MAX_MINUTES = 15, 8 * 60


class GroupStatus(str, enum.Enum):
    OPEN = "open"
    CANCELLED = "cancelled"


@dataclass
class GroupSlot:
    coach_id: int
    starts_at: datetime
    ends_at: datetime
    # The span kept clear on the coach's calendar, the coach's buffers included (fixed at creation).
    blocked_from: datetime
    blocked_until: datetime
    duration_minutes: int
    seats: int
    price_amount: int  # per seat, minor units
    currency: str
    status: GroupStatus = GroupStatus.OPEN
    meeting_url: str | None = None  # one room for every seat
    created_at: datetime | None = None
    cancelled_at: datetime | None = None
    id: int | None = None

    @property
    def price(self) -> Money:
        return Money(self.price_amount, self.currency)

    @property
    def blocked(self) -> Interval:
        return Interval(self.blocked_from, self.blocked_until)

    @property
    def is_open(self) -> bool:
        return self.status is GroupStatus.OPEN


@dataclass(frozen=True)
class GroupOffer:
    """A group slot with how many of its seats are taken (an unpaid seat counts until its hold lapses)."""

    slot: GroupSlot
    taken: int

    @property
    def seats_left(self) -> int:
        return max(self.slot.seats - self.taken, 0)


@dataclass(frozen=True)
class Roster:
    """What the coach sees of a group slot: every seat not cancelled, with its attendee."""

    slot: GroupSlot
    seats: list[tuple[Session, Author]] = field(default_factory=list)

    @property
    def seats_left(self) -> int:
        return max(self.slot.seats - len(self.seats), 0)
