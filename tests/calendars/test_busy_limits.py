"""Hostile calendars: a rule that repeats every minute, a huge file. They are refused with a
CalendarError instead of being expanded in full, and never on the event loop."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta

import httpx
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
        await IcsUrlReader(allow_private=True).read(source, None, start, start + timedelta(days=900), "UTC")
    assert threads and threading.get_ident() not in threads


def test_a_calendar_over_5_mb_is_refused_and_nothing_is_stored(cli, ics_address):
    coach = make_coach(cli)
    old = "".join(event(f"old-{i}@x", "DTSTART:20200101T100000Z", "DTEND:20200101T110000Z") for i in range(60_000))
    ics_address.body = (HEAD + old + TAIL).encode()
    assert len(ics_address.body) > 5_500_000
    refused = cli("calendar", "connect", coach, "--ics-url", ics_address.url, ok=False)
    assert refused.returncode == 1 and "larger than 5 MB" in refused.stderr
    assert cli.json("calendar", "sources", coach) == []


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:9/cal.ics", "http://169.254.169.254/latest/meta-data/x.ics", "http://10.0.0.5/a.ics"],
)
async def test_an_address_inside_our_network_is_refused_before_any_request(url):
    source = CalendarSource(1, SourceKind.ICS, url)
    start = datetime(2030, 3, 1, tzinfo=UTC)
    with pytest.raises(CalendarError, match="private network"):
        await IcsUrlReader().read(source, None, start, start + timedelta(days=30), "UTC")


async def test_the_guard_passes_public_addresses_and_runs_on_every_request():
    from integrations.public_address import check_public, request_guard

    await check_public(httpx.URL("https://93.184.215.14/cal.ics"))  # a global address passes
    with pytest.raises(CalendarError, match="private network"):
        await check_public(httpx.URL("http://[::1]:8080/cal.ics"))
    # a request hook, which httpx runs for each redirect hop as well as the first request
    [guard] = request_guard(allow_private=False)["request"]
    with pytest.raises(CalendarError, match="private network"):
        await guard(httpx.Request("GET", "http://192.168.1.10/next.ics"))
    assert request_guard(allow_private=True) == {}


async def test_caldav_over_plain_http_is_refused_unless_local_addresses_are_allowed():
    from integrations.caldav_calendar import CalDavCalendars

    source = CalendarSource(1, SourceKind.CALDAV, "http://cal.example.org/dav/coach/", username="u")
    start = datetime(2030, 3, 1, tzinfo=UTC)
    with pytest.raises(CalendarError, match="https"):
        await CalDavCalendars().read(source, "app-password", start, start + timedelta(days=1), "UTC")
