"""Calendar files of one session, parsed back with icalendar property by property."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from icalendar import Calendar

from booking.calendar_sources import is_own_uid
from booking.model import Author, Coach, Session, SessionStatus
from conversations.calendar_invite import feed_ics, session_ics, session_uid, stored_ics

START = datetime(2030, 3, 31, 0, 30, tzinfo=UTC)  # the night Europe/Lisbon moves its clocks
STAMP = datetime(2030, 3, 1, 12, tzinfo=UTC)
COACH = Coach(name="Ines Vale", timezone="Europe/Lisbon", rate=9000, email="ines@example.org", id=3)
AUTHOR = Author(name="Ann", timezone="America/New_York", id=7)


def session(**changes) -> Session:
    base = Session(
        coach_id=3,
        author_id=7,
        starts_at=START,
        ends_at=START + timedelta(hours=1),
        blocked_from=START,
        blocked_until=START + timedelta(hours=1),
        duration_minutes=60,
        status=SessionStatus.SCHEDULED,
        price_amount=9000,
        currency="eur",
        meeting_url="https://meet.example/room-9",
        created_at=STAMP - timedelta(days=1),
        updated_at=STAMP - timedelta(days=1),
        id=42,
    )
    return replace(base, **changes)


def parse(data: bytes):
    calendar = Calendar.from_ical(data)
    (event,) = calendar.walk("VEVENT")
    return calendar, event


def test_a_booking_is_a_request_with_organizer_attendee_link_and_alarm():
    calendar, event = parse(session_ics(session(), COACH, AUTHOR, stamp=STAMP))
    assert calendar["method"] == "REQUEST" and calendar["version"] == "2.0"
    assert str(event["uid"]) == session_uid(42) == "session-42@coachbot" and is_own_uid(str(event["uid"]))
    assert event.decoded("dtstart") == START and event.decoded("dtend") == START + timedelta(hours=1)
    assert event.decoded("dtstart").tzinfo is not None and event.decoded("dtstart").utcoffset() == timedelta(0)
    assert str(event["url"]) == str(event["location"]) == "https://meet.example/room-9"
    assert str(event["status"]) == "CONFIRMED" and str(event["transp"]) == "OPAQUE"
    assert str(event["organizer"]) == "mailto:ines@example.org" and event["organizer"].params["CN"] == "Ines Vale"
    assert str(event["attendee"]) == "mailto:author-7@coachbot.invalid" and event["attendee"].params["CN"] == "Ann"
    assert event["attendee"].params["PARTSTAT"] == "ACCEPTED"
    (alarm,) = event.walk("VALARM")
    assert str(alarm["action"]) == "DISPLAY" and alarm.decoded("trigger") == -timedelta(minutes=15)


def test_a_reschedule_keeps_the_uid_and_raises_the_sequence():
    _, first = parse(session_ics(session(), COACH, AUTHOR, stamp=STAMP))
    moved = session(starts_at=START + timedelta(days=1), ends_at=START + timedelta(days=1, hours=1), updated_at=STAMP)
    calendar, second = parse(session_ics(moved, COACH, AUTHOR, stamp=STAMP))
    assert calendar["method"] == "REQUEST" and second["uid"] == first["uid"]
    assert int(second["sequence"]) > int(first["sequence"])
    assert second.decoded("dtstart") == START + timedelta(days=1)


def test_a_cancellation_is_a_cancel_with_status_cancelled_and_no_alarm():
    cancelled = session(status=SessionStatus.CANCELLED, cancelled_at=STAMP, updated_at=STAMP)
    calendar, event = parse(session_ics(cancelled, COACH, AUTHOR, stamp=STAMP))
    assert calendar["method"] == "CANCEL" and str(event["status"]) == "CANCELLED"
    assert str(event["uid"]) == "session-42@coachbot" and event.walk("VALARM") == []
    assert event["attendee"].params["PARTSTAT"] == "DECLINED"


def test_a_feed_has_no_method_and_titles_events_for_its_reader():
    later = session(id=43, starts_at=START + timedelta(days=2), ends_at=START + timedelta(days=2, hours=1))
    entries = [(session(), COACH, AUTHOR), (later, COACH, AUTHOR)]
    coach_feed = Calendar.from_ical(feed_ics("Ines Vale: coaching", entries, stamp=STAMP, author_view=False))
    assert "method" not in coach_feed and str(coach_feed["x-wr-calname"]) == "Ines Vale: coaching"
    assert [str(e["summary"]) for e in coach_feed.walk("VEVENT")] == ["Writing coaching: Ann"] * 2
    author_feed = Calendar.from_ical(feed_ics("Ann", entries, stamp=STAMP, author_view=True))
    assert [str(e["uid"]) for e in author_feed.walk("VEVENT")] == ["session-42@coachbot", "session-43@coachbot"]
    assert str(author_feed.walk("VEVENT")[0]["summary"]) == "Writing coaching with Ines Vale"


def test_the_copy_in_the_coachs_own_calendar_invites_nobody():
    calendar, event = parse(stored_ics(session(), COACH, AUTHOR, stamp=STAMP))
    assert "METHOD" not in calendar
    assert "ORGANIZER" not in event and "ATTENDEE" not in event  # a scheduling server would email the author
    assert str(event["summary"]) == "Writing coaching: Ann"
    assert str(event["uid"]) == session_uid(42) and str(event["url"]) == "https://meet.example/room-9"
