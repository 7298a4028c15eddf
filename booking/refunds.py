"""Paying out refunds. An amount is owed (`refund_due`) from the moment a rule grants it, in the
same transaction as the change that grants it; the provider is asked afterwards, and what it
does not take now stays owed and is retried by the scheduler."""

from __future__ import annotations

from datetime import timedelta

import structlog

from booking.context import Context, session_of
from booking.errors import InvalidInput, PaymentError
from booking.events import RefundOwed, RefundSent
from booking.ledger import Payment, next_refund
from booking.model import Actor, Session
from booking.ports import UnitOfWork

log = structlog.get_logger(__name__)

# A refund granted this recently is still being paid by the change that granted it (try_settle):
# the scheduler's retry leaves it alone, so the two never race for it.
SETTLING = timedelta(minutes=2)


async def refund(ctx: Context, session_id: int, amount: int | None = None, *, reason: str) -> Session:
    """Refund `amount` (default: all that is left) now. It is owed from this moment; if the
    provider refuses, PaymentError is raised and the scheduler keeps retrying."""
    async with ctx.uow() as uow:
        session = await ctx.lock_session(uow, session_id)
        left = session.kept
        amount = left if amount is None else amount
        if amount <= 0 or amount > left:
            raise InvalidInput("amount", f"must be between 1 and {left} (what is left to refund)")
        session.owe_refund(amount)
        await ctx.note(uow, session, Actor.ADMIN, f"refund of {amount} requested ({reason})")
        await uow.sessions.save(session)
        await uow.commit()
    return await settle_refund(ctx, session_id)


async def settle_refund(ctx: Context, session_id: int, *, announce: bool = True) -> Session:
    """Pay out what the session owes, payment by payment (the newest first: a duplicate payment
    goes back before the one the session keeps), never more than a payment still holds. The
    idempotency key is fixed by the amounts, so a retry after a crash between the provider's
    answer and our commit cannot refund twice. `announce`: the author is told (RefundSent); not
    when the message about the change that granted the refund already says so."""
    async with ctx.uow() as uow:
        session = await session_of(uow, session_id)
        ledger = await uow.payments.of_session(session_id)
    for _ in range(len(ledger) + 1):
        step = next_refund(ledger, session.refund_due)
        if step is None:
            break
        payment, amount = step
        key = f"refund-{session_id}-{session.amount_refunded}-{amount}-{session.refund_attempt}"
        ref = await ctx.payments.refund(session, payment.ref, amount, key)
        session, ledger = await _record_refund(ctx, session_id, payment.ref, amount, ref, announce)
    if session.refund_due > 0 and next_refund(ledger, session.refund_due) is None:
        session = await _drop_unpayable(ctx, session_id)
    return session


async def _record_refund(
    ctx: Context, session_id: int, payment_ref: str, amount: int, ref: str, announce: bool
) -> tuple[Session, list[Payment]]:
    """In the transaction that records it, a refund is checked against what its payment holds."""
    async with ctx.uow() as uow:
        session = await ctx.lock_session(uow, session_id)
        payment = await uow.payments.get(session_id, payment_ref)
        paid_out = 0 if payment is None else min(amount, session.refund_due, payment.left)
        if payment is not None and paid_out > 0:  # else recorded meanwhile from the provider's own event
            payment.refund(paid_out)
            session.refunded(paid_out)
            await ctx.note(uow, session, Actor.SYSTEM, f"refunded {paid_out} ({ref})")
            await uow.sessions.save(session)
            if announce:
                await ctx.tell(uow, session, RefundSent(paid_out))
            await uow.commit()
        ledger = await uow.payments.of_session(session_id)
    return session, ledger


async def _drop_unpayable(ctx: Context, session_id: int) -> Session:
    """Owed more than the session's payments still hold (a record from before the ledger, or a
    bug): what cannot be refunded is no longer owed, and an operator is told in the log."""
    async with ctx.uow() as uow:
        session = await ctx.lock_session(uow, session_id)
        holds = sum(p.left for p in await uow.payments.of_session(session_id))
        excess = session.refund_due - holds
        if excess > 0:
            session.refund_due = holds
            await ctx.note(uow, session, Actor.SYSTEM, f"{excess} owed beyond what the payments hold; not refunded")
            await uow.sessions.save(session)
            await uow.commit()
            log.error("refund.beyond_payments", session_id=session_id, excess=excess)
    return session


async def settle_refunds(ctx: Context) -> int:
    """Retry every refund still owed (the scheduler calls this). One session that fails, for
    whatever reason, never stops the others."""
    async with ctx.uow() as uow:
        owed = await uow.sessions.refunds_due(changed_before=ctx.now() - SETTLING)
    settled = 0
    for session in owed:
        assert session.id is not None
        try:
            await settle_refund(ctx, session.id)
            settled += 1
        except PaymentError as exc:
            log.warning("refund.retry_failed", session_id=session.id, error=str(exc))
        except Exception as exc:  # a bug or a broken row must not stop the refunds owed to others
            log.error("refund.settle_failed", session_id=session.id, error=str(exc), error_type=type(exc).__name__)
    return settled


async def try_settle(ctx: Context, session_id: int) -> Session:
    """Settle a refund just granted, now if the provider takes it (the message about the change
    that granted it names the refund: no second one); otherwise it stays owed, the admins are
    told, and the scheduler's retry tells the author when it is paid."""
    try:
        return await settle_refund(ctx, session_id, announce=False)
    except PaymentError as exc:
        log.warning("refund.deferred", session_id=session_id, error=str(exc))
        async with ctx.uow() as uow:
            session = await session_of(uow, session_id)
            if session.refund_due:
                await ctx.tell(uow, session, RefundOwed(session.refund_due, str(exc)[:300]))
                await uow.commit()
            return session


async def record_payment(uow: UnitOfWork, session: Session, payment_ref: str | None, amount: int) -> None:
    """A payment into the ledger (inside the transaction that records it on the session)."""
    assert session.id is not None
    ref = payment_ref or f"session-{session.id}-{session.amount_paid}"  # a provider that gave no id
    await uow.payments.add(Payment(session.id, ref, amount, created_at=session.updated_at))
