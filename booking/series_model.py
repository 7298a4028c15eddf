"""Recurring series: how often, how many, what to do with occurrences that are not free, and how
they are paid. Each occurrence is a normal booking.model.Session carrying the series id."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime


class Repeat(str, enum.Enum):
    WEEKLY = "weekly"
    FORTNIGHTLY = "fortnightly"

    @property
    def weeks(self) -> int:
        return 1 if self is Repeat.WEEKLY else 2


class Conflicts(str, enum.Enum):
    """What a series does with an occurrence whose time is not free."""

    REFUSE = "refuse"  # book nothing
    SKIP = "skip"  # book the others
    APPEND = "append"  # keep stepping until the requested number are booked


class SeriesPayment(str, enum.Enum):
    PER_SESSION = "per_session"  # a checkout for each occurrence
    PER_SERIES = "per_series"  # one checkout for all of them (quantity = occurrences)


@dataclass
class Series:
    """Sessions booked together at the same wall time every week or fortnight; each occurrence is
    a normal Session carrying the series id."""

    coach_id: int
    author_id: int
    repeat: Repeat
    count: int  # occurrences asked for
    conflicts: Conflicts
    payment: SeriesPayment
    created_at: datetime | None = None
    id: int | None = None
