"""Holds: a slot kept for an author while they pay, released when the time runs out."""

from __future__ import annotations

from collections.abc import Iterable

from booking import series_news
from booking.context import Context
from booking.events import HoldExpired
from booking.model import Actor, Session, SessionStatus
from booking.ports import UnitOfWork


async def release_hold(ctx: Context, uow: UnitOfWork, session: Session, reason: str) -> None:
    """Inside a unit of work that holds the session's locks."""
    session.release_hold(reason, ctx.now())
    await ctx.record_change(uow, session, SessionStatus.HELD, Actor.SYSTEM, reason)
    await uow.sessions.save(session)
    await ctx.tell(uow, session, HoldExpired(reason))
    await series_news.announce_if_settled(ctx, uow, session)  # the rest of its series was paid


async def release_lapsed(ctx: Context, uow: UnitOfWork, session_ids: Iterable[int]) -> None:
    """Holds found lapsed by a read under the coach's lock give way at once, not at the next sweep."""
    for session_id in session_ids:
        lapsed = await uow.sessions.get(session_id, for_update=True)
        if lapsed is not None and lapsed.status is SessionStatus.HELD:
            await release_hold(ctx, uow, lapsed, "hold expired")


async def expire_holds(ctx: Context) -> int:
    """Release every hold past its expiry, without asking the payment provider (reconcile asks it
    first; this is for when there is none to ask)."""
    async with ctx.uow() as uow:
        expired = await uow.sessions.holds(expired_before=ctx.now())
    released = 0
    for hold in expired:
        assert hold.id is not None
        released += await release_expired_hold(ctx, hold.id)
    return released


async def release_expired_hold(ctx: Context, session_id: int, *, checkout_closed: bool = False) -> bool:
    """Release a hold that has run out, re-read under the locks; False if it was paid or
    released meanwhile. `checkout_closed`: its checkout is settled, so forget the link."""
    async with ctx.uow() as uow:
        session = await ctx.lock_session(uow, session_id)
        if session.status is not SessionStatus.HELD:
            return False
        await release_hold(ctx, uow, session, "hold expired")
        if checkout_closed:
            session.checkout_url = None
        await uow.commit()
    return True
