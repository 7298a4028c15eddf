"""An iCalendar (RFC 5545) file for a booked session, built with `icalendar`. The UID is fixed per
session and SEQUENCE grows with every change, so importing the file sent after a reschedule
updates the entry instead of adding a second one."""

from __future__ import annotations

from datetime import UTC, datetime

from icalendar import Calendar, Event

from booking.model import Coach, Session

PRODID = "-//coachbot//sessions//EN"
UID_DOMAIN = "coachbot"


def session_uid(session_id: int) -> str:
    return f"session-{session_id}@{UID_DOMAIN}"


def event_title(coach: Coach) -> str:
    return f"Writing coaching with {coach.name}"


def event_details(session: Session, coach: Coach) -> str:
    lines = [f"{session.duration_minutes}-minute session with {coach.name}."]
    if session.focus:
        lines.append(f"Focus: {session.focus}")
    if session.meeting_url:
        lines.append(f"Join: {session.meeting_url}")
    return "\n".join(lines)


def session_ics(session: Session, coach: Coach, *, stamp: datetime, cancelled: bool = False) -> bytes:
    assert session.id is not None  # a booked session: stored
    changed = session.updated_at or session.created_at or stamp
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("method", "CANCEL" if cancelled else "PUBLISH")
    event = Event()
    event.add("uid", session_uid(session.id))
    event.add("dtstamp", stamp.astimezone(UTC))
    event.add("dtstart", session.starts_at.astimezone(UTC))
    event.add("dtend", session.ends_at.astimezone(UTC))
    event.add("sequence", int(changed.timestamp()))
    event.add("summary", event_title(coach))
    if session.meeting_url:
        event.add("url", session.meeting_url)
        event.add("location", session.meeting_url)
    event.add("description", event_details(session, coach))
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    calendar.add_component(event)
    return calendar.to_ical()
