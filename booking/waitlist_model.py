"""Waiting lists: an author's place in line for a coach's full slot, day or week.

An entry wants a window of start times ([starts_at, ends_at), UTC; one start for a slot, the
author's local day for a day, the author's local Monday-to-Monday week for a week) and a session
length. It waits until a slot of that length frees up inside the window; then the first entry in
line (the oldest) is OFFERED a held session, which the author books with one tap or lets go. An
offer taken is BOOKED; one declined or left to lapse is PASSED (the author may join again, at the
back). LEFT: the author left the line; EXPIRED: the window passed before anything freed up.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta

from booking.errors import InvalidTransition
from booking.model import Coach, Interval


class WantKind(str, enum.Enum):
    SLOT = "slot"
    DAY = "day"
    WEEK = "week"


class EntryStatus(str, enum.Enum):
    WAITING = "waiting"
    OFFERED = "offered"
    BOOKED = "booked"
    PASSED = "passed"
    LEFT = "left"
    EXPIRED = "expired"


OPEN_STATUSES = frozenset({EntryStatus.WAITING, EntryStatus.OFFERED})


@dataclass
class WaitlistEntry:
    coach_id: int
    author_id: int
    kind: WantKind
    starts_at: datetime  # the first start wanted
    ends_at: datetime  # starts before this; a slot's window holds just its own start
    duration_minutes: int
    zone: str  # the zone the day or week was read in (the author's), for showing it back
    status: EntryStatus = EntryStatus.WAITING
    session_id: int | None = None  # the held session of the open (or last) offer
    offered_at: datetime | None = None
    created_at: datetime | None = None
    closed_at: datetime | None = None
    id: int | None = None

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def offer(self, session_id: int, now: datetime) -> None:
        if self.status is not EntryStatus.WAITING:
            raise InvalidTransition(f"waiting-list entry {self.id} is {self.status.value}; it has an offer already")
        self.status, self.session_id, self.offered_at = EntryStatus.OFFERED, session_id, now

    def close(self, status: EntryStatus, now: datetime) -> None:
        if not self.is_open:
            raise InvalidTransition(f"waiting-list entry {self.id} is {self.status.value} already")
        self.status, self.closed_at = status, now


def bookable_part(coach: Coach, now: datetime, wanted: Interval) -> Interval | None:
    """The part of a window the coach can still be booked in (from now to their horizon)."""
    start, end = max(wanted.start, now), min(wanted.end, now + timedelta(days=coach.horizon_days))
    return Interval(start, end) if start < end else None
