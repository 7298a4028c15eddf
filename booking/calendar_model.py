"""The coach's own calendars as the domain sees them (use cases: booking/calendar_sources.py)."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime


class SourceKind(str, enum.Enum):
    ICS = "ics"
    CALDAV = "caldav"


@dataclass
class CalendarSource:
    coach_id: int
    kind: SourceKind
    url: str
    username: str | None = None
    sealed_password: str | None = None  # encrypted with CALENDAR_SECRET_KEY; never the plain text
    etag: str | None = None  # the ICS address's validators, for a conditional GET
    last_modified: str | None = None
    synced_at: datetime | None = None  # the last good full read (not a 304)
    tried_at: datetime | None = None
    error: str | None = None  # why the last import failed; None once one succeeds
    error_at: datetime | None = None  # since when imports have been failing
    push_error: str | None = None  # why the last push of a session to this CalDAV calendar failed
    push_error_at: datetime | None = None
    id: int | None = None
    created_at: datetime | None = None
