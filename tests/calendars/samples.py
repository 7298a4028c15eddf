"""iCalendar samples of what coaches' calendars hold, with the busy intervals they must give (UTC)."""

from datetime import UTC, datetime

from icalendar import Calendar

HEAD = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n"
TAIL = "END:VCALENDAR\r\n"


def event(uid: str, *lines: str) -> str:
    return (
        "BEGIN:VEVENT\r\n"
        + f"UID:{uid}\r\nDTSTAMP:20300101T000000Z\r\n"
        + "".join(f"{x}\r\n" for x in lines)
        + "END:VEVENT\r\n"
    )


# New York is on summer time from 10 March 2030, Berlin only from 31 March: 09:00 in New York on
# 12 March is 13:00 UTC (a reader stuck on the winter offset says 14:00).
NEW_YORK_NO_VTIMEZONE = event(
    "ny-plain@example.org",
    "DTSTART;TZID=America/New_York:20300312T090000",
    "DTEND;TZID=America/New_York:20300312T100000",
)
NEW_YORK_WITH_VTIMEZONE = event(
    "ny-vtz@example.org", "DTSTART;TZID=America/New_York:20300313T090000", "DTEND;TZID=America/New_York:20300313T100000"
)
ALL_DAY_ON_THE_DST_DAY = event("all-day@example.org", "DTSTART;VALUE=DATE:20300331", "DTEND;VALUE=DATE:20300401")
WEEKLY = event(
    "weekly@example.org",
    "DTSTART;TZID=Europe/Berlin:20300304T100000",
    "DTEND;TZID=Europe/Berlin:20300304T110000",
    "RRULE:FREQ=WEEKLY;COUNT=5",
    "EXDATE;TZID=Europe/Berlin:20300311T100000",
) + event(
    "weekly@example.org",
    "RECURRENCE-ID;TZID=Europe/Berlin:20300318T100000",
    "DTSTART;TZID=Europe/Berlin:20300318T150000",
    "DTEND;TZID=Europe/Berlin:20300318T160000",
)
TRANSPARENT = event("free@example.org", "DTSTART:20300314T120000Z", "DTEND:20300314T130000Z", "TRANSP:TRANSPARENT")
CANCELLED = event("off@example.org", "DTSTART:20300315T120000Z", "DTEND:20300315T130000Z", "STATUS:CANCELLED")
OURS = event("session-77@coachbot", "DTSTART:20300316T120000Z", "DTEND:20300316T130000Z")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


EXPECTED = [
    (utc(2030, 3, 4, 9), utc(2030, 3, 4, 10)),  # weekly, Berlin winter time
    # 11 March: EXDATE
    (utc(2030, 3, 12, 13), utc(2030, 3, 12, 14)),  # New York summer time, no VTIMEZONE
    (utc(2030, 3, 13, 13), utc(2030, 3, 13, 14)),  # with a VTIMEZONE
    (utc(2030, 3, 18, 14), utc(2030, 3, 18, 15)),  # the moved occurrence
    (utc(2030, 3, 25, 9), utc(2030, 3, 25, 10)),
    (utc(2030, 3, 30, 23), utc(2030, 3, 31, 22)),  # the whole 23-hour day in Berlin
    (utc(2030, 4, 1, 8), utc(2030, 4, 1, 9)),  # weekly, Berlin summer time
]


def whole_calendar() -> bytes:
    """All the samples in one calendar, the VTIMEZONE of New York included for the one event
    that should have it (the other keeps a bare TZID)."""
    with_tz = Calendar.from_ical(HEAD + NEW_YORK_WITH_VTIMEZONE + TAIL)
    with_tz.add_missing_timezones()
    zones = "".join(c.to_ical().decode() for c in with_tz.walk("VTIMEZONE"))
    body = NEW_YORK_NO_VTIMEZONE + NEW_YORK_WITH_VTIMEZONE + ALL_DAY_ON_THE_DST_DAY + WEEKLY
    return (HEAD + zones + body + TRANSPARENT + CANCELLED + OURS + TAIL).encode()


def resources() -> dict[str, str]:
    """The same samples as CalDAV resources, one per UID (name -> iCalendar text)."""
    with_tz = Calendar.from_ical(HEAD + NEW_YORK_WITH_VTIMEZONE + TAIL)
    with_tz.add_missing_timezones()
    return {
        "ny-plain": HEAD + NEW_YORK_NO_VTIMEZONE + TAIL,
        "ny-vtz": with_tz.to_ical().decode(),
        "all-day": HEAD + ALL_DAY_ON_THE_DST_DAY + TAIL,
        "weekly": HEAD + WEEKLY + TAIL,
        "free": HEAD + TRANSPARENT + TAIL,
        "off": HEAD + CANCELLED + TAIL,
        "ours": HEAD + OURS + TAIL,
    }
