"""A fixed session to hand the adapters."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from booking.model import Session, SessionStatus

START = datetime(2031, 5, 6, 14, 0, tzinfo=UTC)


def make_session(starts_at: datetime = START, minutes: int = 60) -> Session:
    ends_at = starts_at + timedelta(minutes=minutes)
    return Session(
        coach_id=1,
        author_id=2,
        starts_at=starts_at,
        ends_at=ends_at,
        blocked_from=starts_at,
        blocked_until=ends_at,
        duration_minutes=minutes,
        status=SessionStatus.SCHEDULED,
        price_amount=6000,
        currency="usd",
        id=42,
    )
