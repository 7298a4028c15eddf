"""Busy intervals from iCalendar data (an ICS feed, or the events a CalDAV server returned).

Busy = opaque, non-cancelled VEVENTs not written by this product. Recurring events are expanded
by recurring-ical-events (RRULE, RDATE, EXDATE and moved occurrences); it resolves a TZID that has
no VTIMEZONE by its IANA name. All-day events block whole days in the coach's zone, and floating
times are read in it too."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import recurring_ical_events
from icalendar import Calendar, Component

from booking.availability import local_to_utc
from booking.calendar_sources import CalendarError, is_own_uid
from booking.model import Interval

MAX_EVENTS = 20_000  # expanded occurrences per source: a runaway RRULE is not a calendar


def parse(data: bytes) -> Calendar:
    try:
        calendars = Calendar.from_ical(data, multiple=True)
    except Exception:  # icalendar raises ValueError and others on what is not iCalendar
        raise CalendarError("the calendar answered with something that is not iCalendar data") from None
    if not calendars:
        raise CalendarError("the calendar answered with something that is not iCalendar data")
    merged = calendars[0]
    for extra in calendars[1:]:
        for component in extra.subcomponents:
            merged.add_component(component)
    return merged


def busy_intervals(calendars: Iterable[Calendar], start: datetime, end: datetime, zone: str) -> list[Interval]:
    tz = ZoneInfo(zone)
    found: list[Interval] = []
    for calendar in calendars:
        try:
            occurrences = recurring_ical_events.of(calendar, skip_bad_series=True).between(start, end)
        except Exception as exc:
            raise CalendarError(f"the calendar has an event that cannot be read ({type(exc).__name__})") from None
        for event in occurrences:
            interval = _busy(event, tz)
            if interval is not None and interval.start < end and interval.end > start:
                found.append(interval)
            if len(found) > MAX_EVENTS:
                raise CalendarError(f"the calendar has more than {MAX_EVENTS} events in the booking horizon")
    return sorted(set(found), key=lambda i: (i.start, i.end))


def _busy(event: Component, tz: ZoneInfo) -> Interval | None:
    if str(event.get("TRANSP", "OPAQUE")).upper() == "TRANSPARENT":
        return None
    if str(event.get("STATUS", "")).upper() == "CANCELLED":
        return None
    if is_own_uid(str(event.get("UID", ""))):
        return None
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
