"""Free days and times of a coach, seen from the author's zone. Shared by booking and
rescheduling; all windows are clipped to [now, now + the coach's horizon)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from booking.availability import local_to_utc
from booking.model import Coach
from booking.services import BookingService

_PROBE = timedelta(seconds=1)


def _midnight(day: date, zone: str) -> datetime:
    return local_to_utc(day, 0, ZoneInfo(zone), fold=0)


def _next_month(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def month_range(coach: Coach, zone: str, now: datetime) -> tuple[date, date]:
    """First and last calendar month (first days) the author can book in."""
    tz = ZoneInfo(zone)
    first = now.astimezone(tz).date().replace(day=1)
    last = (now + timedelta(days=coach.horizon_days)).astimezone(tz).date().replace(day=1)
    return first, last


async def _starts(
    service: BookingService, coach: Coach, durations: list[int], start: datetime, end: datetime,
    exclude: int | None = None,
) -> list[datetime]:
    now = service.clock.now()
    start, end = max(start, now), min(end, now + timedelta(days=coach.horizon_days))
    if end <= start:
        return []
    found: set[datetime] = set()
    for minutes in durations:
        found.update(s.start for s in await service.slots(coach.id, start, end, minutes, exclude=exclude))
    return sorted(found)


async def free_days(
    service: BookingService, coach: Coach, durations: list[int], zone: str, month: date, exclude: int | None = None
) -> set[date]:
    starts = await _starts(service, coach, durations, _midnight(month, zone), _midnight(_next_month(month), zone),
                           exclude)
    tz = ZoneInfo(zone)
    return {s.astimezone(tz).date() for s in starts}


async def day_starts(
    service: BookingService, coach: Coach, durations: list[int], zone: str, day: date, exclude: int | None = None
) -> list[datetime]:
    return await _starts(service, coach, durations, _midnight(day, zone), _midnight(day + timedelta(days=1), zone),
                         exclude)


async def fitting(
    service: BookingService, coach: Coach, durations: list[int], start: datetime, exclude: int | None = None
) -> list[int]:
    """Which of `durations` can start exactly at `start` now."""
    found = []
    for minutes in durations:
        slots = await service.slots(coach.id, start, start + _PROBE, minutes, exclude=exclude)
        if slots and slots[0].start == start:
            found.append(minutes)
    return found


async def first_free_month(
    service: BookingService, coach: Coach, durations: list[int], zone: str, exclude: int | None = None
) -> tuple[date | None, set[date]]:
    """The first month with a free day (and its free days), or (None, empty)."""
    first, last = month_range(coach, zone, service.clock.now())
    month = first
    while month <= last:
        days = await free_days(service, coach, durations, zone, month, exclude)
        if days:
            return month, days
        month = _next_month(month)
    return None, set()
