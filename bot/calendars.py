"""Wiring of the coaches' own calendars: the readers of each kind of source, the password box
and the outbox channel that pushes sessions to CalDAV calendars."""

from __future__ import annotations

from datetime import datetime

from booking.calendar_model import SourceKind
from booking.calendar_push import CalendarPushes
from booking.calendar_sources import CalendarAccess
from booking.context import Context
from booking.model import Author, Coach, Session
from bot.settings import Settings
from conversations.calendar_invite import stored_ics
from integrations.caldav_calendar import CalDavCalendars
from integrations.ics_url import IcsUrlReader
from integrations.secret_box import FernetBox


def calendar_access(settings: Settings, caldav: CalDavCalendars | None = None) -> CalendarAccess:
    key = settings.calendar_secret_key.get_secret_value().strip() if settings.calendar_secret_key else ""
    return CalendarAccess(
        readers={
            SourceKind.ICS: IcsUrlReader(allow_private=settings.calendar_allow_private_urls),
            SourceKind.CALDAV: caldav or CalDavCalendars(allow_private=settings.calendar_allow_private_urls),
        },
        secrets=FernetBox(key) if key else None,
    )


def calendar_pushes(ctx: Context, access: CalendarAccess) -> CalendarPushes:
    writer = access.readers[SourceKind.CALDAV]
    assert isinstance(writer, CalDavCalendars)
    return CalendarPushes(ctx, access, writer, _render)


def _render(session: Session, coach: Coach, author: Author, stamp: datetime) -> bytes:
    return stored_ics(session, coach, author, stamp=stamp)
