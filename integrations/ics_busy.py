"""Busy intervals from iCalendar data (an ICS feed, or the events a CalDAV server returned).

Busy = opaque, non-cancelled VEVENTs not written by this product. Recurring events are expanded
by recurring-ical-events (RRULE, RDATE, EXDATE and moved occurrences); it resolves a TZID that has
no VTIMEZONE by its IANA name. All-day events block whole days in the coach's zone, and floating
times are read in it too.

A calendar is untrusted input: parsing and expanding run in a worker thread (`busy_of`) that
checks a deadline between events, single events outside the window are dropped before they are
parsed, and occurrences are generated a week at a time up to the window's end or MAX_EVENTS."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import recurring_ical_events
from icalendar import Calendar, Component, Event

from booking.availability import local_to_utc
from booking.calendar_sources import CalendarError, is_own_uid
from booking.model import Interval

MAX_EVENTS = 20_000  # occurrences in the window per read: a runaway RRULE is not a calendar
EXPAND_TIMEOUT_S = 15.0
CHUNK = timedelta(days=7)
MARGIN = timedelta(days=2)  # floating and all-day times may lie up to a day either side of UTC
NOT_ICALENDAR = "the calendar answered with something that is not iCalendar data"
_FOLD = re.compile(r"\r?\n[ \t]")
_REPEATS = ("RRULE", "RDATE", "RECURRENCE-ID", "EXRULE")

Window = tuple[datetime, datetime]


async def busy_of(bodies: Sequence[bytes], start: datetime, end: datetime, zone: str) -> list[Interval]:
    """The busy intervals of [start, end), parsed and expanded in a worker thread that gives up
    after EXPAND_TIMEOUT_S (it stops itself: a thread cannot be cancelled from outside)."""
    deadline = time.monotonic() + EXPAND_TIMEOUT_S
    return await asyncio.to_thread(_busy_of, bodies, start, end, zone, deadline)


def _busy_of(bodies: Sequence[bytes], start: datetime, end: datetime, zone: str, deadline: float) -> list[Interval]:
    calendars = [parse(body, window=(start, end), deadline=deadline) for body in bodies]
    return busy_intervals(calendars, start, end, zone, deadline=deadline)


def parse(data: bytes, *, window: Window | None = None, deadline: float | None = None) -> Calendar:
    """One calendar of everything in `data` (several VCALENDARs are merged), without the single
    events that lie outside `window`, and without VTODO, VJOURNAL and the like."""
    text = _FOLD.sub("", data.decode("utf-8", errors="replace"))
    skeleton: list[str] = []
    events: list[str] = []
    block: list[str] | None = None
    depth = 0
    for line in text.splitlines():
        upper = line.upper()
        if block is not None:
            block.append(line)
            if upper.startswith("BEGIN:"):
                depth += 1
            elif upper.startswith("END:"):
                depth -= 1
                if depth == 0:
                    if block[0].upper() == "BEGIN:VEVENT":
                        events.append("\r\n".join(block))
                    elif block[0].upper() == "BEGIN:VTIMEZONE":
                        skeleton.extend(block)
                    block = None
        elif upper.startswith("BEGIN:") and upper != "BEGIN:VCALENDAR":
            block, depth = [line], 1
        elif line.strip():
            skeleton.append(line)
    if block is not None or not skeleton:
        raise CalendarError(NOT_ICALENDAR)
    try:
        calendars = Calendar.from_ical("\r\n".join(skeleton) + "\r\n", multiple=True)
    except Exception:  # icalendar raises ValueError and others on what is not iCalendar
        raise CalendarError(NOT_ICALENDAR) from None
    if not calendars:
        raise CalendarError(NOT_ICALENDAR)
    merged = calendars[0]
    for extra in calendars[1:]:
        for component in extra.subcomponents:
            merged.add_component(component)
    for raw in events:
        _check(deadline)
        if window is not None and _outside(raw, window):
            continue
        try:
            merged.add_component(Event.from_ical(raw + "\r\n"))
        except Exception:
            raise CalendarError(NOT_ICALENDAR) from None
    return merged


def busy_intervals(
    calendars: Iterable[Calendar], start: datetime, end: datetime, zone: str, *, deadline: float | None = None
) -> list[Interval]:
    tz = ZoneInfo(zone)
    found: set[Interval] = set()
    seen = 0
    for calendar in calendars:
        query = recurring_ical_events.of(calendar, skip_bad_series=True)
        # A week at a time, so a runaway rule stops at MAX_EVENTS or the deadline, not at the window's end.
        for a, b in _chunks(start, end):
            _check(deadline)
            try:
                occurrences = query.between(a, b)
            except Exception as exc:
                raise CalendarError(f"the calendar has an event that cannot be read ({type(exc).__name__})") from None
            seen += len(occurrences)
            if seen > MAX_EVENTS:
                raise CalendarError(f"the calendar has more than {MAX_EVENTS} events in the booking horizon")
            for event in occurrences:
                interval = _span(event, tz)
                if interval is not None and interval.start < end and interval.end > start and _is_busy(event):
                    found.add(interval)
    return sorted(found, key=lambda i: (i.start, i.end))


def _chunks(start: datetime, end: datetime) -> Iterator[tuple[datetime, datetime]]:
    while start < end:
        yield start, min(start + CHUNK, end)
        start += CHUNK


def _check(deadline: float | None) -> None:
    if deadline is not None and time.monotonic() > deadline:
        raise CalendarError(f"the calendar took longer than {int(EXPAND_TIMEOUT_S)} s to read")


def _outside(raw: str, window: Window) -> bool:
    """A single (not recurring) event wholly outside the window, judged from its text alone."""
    fields: dict[str, str] = {}
    for line in raw.split("\r\n")[1:]:
        name = re.split(r"[;:]", line, maxsplit=1)[0].upper()
        if name in ("BEGIN", "END") and line.upper() != "END:VEVENT":
            return False  # a VALARM inside: keep it simple and parse the event
        if name in _REPEATS:
            return False
        if name in ("DTSTART", "DTEND", "DURATION") and name not in fields:
            fields[name] = line.rsplit(":", 1)[-1]
    first, last = _day(fields.get("DTSTART")), _day(fields.get("DTEND"))
    if first is None:
        return False
    start, end = window[0].date() - MARGIN, window[1].date() + MARGIN
    if first > end:
        return True
    if "DURATION" in fields:
        return False
    return (last or first) < start


def _day(value: str | None) -> date | None:
    if value is None or len(value) < 8 or not value[:8].isdigit():
        return None
    try:
        return date(int(value[:4]), int(value[4:6]), int(value[6:8]))
    except ValueError:
        return None


def _is_busy(event: Component) -> bool:
    if str(event.get("TRANSP", "OPAQUE")).upper() == "TRANSPARENT":
        return False
    if str(event.get("STATUS", "")).upper() == "CANCELLED":
        return False
    return not is_own_uid(str(event.get("UID", "")))


def _span(event: Component, tz: ZoneInfo) -> Interval | None:
    if "DTSTART" not in event:
        return None
    first = event.decoded("DTSTART")
    if "DTEND" in event:
        last = event.decoded("DTEND")
    elif "DURATION" in event:
        last = first + event.decoded("DURATION")
    else:  # RFC 5545: a date lasts one day, a date-time no time at all
        last = first + timedelta(days=1) if not isinstance(first, datetime) else first
    start, stop = _instant(first, tz), _instant(last, tz)
    return Interval(start, stop) if stop > start else None


def _instant(value: date | datetime, tz: ZoneInfo) -> datetime:
    if not isinstance(value, datetime):
        return local_to_utc(value, 0, tz, fold=0)
    if value.tzinfo is None:  # floating time: the coach's wall clock
        return value.replace(tzinfo=tz).astimezone(UTC)
    return value.astimezone(UTC)
