"""Hostile calendars: a rule that repeats every minute, a huge file. They are refused with a
CalendarError instead of being expanded in full, and never on the event loop."""

from __future__ import annotations

import threading
from datetime import date, timedelta

import pytest

from booking.calendar_model import CalendarSource, SourceKind
from booking.calendar_sources import CalendarError
from integrations import ics_busy
from integrations.ics_busy import busy_intervals, parse
from integrations.ics_url import IcsUrlReader
from tests.calendars.helpers import make_coach, within
from tests.calendars.samples import HEAD, TAIL, event, utc

EVERY_MINUTE = (
    HEAD + event("spam@x", "DTSTART:20300101T000000Z", "DTEND:20300101T000100Z", "RRULE:FREQ=MINUTELY") + TAIL
)


def test_a_rule_repeating_every_minute_is_refused_without_expanding_a_year_of_it():
    with pytest.raises(CalendarError, match="more than"):
        within(90, busy_intervals, [parse(EVERY_MINUTE.encode())], utc(2030, 1, 1), utc(2031, 1, 1), "UTC")


def test_past_single_events_are_left_out_before_parsing():
    old = event("old@x", "DTSTART:20200101T100000Z", "DTEND:20200101T110000Z")
    later = event("later@x", "DTSTART;VALUE=DATE:20300301")
    kept = event("new@x", "DTSTART:20300105T100000Z", "DTEND:20300105T110000Z")
    weekly = event("weekly@x", "DTSTART:20200101T100000Z", "DTEND:20200101T110000Z", "RRULE:FREQ=WEEKLY")
    long = event("long@x", "DTSTART;VALUE=DATE:20291201", "DTEND;VALUE=DATE:20300110")
    data = (HEAD + old + later + kept + weekly + long + TAIL).encode()
    calendar = parse(data, window=(utc(2030, 1, 1), utc(2030, 2, 1)))
    assert [str(e["UID"]) for e in calendar.walk("VEVENT")] == ["new@x", "weekly@x", "long@x"]


async def test_parsing_and_expansion_run_off_the_event_loop(ics_address, monkeypatch):
    threads: list[int] = []
    expand = ics_busy.recurring_ical_events.of

    def recording(*args, **kwargs):
        threads.append(threading.get_ident())
        return expand(*args, **kwargs)

    monkeypatch.setattr(ics_busy.recurring_ical_events, "of", recording)
    ics_address.body = EVERY_MINUTE.replace("20300101", f"{date.today() + timedelta(days=2):%Y%m%d}").encode()
    source = CalendarSource(1, SourceKind.ICS, ics_address.url)
    start = utc(2020, 1, 1).replace(year=date.today().year)
    with pytest.raises(CalendarError, match="more than"):
        await IcsUrlReader().read(source, None, start, start + timedelta(days=900), "UTC")
    assert threads and threading.get_ident() not in threads


def test_a_calendar_over_5_mb_is_refused_and_nothing_is_stored(cli, ics_address):
    coach = make_coach(cli)
    old = "".join(event(f"old-{i}@x", "DTSTART:20200101T100000Z", "DTEND:20200101T110000Z") for i in range(60_000))
    ics_address.body = (HEAD + old + TAIL).encode()
    assert len(ics_address.body) > 5_500_000
    refused = cli("calendar", "connect", coach, "--ics-url", ics_address.url, ok=False)
    assert refused.returncode == 1 and "larger than 5 MB" in refused.stderr
    assert cli.json("calendar", "sources", coach) == []
