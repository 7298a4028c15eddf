"""What every use case shares: the unit of work factory, the clock, the ports and the settings,
and the helpers each write needs.

The one write pattern (every change to a coach's calendar or a session follows it):

1. open one unit of work (one transaction);
2. take the coach's lock first: `uow.lock_coach(coach_id)` for a new booking, `lock_session`
   for a change to an existing session (it takes the coach's lock, then the session's row);
3. read what the rules need (one calendar read for a slot check);
4. check with the domain (the slot engine, the policy, the session's own transitions);
5. write the change, its status-change row and its outbox events (`record_change`, `tell`);
6. commit. The database guard (an exclusion constraint on PostgreSQL, triggers on SQLite) is the
   last line: a conflict it finds surfaces as SlotConflict, a deadlock as TransientConflict.

Calls to the outside world (payments, video rooms) never happen while the lock is held: they
come after the commit, and their results are written back under the lock in a second unit of
work. There is one path per use case; nothing is cached between transactions.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar

import structlog

from booking.errors import BookingError, NotFound, TransientConflict
from booking.events import CalendarChanged, Event, to_message
from booking.model import Actor, Author, Coach, OutboxMessage, Session, SessionStatus, StatusChange
from booking.policy import CancellationPolicy
from booking.ports import Clock, PaymentGateway, UnitOfWork, UnitOfWorkFactory, VideoRooms
from booking.series_model import SeriesPayment

log = structlog.get_logger(__name__)

T = TypeVar("T")
MAX_ATTEMPTS = 5
CALENDAR_BUSY = "the coach's calendar is busy right now; please try again in a moment"


@dataclass(frozen=True)
class BookingSettings:
    hold_minutes: int = 30
    waitlist_hold_minutes: int = 30  # how long a waiting-list offer is held for its author
    completion_grace_minutes: int = 15  # a session counts as held this long after its end
    series_payment: SeriesPayment = SeriesPayment.PER_SESSION
    policy: CancellationPolicy = field(default_factory=CancellationPolicy)


@dataclass(frozen=True)
class Context:
    uow: UnitOfWorkFactory
    clock: Clock
    payments: PaymentGateway
    video: VideoRooms
    settings: BookingSettings = field(default_factory=BookingSettings)

    @property
    def policy(self) -> CancellationPolicy:
        return self.settings.policy

    def now(self) -> datetime:
        return self.clock.now()

    async def lock_session(self, uow: UnitOfWork, session_id: int) -> Session:
        """The session re-read under its coach's lock and its own row lock. Every change of a
        session goes through here (coach lock first, always), so two changes never both act on
        a stale read: e.g. a cancellation and a payment webhook arriving together."""
        session = await session_of(uow, session_id)
        await uow.lock_coach(session.coach_id)
        locked = await uow.sessions.get(session_id, for_update=True)
        if locked is None:
            raise NotFound("session", session_id)
        return locked

    async def record_change(
        self, uow: UnitOfWork, session: Session, before: SessionStatus | None, actor: Actor, reason: str
    ) -> None:
        """A row in the session's history; `before` == the current status for a note (a refund)."""
        assert session.id is not None
        await uow.sessions.log(StatusChange(session.id, before, session.status, actor, self.now(), reason))

    async def note(self, uow: UnitOfWork, session: Session, actor: Actor, text: str) -> None:
        await self.record_change(uow, session, session.status, actor, text)

    async def tell(self, uow: UnitOfWork, session: Session, event: Event, *, due: datetime | None = None) -> None:
        """Queue an event about the session, in this transaction (sent only if it commits). A
        CalendarChanged only if the coach has a CalDAV calendar to push to (most have none)."""
        if isinstance(event, CalendarChanged) and not await uow.calendars.has_caldav(session.coach_id):
            return
        await uow.outbox.add(to_message(event, session.id, due or self.now()))

    async def pushable(self, uow: UnitOfWork, coach_id: int, messages: list[OutboxMessage]) -> list[OutboxMessage]:
        """`messages` without CalendarChanged if the coach has no CalDAV calendar (see `tell`)."""
        if any(m.kind == CalendarChanged.kind for m in messages) and not await uow.calendars.has_caldav(coach_id):
            return [m for m in messages if m.kind != CalendarChanged.kind]
        return messages

    async def retrying(self, attempt: Callable[[], Awaitable[T]]) -> T:
        """Run `attempt` again after a deadlock or serialization failure, a few times."""
        for _ in range(MAX_ATTEMPTS):
            try:
                return await attempt()
            except TransientConflict:
                continue
        raise BookingError(CALENDAR_BUSY)

    async def drop_meeting(self, url: str) -> None:
        try:
            await self.video.delete(url)
        except Exception as exc:  # a room left behind expires on its own; never fail the change for it
            log.warning("meeting.delete_failed", error=str(exc))


async def coach_of(uow: UnitOfWork, coach_id: int) -> Coach:
    coach = await uow.coaches.get(coach_id)
    if coach is None:
        raise NotFound("coach", coach_id)
    return coach


async def author_of(uow: UnitOfWork, author_id: int) -> Author:
    author = await uow.authors.get(author_id)
    if author is None:
        raise NotFound("author", author_id)
    return author


async def session_of(uow: UnitOfWork, session_id: int) -> Session:
    session = await uow.sessions.get(session_id)
    if session is None:
        raise NotFound("session", session_id)
    return session


def hours(minutes: int) -> str:
    return f"{minutes // 60} h" if minutes % 60 == 0 else f"{minutes} min"
