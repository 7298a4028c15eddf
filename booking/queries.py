"""Reading sessions: one by id, or a coach's or an author's list."""

from __future__ import annotations

from booking.context import Context, author_of, coach_of, session_of
from booking.errors import InvalidInput
from booking.model import ACTIVE_STATUSES, Session


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
