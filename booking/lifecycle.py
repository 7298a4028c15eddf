"""A session's life after booking: started, completed, missed, rated. The scheduler advances
statuses on its own; people record completions, no-shows and ratings."""

from __future__ import annotations

from datetime import timedelta

from booking import credits
from booking import validation as v
from booking.cancellation import check_owner
from booking.context import Context, coach_of
from booking.errors import InvalidInput, NotAllowed
from booking.events import RatingPrompt, Recipient, SessionCompleted, SessionNoShow, SessionRated
from booking.model import Actor, Session, SessionStatus
from booking.ports import UnitOfWork
from booking.refunds import try_settle

LIVE = frozenset({SessionStatus.SCHEDULED, SessionStatus.IN_PROGRESS})


async def complete(ctx: Context, session_id: int, *, by: Actor = Actor.ADMIN, coach_id: int | None = None) -> Session:
    async with ctx.uow() as uow:
        session = await ctx.lock_session(uow, session_id)
        check_owner(session, by, coach_id=coach_id)
        session.require_started(ctx.now())
        await _complete(ctx, uow, session, by)
        await uow.commit()
    return session


async def _complete(ctx: Context, uow: UnitOfWork, session: Session, by: Actor) -> None:
    before = session.status
    session.complete(ctx.now())
    coach = await coach_of(uow, session.coach_id)
    coach.session_completed()
    await ctx.record_change(uow, session, before, by, "completed")
    await uow.sessions.save(session)
    await ctx.tell(uow, session, RatingPrompt())
    await ctx.tell(uow, session, SessionCompleted())


async def advance_statuses(ctx: Context) -> int:
    """scheduled -> in_progress at the start, -> completed after the end plus the grace period
    (the scheduler calls this). Returns how many sessions changed."""
    now = ctx.now()
    grace = timedelta(minutes=ctx.settings.completion_grace_minutes)
    changed = 0
    async with ctx.uow() as uow:
        # Only sessions due now: scheduled ones whose start has come, and ones in progress whose
        # end plus the grace period has passed, however long ago (the scheduler may have been
        # down). Sessions in progress and not yet over are not read, nor is any history.
        due = await uow.sessions.due_to_advance(start_by=now, end_by=now - grace)
    for candidate in due:
        assert candidate.id is not None
        # Each under the locks, re-read: another instance or a cancellation may have won.
        async with ctx.uow() as uow:
            session = await ctx.lock_session(uow, candidate.id)
            if session.status not in LIVE:
                continue
            if session.ends_at + grace <= now:
                await _complete(ctx, uow, session, Actor.SYSTEM)
            elif session.status is SessionStatus.SCHEDULED:
                session.start(now)
                await ctx.record_change(uow, session, SessionStatus.SCHEDULED, Actor.SYSTEM, "started")
                await uow.sessions.save(session)
            else:
                continue
            await uow.commit()
        changed += 1
    return changed


async def no_show(
    ctx: Context, session_id: int, *, who: Actor = Actor.AUTHOR, by: Actor = Actor.ADMIN, coach_id: int | None = None
) -> Session:
    """`who` did not show, as `by` reports it (a coach reports only on their own sessions)."""
    if who not in (Actor.AUTHOR, Actor.COACH):
        raise InvalidInput("who", "must be author or coach")
    async with ctx.uow() as uow:
        session = await ctx.lock_session(uow, session_id)
        check_owner(session, by, coach_id=coach_id)
        session.require_started(ctx.now())
        before = session.status
        refund = ctx.policy.refund_on_no_show(session, who)
        if session.mark_no_show(refund, ctx.now()):
            coach = await coach_of(uow, session.coach_id)
            coach.completion_undone()
        if who is Actor.COACH:  # an author who does not show spends their credit
            await credits.give_back(ctx, uow, session)
        await ctx.record_change(uow, session, before, by, f"{who.value} did not show")
        await uow.sessions.save(session)
        noted = SessionNoShow(who, refund)
        for to in (Recipient.AUTHOR, Recipient.COACH, Recipient.ADMIN):  # the admins' feed too
            await ctx.tell(uow, session, noted.for_(to))
        await uow.commit()
    if refund:
        session = await try_settle(ctx, session_id)
    return session


async def rate(ctx: Context, session_id: int, *, author_id: int, stars: int, feedback: str | None = None) -> Session:
    v.int_range("stars", stars, 1, 5)
    feedback = v.text("feedback", feedback, max_len=2000)
    async with ctx.uow() as uow:
        session = await ctx.lock_session(uow, session_id)
        if session.author_id != author_id:
            raise NotAllowed("only the session's author can rate it")
        session.rate(stars, feedback, ctx.now())
        coach = await coach_of(uow, session.coach_id)
        coach.rated(stars)
        await uow.sessions.save(session)
        await ctx.tell(uow, session, SessionRated(stars))
        await uow.commit()
    return session
