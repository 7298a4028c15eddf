"""Sessions written to the coach's connected CalDAV calendars, through the outbox: each booking,
reschedule and cancellation queues one CalendarChanged (recipient "calendar") in its own
transaction, and this notifier delivers it. A push writes the session as it is at delivery (the
event under the session's UID, replaced in place; deleted once cancelled), so one that is retried
or arrives late never undoes a later change. A server that is down gets it again soon for the
first few tries (SendLater), then less and less often up to the outbox's hour; a calendar that
refuses the password is closed as Undeliverable, so the admins hear of it once a day. Each
calendar's push error is kept on its row, and the coach told once (booking/calendar_health.py)."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Protocol

import structlog

from booking import calendar_health
from booking.calendar_model import CalendarSource, SourceKind
from booking.calendar_sources import CalendarAccess, CalendarError, CalendarRefused, session_uid
from booking.context import Context
from booking.events import CalendarPart, Recipient
from booking.model import Author, Coach, OutboxMessage, Session, SessionStatus
from booking.notifier_ports import Prepared
from booking.outbox import SendLater, backoff
from booking.outcomes import Undeliverable
from booking.ports import Parties

log = structlog.get_logger(__name__)

RETRY_AFTER = timedelta(seconds=30)
QUICK_TRIES = 3
Render = Callable[[Session, Coach, Author, datetime], bytes]  # the session as an iCalendar object


class CalendarWriter(Protocol):
    async def put(self, source: CalendarSource, password: str | None, ics: bytes) -> None: ...
    async def delete(self, source: CalendarSource, password: str | None, uid: str) -> None: ...


class CalendarPushes:
    """A booking.notifier_ports.BatchNotifier for Recipient.CALENDAR: each coach's pushes on a channel of
    their own and unpaced (one coach's hung server never holds back another's)."""

    recipients = frozenset({Recipient.CALENDAR.value})
    channel_interval = 0.0

    def __init__(self, ctx: Context, access: CalendarAccess, writer: CalendarWriter, render: Render):
        self.ctx = ctx
        self.access = access
        self.writer = writer
        self.render = render

    async def prepare(self, messages: Sequence[OutboxMessage]) -> list[Prepared]:
        ids = [m.session_id for m in messages if m.session_id is not None]
        async with self.ctx.uow() as uow:
            found = await uow.outbox.parties(ids)
        prepared = []
        for message in messages:
            parties = found.get(message.session_id) if message.session_id is not None else None
            if parties is None:
                prepared.append(Prepared(message))
            else:
                send = functools.partial(self._push, message, parties)
                prepared.append(Prepared(message, send=send, channel=("calendar", parties.coach.id), interval=0.0))
        return prepared

    async def deliver(self, message: OutboxMessage) -> None:
        if message.session_id is None:
            return
        async with self.ctx.uow() as uow:
            parties = (await uow.outbox.parties([message.session_id])).get(message.session_id)
        if parties is not None:
            await self._push(message, parties)

    async def _push(self, message: OutboxMessage, parties: Parties) -> None:
        async with self.ctx.uow() as uow:
            targets = [s for s, _ in await uow.calendars.sources(parties.coach.id or 0) if s.kind is SourceKind.CALDAV]
        session = parties.session
        if not targets or session.status is SessionStatus.HELD:
            return  # no CalDAV calendar, or not booked yet (its confirmation queues another push)
        failed, refused = [], []
        outcomes: dict[int, str | None] = {}
        for source in targets:
            assert source.id is not None
            outcomes[source.id] = None
            try:
                password = self.access.password(source)
                if session.status is SessionStatus.CANCELLED:
                    await self.writer.delete(source, password, session_uid(session.id or 0))
                else:
                    await self.writer.put(
                        source, password, self.render(session, parties.coach, parties.author, self.ctx.now())
                    )
            except CalendarRefused as exc:
                refused.append(f"calendar {source.id}: {exc}")
                outcomes[source.id] = str(exc)
            except CalendarError as exc:
                failed.append(f"calendar {source.id}: {exc}")
                outcomes[source.id] = str(exc)
        await self._note(targets, outcomes)
        if failed:
            # Every source is written again on the retry: a PUT or DELETE of the same state is harmless.
            raise SendLater("; ".join(failed), retry_after(message.attempts))
        if refused:  # only the coach can fix it: the admins hear of it (once a day per coach)
            raise Undeliverable("; ".join(refused), party=f"coach:{parties.coach.id}")
        log.info("calendar.pushed", session_id=session.id, sources=len(targets), status=session.status.value)

    async def _note(self, targets: list[CalendarSource], outcomes: dict[int, str | None]) -> None:
        """Store each calendar's push error (or clear it): only when that changes, so a push that
        works as before writes nothing."""
        changed = [s.id for s in targets if s.id is not None and s.push_error != outcomes.get(s.id)]
        if not changed:
            return
        async with self.ctx.uow() as uow:
            await uow.lock_coach(targets[0].coach_id)
            for source_id in changed:
                stored = await uow.calendars.get_source(source_id)
                if stored is not None:  # else disconnected meanwhile
                    await calendar_health.record(uow, stored, CalendarPart.PUSH, outcomes[source_id], self.ctx.now())
                    await uow.calendars.save_source(stored)
            await uow.commit()


def retry_after(attempts: int) -> timedelta:
    """Soon for the first few tries (a server back within a minute gets the push), then the
    outbox's growing backoff, up to its hour."""
    return RETRY_AFTER if attempts < QUICK_TRIES else backoff(attempts - QUICK_TRIES)
