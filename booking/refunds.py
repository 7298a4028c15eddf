"""Paying out refunds. An amount is owed (`refund_due`) from the moment a rule grants it, in the
same transaction as the change that grants it; the provider is asked afterwards, and what it
does not take now stays owed and is retried by the scheduler."""

from __future__ import annotations

import structlog

from booking.context import Context, session_of
from booking.errors import InvalidInput, PaymentError
from booking.events import RefundSent
from booking.model import Actor, Session

log = structlog.get_logger(__name__)


async def refund(ctx: Context, session_id: int, amount: int | None = None, *, reason: str) -> Session:
    """Refund `amount` (default: all that is left) now. It is owed from this moment; if the
    provider refuses, PaymentError is raised and the scheduler keeps retrying."""
    async with ctx.uow() as uow:
        session = await ctx.lock_session(uow, session_id)
        left = session.refundable - session.refund_due
        amount = left if amount is None else amount
        if amount <= 0 or amount > left:
            raise InvalidInput("amount", f"must be between 1 and {left} (what is left to refund)")
        session.owe_refund(amount)
        await ctx.note(uow, session, Actor.ADMIN, f"refund of {amount} requested ({reason})")
        await uow.sessions.save(session)
        await uow.commit()
    return await settle_refund(ctx, session_id)


async def settle_refund(ctx: Context, session_id: int) -> Session:
    """Pay out what the session owes. The idempotency key is fixed by the amounts, so a retry
    after a crash between the provider's answer and our commit cannot refund twice."""
    async with ctx.uow() as uow:
        session = await session_of(uow, session_id)
    due = session.refund_due
    if due <= 0:
        return session
    key = f"refund-{session_id}-{session.amount_refunded}-{due}-{session.refund_attempt}"
    ref = await ctx.payments.refund(session, due, key)
    async with ctx.uow() as uow:
        session = await ctx.lock_session(uow, session_id)
        paid_out = min(due, session.refund_due)
        if paid_out <= 0:
            return session  # recorded meanwhile from the provider's own refund event
        session.refunded(paid_out)
        await ctx.note(uow, session, Actor.SYSTEM, f"refunded {paid_out} ({ref})")
        await uow.sessions.save(session)
        await ctx.tell(uow, session, RefundSent(paid_out))
        await uow.commit()
    return session


async def settle_refunds(ctx: Context) -> int:
    """Retry every refund still owed (the scheduler calls this)."""
    async with ctx.uow() as uow:
        owed = await uow.sessions.refunds_due()
    settled = 0
    for session in owed:
        assert session.id is not None
        try:
            await settle_refund(ctx, session.id)
            settled += 1
        except PaymentError as exc:
            log.warning("refund.retry_failed", session_id=session.id, error=str(exc))
    return settled


async def try_settle(ctx: Context, session_id: int) -> Session:
    """Settle now if the provider takes it; otherwise it stays owed for the scheduler."""
    try:
        return await settle_refund(ctx, session_id)
    except PaymentError as exc:
        log.warning("refund.deferred", session_id=session_id, error=str(exc))
        async with ctx.uow() as uow:
            return await session_of(uow, session_id)
