"""Reading sessions: one by id, or a coach's or an author's list; a coach's month and feedback."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from booking.availability import local_to_utc
from booking.context import Context, author_of, coach_of, session_of
from booking.errors import InvalidInput
from booking.model import ACTIVE_STATUSES, Author, Money, Session, SessionStatus

MAX_MONTH_SESSIONS = 2000


async def session(ctx: Context, session_id: int) -> Session:
    async with ctx.uow() as uow:
        return await session_of(uow, session_id)


async def sessions(
    ctx: Context, *, coach_id: int | None = None, author_id: int | None = None, when: str | None = None
) -> list[Session]:
    if when not in (None, "upcoming", "past"):
        raise InvalidInput("when", f"expected upcoming or past, got {when!r}")
    now = ctx.now()
    async with ctx.uow() as uow:
        if coach_id is not None:
            await coach_of(uow, coach_id)
        if author_id is not None:
            await author_of(uow, author_id)
        if when == "upcoming":
            return await uow.sessions.find(coach_id=coach_id, author_id=author_id, after=now, statuses=ACTIVE_STATUSES)
        if when == "past":
            return await uow.sessions.find(coach_id=coach_id, author_id=author_id, before=now)
        return await uow.sessions.find(coach_id=coach_id, author_id=author_id)


@dataclass(frozen=True)
class MonthSummary:
    """A coach's completed sessions of one month of their calendar, and what was kept of the
    authors' payments for them (paid, less refunded and less still owed back), per currency."""

    month: date  # its first day
    completed: int
    earned: list[Money]


async def coach_month(ctx: Context, coach_id: int, *, now: datetime | None = None) -> MonthSummary:
    """The month containing `now` (default: the clock's) on the coach's wall clock."""
    now = now or ctx.now()
    async with ctx.uow() as uow:
        coach = await coach_of(uow, coach_id)
        tz = ZoneInfo(coach.timezone)
        first = now.astimezone(tz).date().replace(day=1)
        following = (
            first.replace(year=first.year + 1, month=1) if first.month == 12 else first.replace(month=first.month + 1)
        )
        start, end = local_to_utc(first, 0, tz, fold=0), local_to_utc(following, 0, tz, fold=0)
        found = await uow.sessions.find(
            coach_id=coach_id,
            after=start,
            before=end,
            statuses=frozenset({SessionStatus.COMPLETED}),
            limit=MAX_MONTH_SESSIONS,
        )
    done = [s for s in found if s.starts_at >= start]
    earned: dict[str, int] = {}
    for s in done:
        earned[s.currency] = earned.get(s.currency, 0) + s.kept
    return MonthSummary(first, len(done), [Money(amount, cur) for cur, amount in sorted(earned.items())])


@dataclass(frozen=True)
class Feedback:
    session: Session
    author: Author


async def recent_feedback(ctx: Context, coach_id: int, *, limit: int = 3) -> list[Feedback]:
    """The feedback authors wrote on the coach's sessions, the most recent first, with its author."""
    async with ctx.uow() as uow:
        await coach_of(uow, coach_id)
        found = []
        for s in await uow.sessions.with_feedback(coach_id, limit=limit):
            author = await uow.authors.get(s.author_id)
            if author is not None:
                found.append(Feedback(s, author))
    return found
