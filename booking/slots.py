"""Availability queries: free slots of a coach, the days and times an author can pick, and the
checks a booking makes on its slot under the coach's lock."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from booking import availability
from booking import validation as v
from booking.context import Context, coach_of, hours
from booking.errors import InvalidInput, SlotConflict, SlotUnavailable
from booking.model import Coach, Interval
from booking.ports import Calendar, UnitOfWork

ALTERNATIVES_SPAN = timedelta(days=7)
MAX_SLOT_WINDOW = timedelta(days=400)
SEARCH_STEP = timedelta(days=7)  # how far first_starts runs the slot engine at a time
PROBE = timedelta(microseconds=1)  # a window holding just one start: "is this exact slot bookable?"


async def slots(
    ctx: Context,
    coach_id: int,
    start: datetime,
    end: datetime,
    duration: int | None = None,
    *,
    exclude: int | None = None,
) -> list[Interval]:
    """Free slots; `exclude`: a session whose own time counts as free (for rescheduling it)."""
    start, end = v.instant("from", start), v.instant("to", end)
    if end <= start:
        raise InvalidInput("to", "must be after from")
    if end - start > MAX_SLOT_WINDOW:
        raise InvalidInput("to", "ask for at most 400 days at a time")
    async with ctx.uow() as uow:
        coach = await coach_of(uow, coach_id)
        return await free_slots(ctx, uow, coach, start, end, duration_of(coach, duration), exclude=exclude)


async def free_slots(
    ctx: Context,
    uow: UnitOfWork,
    coach: Coach,
    start: datetime,
    end: datetime,
    minutes: int,
    *,
    exclude: int | None = None,
) -> list[Interval]:
    if not coach.is_active:
        return []
    return compute(
        ctx, coach, await calendar(ctx, uow, coach, start, end, minutes, exclude=exclude), start, end, minutes
    )


async def calendar(
    ctx: Context,
    uow: UnitOfWork,
    coach: Coach,
    start: datetime,
    end: datetime,
    minutes: int,
    *,
    exclude: int | None = None,
) -> Calendar:
    """Everything the slot engine needs around [start, end), in one read."""
    assert coach.id is not None
    reach = timedelta(minutes=minutes + coach.buffer_before_minutes + coach.buffer_after_minutes)
    return await uow.availability.calendar(coach.id, start - reach, end + reach, now=ctx.now(), exclude=exclude)


def compute(
    ctx: Context,
    coach: Coach,
    cal: Calendar,
    start: datetime,
    end: datetime,
    minutes: int,
    *,
    busy: list[Interval] | None = None,
) -> list[Interval]:
    return availability.available_slots(
        coach,
        cal.rules,
        cal.overrides,
        [*(cal.busy if busy is None else busy), *cal.external],
        window_start=start,
        window_end=end,
        duration_minutes=minutes,
        now=ctx.now(),
    )


def slot_at(
    ctx: Context, coach: Coach, cal: Calendar, start: datetime, minutes: int, *, busy: list[Interval] | None = None
) -> Interval | None:
    found = compute(ctx, coach, cal, start, start + PROBE, minutes, busy=busy)
    return found[0] if found and found[0].start == start else None


def judge(ctx: Context, coach: Coach, cal: Calendar, start: datetime, minutes: int) -> Interval:
    """The slot at `start` if the calendar allows it; SlotConflict if only other sessions are in
    the way (a lost race), SlotUnavailable with the reason otherwise (busy time imported from the
    coach's own calendars included)."""
    slot = slot_at(ctx, coach, cal, start, minutes)
    if slot is not None:
        return slot
    if slot_at(ctx, coach, cal, start, minutes, busy=[]) is not None:
        raise SlotConflict()
    raise SlotUnavailable(why_unavailable(ctx, coach, start))


def why_unavailable(ctx: Context, coach: Coach, start: datetime) -> str:
    now = ctx.now()
    if not coach.is_active:
        return f"coach {coach.name} is not taking bookings"
    if start < now:
        return "that time is in the past"
    if start < now + timedelta(minutes=coach.min_notice_minutes):
        return f"{coach.name} needs at least {hours(coach.min_notice_minutes)} notice"
    if start >= now + timedelta(days=coach.horizon_days):
        return f"{coach.name} takes bookings at most {coach.horizon_days} days ahead"
    return f"{coach.name} is not available at that time"


async def alternatives(
    ctx: Context, coach_id: int, start: datetime, minutes: int | None, *, exclude: int | None = None
) -> list[tuple[datetime, datetime]]:
    """The free slots nearest to `start` within a week either side, for a refused booking."""
    async with ctx.uow() as uow:
        coach = await uow.coaches.get(coach_id)
        if coach is None:
            return []
        length = minutes if minutes in coach.durations else coach.durations[0]
        found = await free_slots(
            ctx, uow, coach, start - ALTERNATIVES_SPAN, start + ALTERNATIVES_SPAN, length, exclude=exclude
        )
    return [(s.start, s.end) for s in availability.nearest(found, start)]


def duration_of(coach: Coach, duration: int | None) -> int:
    if duration is None:
        return coach.durations[0]
    if duration not in coach.durations:
        offered = ", ".join(str(d) for d in coach.durations)
        raise InvalidInput("duration", f"{coach.name} offers {offered} minutes, not {duration}")
    return duration


# ---- what an author can pick, seen from their zone (chat front ends) ---------------------------
# All windows are clipped to [now, now + the coach's horizon). Each view takes the coach its caller
# has read and makes one calendar read for all the durations asked about (over the widest reach),
# so a month view costs one query whatever the number of durations the coach offers.


def month_range(coach: Coach, zone: str, now: datetime) -> tuple[date, date]:
    """First and last calendar month (first days) the author can book in."""
    tz = ZoneInfo(zone)
    first = now.astimezone(tz).date().replace(day=1)
    last = (now + timedelta(days=coach.horizon_days)).astimezone(tz).date().replace(day=1)
    return first, last


async def free_days(
    ctx: Context, coach: Coach, durations: list[int], zone: str, month: date, exclude: int | None = None
) -> set[date]:
    window = _clip(ctx, coach, _midnight(month, zone), _midnight(_next_month(month), zone))
    if window is None:
        return set()
    cal = await _calendar_for(ctx, coach, durations, *window, exclude)
    return _days(_starts(ctx, coach, cal, durations, *window), zone)


async def day_starts(
    ctx: Context, coach: Coach, durations: list[int], zone: str, day: date, exclude: int | None = None
) -> list[datetime]:
    window = _clip(ctx, coach, _midnight(day, zone), _midnight(day + timedelta(days=1), zone))
    if window is None:
        return []
    cal = await _calendar_for(ctx, coach, durations, *window, exclude)
    return _starts(ctx, coach, cal, durations, *window)


async def fitting(
    ctx: Context, coach: Coach, durations: list[int], start: datetime, exclude: int | None = None
) -> list[int]:
    """Which of `durations` can start exactly at `start` now."""
    start = v.instant("from", start)
    end = start + timedelta(seconds=1)
    cal = await _calendar_for(ctx, coach, durations, start, end, exclude)
    found = []
    for minutes in durations:
        free = compute(ctx, coach, cal, start, end, minutes) if coach.is_active else []
        if free and free[0].start == start:
            found.append(minutes)
    return found


async def first_free_month(
    ctx: Context, coach: Coach, durations: list[int], zone: str, exclude: int | None = None
) -> tuple[date | None, set[date]]:
    """The first month with a free day (and its free days), or (None, empty). One calendar read
    covers every month up to the horizon; the months are then searched in order."""
    first, last = month_range(coach, zone, ctx.now())
    whole = _clip(ctx, coach, _midnight(first, zone), _midnight(_next_month(last), zone))
    if whole is None:
        return None, set()
    cal = await _calendar_for(ctx, coach, durations, *whole, exclude)
    month = first
    while month <= last:
        window = _clip(ctx, coach, _midnight(month, zone), _midnight(_next_month(month), zone))
        days = _days(_starts(ctx, coach, cal, durations, *window), zone) if window else set()
        if days:
            return month, days
        month = _next_month(month)
    return None, set()


async def first_starts(
    ctx: Context, coach: Coach, durations: list[int], limit: int, exclude: int | None = None
) -> list[datetime]:
    """The first `limit` free start times from now (for any of `durations`). One calendar read up to
    the horizon; the slot engine then runs a week at a time and stops once it has enough."""
    now = ctx.now()
    whole = _clip(ctx, coach, now, now + timedelta(days=coach.horizon_days))
    if whole is None:
        return []
    cal = await _calendar_for(ctx, coach, durations, *whole, exclude)
    found: list[datetime] = []
    start, horizon = whole
    while start < horizon and len(found) < limit:
        end = min(start + SEARCH_STEP, horizon)
        found += _starts(ctx, coach, cal, durations, start, end)
        start = end
    return found[:limit]


async def _calendar_for(
    ctx: Context, coach: Coach, durations: list[int], start: datetime, end: datetime, exclude: int | None
) -> Calendar:
    """One calendar read around [start, end) wide enough for the longest of `durations` (each
    checked against what the coach offers, as `slots` checks it)."""
    longest = max((duration_of(coach, minutes) for minutes in durations), default=0)
    async with ctx.uow() as uow:
        return await calendar(ctx, uow, coach, start, end, longest, exclude=exclude)


def _starts(
    ctx: Context, coach: Coach, cal: Calendar, durations: list[int], start: datetime, end: datetime
) -> list[datetime]:
    if not coach.is_active:
        return []
    found: set[datetime] = set()
    for minutes in durations:
        found.update(s.start for s in compute(ctx, coach, cal, start, end, minutes))
    return sorted(found)


def _clip(ctx: Context, coach: Coach, start: datetime, end: datetime) -> tuple[datetime, datetime] | None:
    now = ctx.now()
    start, end = max(start, now), min(end, now + timedelta(days=coach.horizon_days))
    return (start, end) if start < end else None


def _days(starts: list[datetime], zone: str) -> set[date]:
    tz = ZoneInfo(zone)
    return {s.astimezone(tz).date() for s in starts}


def _midnight(day: date, zone: str) -> datetime:
    return availability.local_to_utc(day, 0, ZoneInfo(zone), fold=0)


def _next_month(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)
