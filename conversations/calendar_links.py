"""Links that open a booked session, filled in, in Google Calendar or Outlook on the web: for
people whose phone does not take the .ics file sent beside them. Same title and details as the file."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlencode

from booking.model import Coach, Session
from conversations.calendar_invite import event_details, event_title

GOOGLE = "https://calendar.google.com/calendar/render"
OUTLOOK = "https://outlook.live.com/calendar/0/deeplink/compose"
MAX_DETAILS = 1000  # the focus line may be long; a link should stay well under browsers' limits


def _utc(instant: datetime, layout: str) -> str:
    return instant.astimezone(UTC).strftime(layout)


def google(session: Session, coach: Coach, *, title: str | None = None, details: str | None = None) -> str:
    """`title` and `details` for the coach's own copy (the author's name instead of the coach's)."""
    layout = "%Y%m%dT%H%M%SZ"
    params = {
        "action": "TEMPLATE",
        "text": title or event_title(coach),
        "dates": f"{_utc(session.starts_at, layout)}/{_utc(session.ends_at, layout)}",
        "details": (details or event_details(session, coach))[:MAX_DETAILS],
    }
    if session.meeting_url:
        params["location"] = session.meeting_url
    return f"{GOOGLE}?{urlencode(params)}"


def outlook(session: Session, coach: Coach, *, title: str | None = None, details: str | None = None) -> str:
    layout = "%Y-%m-%dT%H:%M:%SZ"
    params = {
        "path": "/calendar/action/compose",
        "rru": "addevent",
        "subject": title or event_title(coach),
        "startdt": _utc(session.starts_at, layout),
        "enddt": _utc(session.ends_at, layout),
        "body": (details or event_details(session, coach))[:MAX_DETAILS],
    }
    if session.meeting_url:
        params["location"] = session.meeting_url
    return f"{OUTLOOK}?{urlencode(params)}"
