"""Whether a coach's calendar works, kept on its row: the last error of its import and of the
pushes of sessions to it, each with since when. A calendar that fails never blocks booking (its
last good busy set keeps counting); the coach is told once when a part starts failing and once when
it works again, in the same transaction that records the change, so two instances never both tell.
A coach linked in Slack hears it there (a CalendarFailing / CalendarRecovered message in the
outbox); otherwise it goes to the log."""

from __future__ import annotations

from datetime import datetime

import structlog

from booking.calendar_model import CalendarSource
from booking.events import CalendarFailing, CalendarPart, CalendarRecovered, Event, to_message
from booking.ports import UnitOfWork

log = structlog.get_logger(__name__)


async def record(uow: UnitOfWork, source: CalendarSource, part: CalendarPart, error: str | None, now: datetime) -> None:
    """Note the outcome of an import or a push of `source` (a row read in this unit of work);
    tell the coach if that part started failing or recovered."""
    assert source.id is not None
    if part is CalendarPart.IMPORT:
        was = source.error
        source.error = error
        if error is None:
            source.error_at = None
        elif was is None:
            source.error_at = now
    else:
        was = source.push_error
        source.push_error = error
        if error is None:
            source.push_error_at = None
        elif was is None:
            source.push_error_at = now
    event: Event | None = None
    if error is not None and was is None:
        event = CalendarFailing(source.id, part, error)
        log.warning(
            "calendar.source_failing", coach_id=source.coach_id, source_id=source.id, part=part.value, error=error
        )
    elif error is None and was is not None:
        event = CalendarRecovered(source.id, part)
        log.info("calendar.source_recovered", coach_id=source.coach_id, source_id=source.id, part=part.value)
    if event is None:
        return
    coach = await uow.coaches.get(source.coach_id)
    if coach is not None and coach.slack_user_id:
        await uow.outbox.add(to_message(event, None, now, coach_id=source.coach_id))
