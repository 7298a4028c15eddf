"""The SQL unit of work: one transaction; leaving it without commit() rolls back. Database
guard failures are translated here into the domain's conflict errors."""

from __future__ import annotations

import functools

from sqlalchemy import bindparam, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from booking import ports
from booking.errors import SlotConflict, TransientConflict
from booking.model import Author, Coach
from storage.calendars import CalendarRepository
from storage.repositories import (
    AUTHOR_LOCK_NAMESPACE,
    COACH_LOCK_NAMESPACE,
    AuthorRepository,
    AvailabilityRepository,
    CoachRepository,
    CreditRepository,
    GroupRepository,
    OutboxRepository,
    PaymentEventLog,
    PaymentRepository,
    SeriesRepository,
    SessionRepository,
    SlackThreadRepository,
    TelegramStateRepository,
    WaitlistRepository,
)
from storage.tables import authors, coaches

SQLITE_GUARD_MESSAGE = "coachbot: slot taken"
SQLITE_SEAT_MESSAGE = "coachbot: no such seat"
EXCLUSION_VIOLATION = "23P01"
UNIQUE_VIOLATION = "23505"
SEAT_INDEX = "ux_sessions_group_seat"  # one number per seat (0018): a lost race for a seat
RETRYABLE = {"40P01", "40001"}  # deadlock detected, serialization failure


class SqlUnitOfWork:
    # The repositories as booking.ports declares them: a protocol's attributes must match exactly.
    db: AsyncSession
    coaches: ports.CoachRepository
    authors: ports.AuthorRepository
    availability: ports.AvailabilityRepository
    sessions: ports.SessionRepository
    series: ports.SeriesRepository
    credits: ports.CreditRepository
    payments: ports.PaymentRepository
    outbox: ports.OutboxRepository
    payment_events: ports.PaymentEventLog
    calendars: ports.CalendarRepository
    groups: ports.GroupRepository
    waitlist: ports.WaitlistRepository
    telegram_state: TelegramStateRepository
    slack_threads: SlackThreadRepository

    def __init__(self, sessions: async_sessionmaker[AsyncSession], dialect: str):
        self._sessions = sessions
        self._dialect = dialect

    async def __aenter__(self) -> SqlUnitOfWork:
        self.db = self._sessions()
        self.coaches = CoachRepository(self.db)
        self.authors = AuthorRepository(self.db)
        self.availability = AvailabilityRepository(self.db)
        self.sessions = SessionRepository(self.db)
        self.series = SeriesRepository(self.db)
        self.credits = CreditRepository(self.db)
        self.payments = PaymentRepository(self.db)
        self.outbox = OutboxRepository(self.db)
        self.payment_events = PaymentEventLog(self.db)
        self.calendars = CalendarRepository(self.db)
        self.groups = GroupRepository(self.db)
        self.waitlist = WaitlistRepository(self.db)
        self.telegram_state = TelegramStateRepository(self.db)
        self.slack_threads = SlackThreadRepository(self.db)
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        exc = exc_info[1] if len(exc_info) > 1 else None  # (type, value, traceback)
        try:
            # Detach first: a rollback would expire the loaded objects the caller goes on reading.
            self.db.expunge_all()
            await self.db.rollback()
        finally:
            await self.db.close()
        if isinstance(exc, DBAPIError):
            translated = translate(exc)
            if translated is not None:
                raise translated from exc

    async def commit(self) -> None:
        await self.db.commit()

    async def lock_coach(self, coach_id: int) -> None:
        # Serialising a coach's writers before the exclusion constraint is checked removes the
        # deadlocks measured under a 50-way race (DESIGN.md). SQLite is already serialised.
        if self._dialect == "postgresql":
            await self.db.execute(
                text("SELECT pg_advisory_xact_lock(:ns, :coach)"), {"ns": COACH_LOCK_NAMESPACE, "coach": coach_id}
            )

    async def lock_author(self, author_id: int) -> None:
        # Two bookings of one author with two coaches hold different coach locks; this one keeps
        # them from both spending the last credit. SQLite is already serialised.
        if self._dialect == "postgresql":
            await self.db.execute(
                text("SELECT pg_advisory_xact_lock(:ns, :author)"), {"ns": AUTHOR_LOCK_NAMESPACE, "author": author_id}
            )

    async def open_booking(self, coach_id: int, author_id: int) -> tuple[Coach | None, Author | None]:
        row = (await self.db.execute(_open_booking_statement(), {"coach_id": coach_id, "author_id": author_id})).first()
        return (row[0], row[1]) if row is not None else (None, None)  # no coach: the author is moot


@functools.cache
def _open_booking_statement():
    return (
        select(Coach, Author)
        .outerjoin(Author, authors.c.id == bindparam("author_id"))
        .where(coaches.c.id == bindparam("coach_id"))
    )


def translate(exc: DBAPIError) -> Exception | None:
    code = sqlstate(exc)
    message = str(exc.orig)
    if code == EXCLUSION_VIOLATION or SQLITE_GUARD_MESSAGE in message or SQLITE_SEAT_MESSAGE in message:
        return SlotConflict()
    # PostgreSQL names the index, SQLite its columns.
    if (code == UNIQUE_VIOLATION and SEAT_INDEX in message) or "sessions.group_slot_id, sessions.seat" in message:
        return SlotConflict()
    if code in RETRYABLE or "database is locked" in message:
        return TransientConflict()
    return None


def sqlstate(exc: DBAPIError) -> str | None:
    orig = exc.orig
    for candidate in (orig, getattr(orig, "__cause__", None)):
        code = getattr(candidate, "sqlstate", None) or getattr(candidate, "pgcode", None)
        if code:
            return code
    return None


class Database:
    """An engine and its session factory; `uow()` makes a unit of work."""

    def __init__(self, engine: AsyncEngine):
        from storage.engine import session_factory
        from storage.tables import start_mappers

        start_mappers()
        self.engine = engine
        self.dialect = engine.dialect.name
        self._sessions = session_factory(engine)

    def uow(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self._sessions, self.dialect)

    async def ping(self) -> None:
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        await self.engine.dispose()
