"""The coach's private notes on a session: written by the session's coach or an admin, never shown
to the author (no event is queued)."""

from __future__ import annotations

from booking import validation as v
from booking.cancellation import check_owner
from booking.context import Context
from booking.errors import InvalidInput, NotAllowed
from booking.model import Actor, Session

MAX_NOTES = 3000  # what one Slack text input holds


async def write_coach_notes(
    ctx: Context, session_id: int, notes: str | None, *, by: Actor, coach_id: int | None = None
) -> Session:
    """Replace the session's private notes (empty text clears them)."""
    if by not in (Actor.COACH, Actor.ADMIN):
        raise NotAllowed("only the session's coach or an admin writes its private notes")
    if by is Actor.COACH and coach_id is None:
        raise InvalidInput("coach_id", "a coach writes notes as themselves")
    cleaned = v.text("notes", notes, max_len=MAX_NOTES)
    async with ctx.uow() as uow:
        session = await ctx.lock_session(uow, session_id)
        check_owner(session, by, coach_id=coach_id)
        session.write_coach_notes(cleaned, ctx.now())
        await uow.sessions.save(session)
        await uow.commit()
    return session
