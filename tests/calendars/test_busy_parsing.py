"""Which events are busy, and when: parsed with icalendar and expanded by recurring-ical-events."""

import pytest

from booking.calendar_sources import CalendarError
from integrations.ics_busy import busy_intervals, parse
from tests.calendars.samples import EXPECTED, utc, whole_calendar

WINDOW = (utc(2030, 3, 1), utc(2030, 5, 1))


def test_busy_is_opaque_uncancelled_foreign_events_in_any_zone_recurrences_expanded():
    busy = busy_intervals([parse(whole_calendar())], *WINDOW, "Europe/Berlin")
    assert [(i.start, i.end) for i in busy] == EXPECTED


def test_only_the_window_is_read():
    busy = busy_intervals([parse(whole_calendar())], utc(2030, 3, 12), utc(2030, 3, 14), "Europe/Berlin")
    assert [(i.start, i.end) for i in busy] == EXPECTED[1:3]


def test_an_all_day_event_is_the_coachs_whole_day():
    data = parse(whole_calendar())
    tokyo = [i for i in busy_intervals([data], *WINDOW, "Asia/Tokyo") if i.end - i.start >= utc(2, 1, 2) - utc(2, 1, 1)]
    assert [(i.start, i.end) for i in tokyo] == [(utc(2030, 3, 30, 15), utc(2030, 3, 31, 15))]


@pytest.mark.parametrize("garbage", [b"<html>Sign in</html>", b"", b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\n"])
def test_what_is_not_icalendar_is_a_calendar_error(garbage):
    with pytest.raises(CalendarError, match="not iCalendar"):
        parse(garbage)
