"""Cancelling a session, and what an author is told before they confirm a cancellation."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import structlog

from booking import credits, series_news
from booking import validation as v
from booking.context import Context
from booking.errors import NotAllowed, PaymentError, PolicyViolation
from booking.events import TIMED_KINDS, CalendarChanged, Recipient, SessionCancelled
from booking.model import Actor, Money, Session, SessionStatus
from booking.ports import UnitOfWork
from booking.refunds import try_settle

log = structlog.get_logger(__name__)

CANCELLABLE = (SessionStatus.HELD, SessionStatus.SCHEDULED)


@dataclass(frozen=True)
class CancelQuote:
    """What cancelling now would mean: allowed or refused (with the policy's words), and the refund."""

    allowed: bool
    refund: Money
    refusal: str | None = None


def quote(ctx: Context, session: Session, by: Actor) -> CancelQuote:
    if session.status is SessionStatus.HELD:  # an unpaid hold: nothing to refund, no cut-off
        return CancelQuote(True, Money(0, session.currency))
    try:
        amount = ctx.policy.refund_on_cancel(session, by, ctx.now())
    except PolicyViolation as exc:
        return CancelQuote(False, Money(0, session.currency), exc.message)
    return CancelQuote(True, Money(amount, session.currency))


async def cancel(
    ctx: Context,
    session_id: int,
    *,
    by: Actor,
    reason: str | None = None,
    author_id: int | None = None,
    coach_id: int | None = None,
    settle_now: bool = True,
) -> Session:
    """Cancel and refund per policy. A refund the provider does not take now stays owed
    (`refund_due`) and is retried by the scheduler; the cancellation stands either way. With
    `settle_now=False` the caller runs `settle` itself once it has answered (a chat that must
    answer within seconds cannot wait for the payment and video providers)."""
    reason = v.text("reason", reason, max_len=500)
    async with ctx.uow() as uow:
        session = await ctx.lock_session(uow, session_id)
        check_owner(session, by, author_id, coach_id)
        before = await cancel_locked(ctx, uow, session, by, reason)
        await uow.commit()
    if before is SessionStatus.HELD and session.checkout_ref and ctx.payments.enabled:
        await close_checkout(ctx, session.checkout_ref)
    return await settle(ctx, session_id) if settle_now else session


async def cancel_locked(
    ctx: Context,
    uow: UnitOfWork,
    session: Session,
    by: Actor,
    reason: str | None,
    *,
    full_refund: bool = False,
    at: datetime | None = None,
) -> SessionStatus:
    """Cancel a session read under its locks, refund owed per policy (all that was kept with
    `full_refund`: a coach calling off a whole group session); returns its status before. `at`:
    the instant it is cancelled, when several go as one (a group's seats carry the group's)."""
    assert session.id is not None
    before = session.status
    if before is SessionStatus.HELD:
        refund = 0  # an unpaid hold: nothing to refund, and no cut-off applies
    elif before is SessionStatus.SCHEDULED:
        refund = session.kept if full_refund else ctx.policy.refund_on_cancel(session, by, ctx.now())
    else:
        refund = 0  # refused by the session below
    session.cancel(by, reason, refund, at or ctx.now())
    if before is SessionStatus.SCHEDULED:  # in time, or by the coach: the policy let it through
        await credits.give_back(ctx, uow, session)
    await uow.outbox.supersede(session.id, TIMED_KINDS, ctx.now())
    await ctx.record_change(uow, session, before, by, reason or "cancelled")
    await uow.sessions.save(session)
    cancelled = SessionCancelled(by, refund)
    await ctx.tell(uow, session, cancelled)
    if before is not SessionStatus.HELD:  # the coach and the admins never saw an unpaid hold
        await ctx.tell(uow, session, cancelled.for_(Recipient.COACH))
        await ctx.tell(uow, session, cancelled.for_(Recipient.ADMIN))
        await ctx.tell(uow, session, CalendarChanged())
    elif session.series_id is not None:  # its last unpaid date gone, the rest of the series is confirmed
        await series_news.announce_if_settled(ctx, uow, session)
    return before


async def settle(ctx: Context, session_id: int) -> Session:
    """What follows a committed cancellation, outside its transaction: the refund paid (or left
    owed for the scheduler) and the meeting room deleted. Safe to run again."""
    session = await try_settle(ctx, session_id)
    # A seat's room is its group's, shared with the other seats: it goes with the group only.
    if session.status is SessionStatus.CANCELLED and session.meeting_url and session.group_slot_id is None:
        await ctx.drop_meeting(session.meeting_url)
    return session


def check_owner(session: Session, by: Actor, author_id: int | None = None, coach_id: int | None = None) -> None:
    """An author acts only on their own sessions, a coach only on theirs (admins on any)."""
    if by is Actor.AUTHOR and author_id is not None and session.author_id != author_id:
        raise NotAllowed("this session belongs to another author")
    if by is Actor.COACH and coach_id is not None and session.coach_id != coach_id:
        raise NotAllowed("this session belongs to another coach")


async def close_checkout(ctx: Context, ref: str) -> None:
    try:
        await ctx.payments.expire_checkout(ref)
    except PaymentError as exc:  # it expires by itself; a payment that still arrives is refunded
        log.warning("checkout.expire_failed", ref=ref, error=str(exc))
