"""What a coach reads when a calendar fails: a push refused for the app password is never retried
(booking/calendar_push.py closes it), so the message must not promise that it will be."""

from booking.events import CalendarFailing, CalendarPart
from conversations.slack.notifier import calendar_health_text

REFUSED = "the CalDAV server refused the user or password"


def test_a_refused_push_tells_the_coach_what_to_do_instead_of_promising_a_retry():
    text = calendar_health_text(CalendarFailing(20, CalendarPart.PUSH, REFUSED))
    assert "keep trying" not in text
    assert "connect it again" in text and "/coach calendar" in text


def test_a_read_that_fails_says_booking_goes_on_with_the_busy_time_last_read():
    text = calendar_health_text(CalendarFailing(20, CalendarPart.IMPORT, "the server answered 503"))
    assert "busy time as last read" in text and "503" in text
