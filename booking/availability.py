"""The slot engine: which start times a coach can be booked at.

Hand-written because it is the product's core. It works on UTC instants and half-open
intervals: weekly rules are turned into instants day by day in the coach's zone, the
forbidden spans (time off, busy sessions widened by the buffers) are merged once and
subtracted by a sweep, and slots are laid on each availability window's own step grid.
Cost is O((windows + busy) log busy + slots), never a scan of all bookings per slot.

Wall-clock rules meet DST like this (decided, and tested):
- a rule covers every instant whose local wall time lies in [start, end); an ambiguous
  start takes its earlier occurrence and an ambiguous end its later one, so a 00:00-03:00
  rule on a fall-back night is four real hours long;
- a wall time that does not exist (inside a spring-forward gap) maps to the transition
  instant, so a 01:00-04:00 rule on the spring-forward night is two real hours long and
  no slot is ever shifted or duplicated.
It uses stdlib datetimes with zoneinfo rather than pendulum objects because PEP 495 `fold`
gives the explicit choice above, and the hot loop stays on cheap plain datetimes.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from booking.model import AvailabilityRule, Coach, DateOverride, Interval, OverrideKind

DAY = timedelta(days=1)
_SECOND = timedelta(seconds=1)


def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def local_to_utc(day: date, minute_of_day: int, tz: ZoneInfo, *, fold: int) -> datetime:
    """The instant at `minute_of_day` on local `day` (1440 = next midnight); see module doc."""
    if minute_of_day >= 1440:
        day, minute_of_day = day + DAY, minute_of_day - 1440
    naive = datetime(day.year, day.month, day.day, minute_of_day // 60, minute_of_day % 60)
    instant = naive.replace(tzinfo=tz, fold=fold).astimezone(UTC)
    if instant.astimezone(tz).replace(tzinfo=None) == naive:
        return instant
    return _gap_transition(naive, tz)


def _gap_transition(naive: datetime, tz: ZoneInfo) -> datetime:
    # Inside a gap, fold=1 reads the wall time with the offset after the jump (an instant
    # before the transition) and fold=0 with the offset before it (an instant after it).
    lo = naive.replace(tzinfo=tz, fold=1).astimezone(UTC)
    hi = naive.replace(tzinfo=tz, fold=0).astimezone(UTC)
    if hi < lo:
        lo, hi = hi, lo
    before = lo.astimezone(tz).utcoffset()
    while hi - lo > _SECOND:
        mid = lo + (hi - lo) / 2
        if mid.astimezone(tz).utcoffset() == before:
            lo = mid
        else:
            hi = mid
    # lo < transition <= hi <= lo + 1s, and transitions fall on whole seconds, so the
    # transition is hi truncated to the second (hi itself may carry a bisection fraction).
    return hi.replace(microsecond=0)


def rule_windows(rules: Sequence[AvailabilityRule], tz: ZoneInfo, first_day: date, last_day: date) -> list[Interval]:
    """The weekly rules as UTC windows for local days first_day..last_day inclusive."""
    by_weekday: dict[int, list[AvailabilityRule]] = {}
    for rule in rules:
        by_weekday.setdefault(rule.weekday, []).append(rule)
    windows = []
    day = first_day
    while day <= last_day:
        for rule in by_weekday.get(day.weekday(), ()):
            start = local_to_utc(day, rule.start_minute, tz, fold=0)
            end = local_to_utc(day, rule.end_minute, tz, fold=1)
            if end > start:
                windows.append(Interval(start, end))
        day += DAY
    return windows


def merge(intervals: Iterable[Interval]) -> list[Interval]:
    """Sorted, disjoint union; touching intervals are joined."""
    merged: list[Interval] = []
    for iv in sorted(intervals, key=lambda i: i.start):
        if merged and iv.start <= merged[-1].end:
            if iv.end > merged[-1].end:
                merged[-1] = Interval(merged[-1].start, iv.end)
        else:
            merged.append(iv)
    return merged


def subtract(available: list[Interval], forbidden: list[Interval]) -> list[Interval]:
    """available minus forbidden; both sorted and disjoint (as `merge` returns them)."""
    ends = [f.end for f in forbidden]
    free: list[Interval] = []
    for window in available:
        cursor = window.start
        j = bisect_right(ends, cursor)
        while j < len(forbidden) and forbidden[j].start < window.end:
            block = forbidden[j]
            if block.start > cursor:
                free.append(Interval(cursor, block.start))
            if block.end > cursor:
                cursor = block.end
            j += 1
        if cursor < window.end:
            free.append(Interval(cursor, window.end))
    return free


def available_slots(
    coach: Coach,
    rules: Sequence[AvailabilityRule],
    overrides: Sequence[DateOverride],
    busy: Iterable[Interval],
    *,
    window_start: datetime,
    window_end: datetime,
    duration_minutes: int,
    now: datetime,
) -> list[Interval]:
    """Bookable slots whose start lies in [window_start, window_end).

    `busy` holds the blocked spans of the coach's active sessions (buffers included) and any
    external busy intervals; a slot keeps its own buffers clear of them.
    """
    duration = timedelta(minutes=duration_minutes)
    step = timedelta(minutes=coach.step_for(duration_minutes))
    earliest = max(window_start, now + timedelta(minutes=coach.min_notice_minutes))
    latest = min(window_end, now + timedelta(days=coach.horizon_days))
    if earliest >= latest:
        return []

    tz = zone(coach.timezone)
    first_day = earliest.astimezone(tz).date() - DAY
    last_day = (latest + duration).astimezone(tz).date() + DAY
    sources = rule_windows(rules, tz, first_day, last_day)
    sources += [o.interval for o in overrides if o.kind is OverrideKind.EXTRA]
    sources = [s for s in sources if s.end > earliest and s.start < latest + duration]
    if not sources:
        return []

    forbidden = [o.interval for o in overrides if o.kind is OverrideKind.BLOCK]
    # A slot [s, e) needs [s - before, e + after) clear, i.e. it may not touch a busy span
    # widened by `after` on the left and by `before` on the right.
    after, before = coach.buffer_after, coach.buffer_before
    if after or before:
        forbidden += [Interval(b.start - after, b.end + before) for b in busy]
    else:  # hundreds of imported busy intervals: no copies when there is nothing to widen
        forbidden += busy
    free = subtract(merge(sources), merge(forbidden))
    free_starts = [f.start for f in free]

    starts: set[datetime] = set()
    for source in sources:
        # Each free interval that can hold a slot starting inside this source window.
        i = max(bisect_right(free_starts, source.start) - 1, 0)
        while i < len(free) and free[i].start < source.end:
            piece = free[i]
            i += 1
            lower = max(piece.start, source.start, earliest)
            offset = lower - source.start
            k = -(-offset // step)  # ceil: the first grid point at or after `lower`
            s = source.start + k * step
            while s < source.end and s < latest and s + duration <= piece.end:
                starts.add(s)
                s += step
    return [Interval(s, s + duration) for s in sorted(starts)]


def nearest(slots: Sequence[Interval], target: datetime, count: int = 3) -> list[Interval]:
    """The `count` slots closest to `target`, in time order."""
    closest = sorted(slots, key=lambda s: (abs(s.start - target), s.start))[:count]
    return sorted(closest, key=lambda s: s.start)
