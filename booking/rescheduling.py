"""Moving a session to another free slot. The new slot is checked with the session's own span
ignored and the session is moved in place, in one transaction under the coach's lock: the new
slot is secured before the old one is released."""

from __future__ import annotations

from datetime import datetime

from booking import credits, slots
from booking import validation as v
from booking.bookings import check_bookable, queue, reminders
from booking.cancellation import check_owner
from booking.context import Context, author_of, coach_of
from booking.errors import PolicyViolation, SlotConflict, SlotTaken, SlotUnavailable
from booking.events import TIMED_KINDS, CalendarChanged, Recipient, SessionRescheduled
from booking.meetings import attach_meeting
from booking.model import Actor, Coach, Interval, Session
from booking.ports import UnitOfWork
from booking.queries import session as read_session


def refusal(ctx: Context, session: Session, by: Actor) -> str | None:
    """Why `by` may not move the session now (the policy's words), or None."""
    try:
        ctx.policy.check_reschedule(session, by, ctx.now())
    except PolicyViolation as exc:
        return exc.message
    return None


async def reschedule(
    ctx: Context, session_id: int, new_start: datetime, *, by: Actor = Actor.AUTHOR, author_id: int | None = None
) -> Session:
    new_start = v.instant("start", new_start)
    try:
        session, old_url = await ctx.retrying(lambda: _reschedule_once(ctx, session_id, new_start, by, author_id))
    except SlotConflict:
        current = await read_session(ctx, session_id)
        raise SlotTaken(
            await slots.alternatives(ctx, current.coach_id, new_start, current.duration_minutes, exclude=session_id)
        ) from None
    except SlotUnavailable as exc:
        current = await read_session(ctx, session_id)
        exc.alternatives = await slots.alternatives(
            ctx, current.coach_id, new_start, current.duration_minutes, exclude=session_id
        )
        raise
    if old_url:
        await ctx.drop_meeting(old_url)
    return await attach_meeting(ctx, session)


async def _reschedule_once(
    ctx: Context, session_id: int, new_start: datetime, by: Actor, author_id: int | None
) -> tuple[Session, str | None]:
    async with ctx.uow() as uow:
        session = await ctx.lock_session(uow, session_id)
        check_owner(session, by, author_id)
        session.check_movable()
        ctx.policy.check_reschedule(session, by, ctx.now())
        coach = await coach_of(uow, session.coach_id)
        slot = await check_bookable(ctx, uow, coach, new_start, session.duration_minutes, exclude=session.id)
        old_url = await move_locked(ctx, uow, session, coach, slot, by)
        await uow.commit()
    return session, old_url


async def move_locked(
    ctx: Context, uow: UnitOfWork, session: Session, coach: Coach, slot: Interval, by: Actor
) -> str | None:
    """Move a session read under its locks to a slot already checked; returns its old meeting URL."""
    assert session.id is not None
    await credits.check_move(uow, session, slot.start)
    old_start, old_url = session.starts_at, session.meeting_url
    session.move(slot, coach.buffer_before, coach.buffer_after, ctx.now())
    await uow.sessions.save(session)
    await ctx.record_change(uow, session, session.status, by, f"rescheduled from {old_start.isoformat()}")
    await ctx.tell(uow, session, SessionRescheduled(by, old_start))
    await ctx.tell(uow, session, SessionRescheduled(by, old_start).for_(Recipient.COACH))
    await ctx.tell(uow, session, CalendarChanged())
    await uow.outbox.supersede(session.id, TIMED_KINDS, ctx.now())
    await queue(ctx, uow, session, reminders(ctx, session, await author_of(uow, session.author_id)))
    return old_url
