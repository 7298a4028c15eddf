"""Meeting links: made when a session is confirmed, retried by the scheduler while the video
provider is down."""

from __future__ import annotations

import structlog

from booking.context import Context
from booking.model import Session

log = structlog.get_logger(__name__)


async def attach_meeting(ctx: Context, session: Session) -> Session:
    """Ask the provider for a room (outside any lock), then store it if the session is still on."""
    assert session.id is not None
    if session.group_slot_id is not None:
        return await _attach_shared(ctx, session)
    try:
        url = await ctx.video.create(session)
    except Exception as exc:  # the provider is outside our control; the scheduler retries
        log.warning("meeting.failed", session_id=session.id, error=str(exc))
        return session
    async with ctx.uow() as uow:
        fresh = await ctx.lock_session(uow, session.id)
        if fresh.is_active:
            fresh.meeting_url = url
            await uow.sessions.save(fresh)
            await uow.commit()
    return fresh


async def attach_missing_meetings(ctx: Context) -> int:
    """Give a meeting link to every upcoming scheduled session that lacks one (provider was down)."""
    async with ctx.uow() as uow:
        missing = await uow.sessions.missing_meeting(ctx.now())
    done = 0
    for session in missing:
        if (await attach_meeting(ctx, session)).meeting_url:
            done += 1
    return done


async def _attach_shared(ctx: Context, seat: Session) -> Session:
    """A seat of a group session joins its group's room, made once for the group by the first
    seat that needs it (a room made by a seat that lost that race is deleted again)."""
    assert seat.id is not None and seat.group_slot_id is not None
    async with ctx.uow() as uow:
        slot = await uow.groups.get(seat.group_slot_id)
    url = slot.meeting_url if slot is not None else None
    made = None
    if url is None:
        try:
            url = made = await ctx.video.create(seat)
        except Exception as exc:  # the provider is outside our control; the scheduler retries
            log.warning("meeting.failed", session_id=seat.id, error=str(exc))
            return seat
    async with ctx.uow() as uow:
        fresh = await ctx.lock_session(uow, seat.id)
        slot = await uow.groups.get(seat.group_slot_id, for_update=True)
        if slot is not None and slot.is_open:
            if slot.meeting_url is None:
                slot.meeting_url = url
                await uow.groups.save(slot)
            url = slot.meeting_url
            if fresh.is_active:
                fresh.meeting_url = url
                await uow.sessions.save(fresh)
            await uow.commit()
    if made is not None and made != url:
        await ctx.drop_meeting(made)
    return fresh
