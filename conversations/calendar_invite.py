"""iCalendar (RFC 5545) files for booked sessions, built with `icalendar`: one file per session
sent with each booking, reschedule and cancellation message (an iTIP METHOD), and feeds of many
sessions a calendar app subscribes to (no METHOD). The UID is fixed per session and SEQUENCE
grows with every change, so the file sent after a reschedule updates the entry instead of adding
a second one, and a CANCEL removes it. Times are in UTC, so no VTIMEZONE is needed."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from icalendar import Alarm, Calendar, Event, vCalAddress, vText

from booking.calendar_sources import session_uid
from booking.model import Author, Coach, Session, SessionStatus

PRODID = "-//coachbot//sessions//EN"
ALARM_BEFORE = timedelta(minutes=15)
NO_EMAIL_DOMAIN = "coachbot.invalid"  # people without an email still need a calendar address


def event_title(coach: Coach) -> str:
    return f"Writing coaching with {coach.name}"


def event_details(session: Session, coach: Coach) -> str:
    lines = [f"{session.duration_minutes}-minute session with {coach.name}."]
    if session.focus:
        lines.append(f"Focus: {session.focus}")
    if session.meeting_url:
        lines.append(f"Join: {session.meeting_url}")
    return "\n".join(lines)


def _address(email: str | None, kind: str, person_id: int | None, name: str) -> vCalAddress:
    address = vCalAddress(f"mailto:{email or f'{kind}-{person_id}@{NO_EMAIL_DOMAIN}'}")
    address.params["CN"] = vText(name)
    return address


def session_event(session: Session, coach: Coach, author: Author | None, *, stamp: datetime) -> Event:
    """The session as a VEVENT; STATUS:CANCELLED once it no longer takes place."""
    assert session.id is not None  # a booked session: stored
    changed = session.updated_at or session.created_at or stamp
    cancelled = session.status is SessionStatus.CANCELLED
    event = Event()
    event.add("uid", session_uid(session.id))
    event.add("dtstamp", stamp.astimezone(UTC))
    event.add("dtstart", session.starts_at.astimezone(UTC))
    event.add("dtend", session.ends_at.astimezone(UTC))
    event.add("sequence", int(changed.timestamp()))  # every change moves updated_at forward
    event.add("summary", event_title(coach))
    if session.meeting_url:
        event.add("url", session.meeting_url)
        event.add("location", session.meeting_url)
    event.add("description", event_details(session, coach))
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    event.add("transp", "TRANSPARENT" if cancelled else "OPAQUE")
    organizer = _address(coach.email, "coach", coach.id, coach.name)
    organizer.params["ROLE"] = vText("CHAIR")
    event.add("organizer", organizer)
    if author is not None:
        attendee = _address(author.email, "author", author.id, author.name)
        attendee.params["ROLE"] = vText("REQ-PARTICIPANT")
        attendee.params["PARTSTAT"] = vText("DECLINED" if cancelled else "ACCEPTED")
        event.add("attendee", attendee)
    if not cancelled:
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", event_title(coach))
        alarm.add("trigger", -ALARM_BEFORE)
        event.add_component(alarm)
    return event


def _calendar(method: str | None, name: str | None = None) -> Calendar:
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    if method:
        calendar.add("method", method)
    if name:
        calendar.add("x-wr-calname", name)
    return calendar


def session_ics(session: Session, coach: Coach, author: Author | None = None, *, stamp: datetime) -> bytes:
    """One session for a chat message: METHOD REQUEST (booked, moved) or CANCEL (cancelled)."""
    event = session_event(session, coach, author, stamp=stamp)
    calendar = _calendar("CANCEL" if event["status"] == "CANCELLED" else "REQUEST")
    calendar.add_component(event)
    return bytes(calendar.to_ical())


def series_ics(sessions: Iterable[Session], coach: Coach, author: Author | None = None, *, stamp: datetime) -> bytes:
    """Every occurrence of a series in one file for a chat message (METHOD PUBLISH: it may carry
    several UIDs). Each keeps its session's UID, so a later move or cancellation of one
    occurrence (session_ics) updates its entry."""
    calendar = _calendar("PUBLISH")
    for session in sessions:
        calendar.add_component(session_event(session, coach, author, stamp=stamp))
    return bytes(calendar.to_ical())


def stored_ics(session: Session, coach: Coach, author: Author, *, stamp: datetime) -> bytes:
    """One session as a calendar object resource in the coach's own calendar, for a CalDAV PUT
    (RFC 4791: no METHOD). Without ORGANIZER and ATTENDEE: a server that schedules (Nextcloud,
    Fastmail, iCloud) would otherwise email the author an invitation on every push."""
    event = session_event(session, coach, author, stamp=stamp)
    for scheduling in ("organizer", "attendee"):
        event.pop(scheduling, None)
    event["summary"] = vText(_coach_title(author))
    calendar = _calendar(None)
    calendar.add_component(event)
    return bytes(calendar.to_ical())


def feed_ics(
    name: str, entries: Iterable[tuple[Session, Coach, Author]], *, stamp: datetime, author_view: bool
) -> bytes:
    """A subscription feed, one VEVENT per session, titled for its reader: an author sees the
    coach's name, a coach the author's."""
    calendar = _calendar(None, name)
    for session, coach, author in entries:
        event = session_event(session, coach, author, stamp=stamp)
        if not author_view:
            event["summary"] = vText(_coach_title(author))
        calendar.add_component(event)
    return bytes(calendar.to_ical())


def _coach_title(author: Author) -> str:
    return f"Writing coaching: {author.name}"


__all__ = ["feed_ics", "series_ics", "session_ics", "session_uid", "stored_ics"]
