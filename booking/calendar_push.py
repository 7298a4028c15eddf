"""Sessions written to the coach's connected CalDAV calendars, through the outbox: each booking,
reschedule and cancellation queues one CalendarChanged (recipient "calendar") in its own
transaction, and this notifier delivers it. A push writes the session as it is at delivery (the
event under the session's UID, replaced in place; deleted once cancelled), so one that is retried
or arrives late never undoes a later change. A server that is down gets it again soon
(SendLater), so it goes out shortly after the server answers."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Protocol

import structlog

from booking.calendar_model import CalendarSource, SourceKind
from booking.calendar_sources import CalendarAccess, CalendarError, session_uid
from booking.context import Context
from booking.events import Recipient
from booking.model import Author, Coach, OutboxMessage, Session, SessionStatus
from booking.outbox import SendLater

log = structlog.get_logger(__name__)

RETRY_AFTER = timedelta(seconds=30)
Render = Callable[[Session, Coach, Author, datetime], bytes]  # the session as an iCalendar object


class CalendarWriter(Protocol):
    async def put(self, source: CalendarSource, password: str | None, ics: bytes) -> None: ...
    async def delete(self, source: CalendarSource, password: str | None, uid: str) -> None: ...


class CalendarPushes:
    """A booking.ports.Notifier for Recipient.CALENDAR."""

    recipients = frozenset({Recipient.CALENDAR.value})

    def __init__(self, ctx: Context, access: CalendarAccess, writer: CalendarWriter, render: Render):
        self.ctx = ctx
        self.access = access
        self.writer = writer
        self.render = render

    async def deliver(self, message: OutboxMessage) -> None:
        if message.session_id is None:
            return
        async with self.ctx.uow() as uow:
            parties = (await uow.outbox.parties([message.session_id])).get(message.session_id)
            if parties is None:
                return
            targets = [s for s, _ in await uow.calendars.sources(parties.coach.id or 0) if s.kind is SourceKind.CALDAV]
        session = parties.session
        if not targets or session.status is SessionStatus.HELD:
            return  # no CalDAV calendar, or not booked yet (its confirmation queues another push)
        failed = []
        for source in targets:
            try:
                password = self.access.password(source)
                if session.status is SessionStatus.CANCELLED:
                    await self.writer.delete(source, password, session_uid(message.session_id))
                else:
                    await self.writer.put(
                        source, password, self.render(session, parties.coach, parties.author, self.ctx.now())
                    )
            except CalendarError as exc:
                failed.append(f"source {source.id}: {exc}")
        if failed:
            # Every source is written again on the retry: a PUT or DELETE of the same state is harmless.
            raise SendLater("; ".join(failed), RETRY_AFTER)
        log.info("calendar.pushed", session_id=message.session_id, sources=len(targets), status=session.status.value)
