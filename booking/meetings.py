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
