"""Payment events and reconciliation. Provider events arrive late, twice and out of order, so
each one is recorded by id in the same transaction as its effect (a replay changes nothing),
and every handler accepts any current state of the session."""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

import structlog

from booking import packages
from booking.bookings import confirmation, mark_paid, queue
from booking.context import Context, author_of
from booking.errors import PaymentError
from booking.events import PaymentRefunded, Recipient, RefundReason
from booking.groups import free_seat
from booking.holds import release_expired_hold, release_hold
from booking.ledger import Payment
from booking.meetings import attach_meeting
from booking.model import Actor, Session, SessionStatus
from booking.ports import CheckoutState, UnitOfWork
from booking.queries import session as read_session
from booking.refunds import record_payment, settle_refunds, try_settle
from booking.series_payment import paid_together, shares_payment

log = structlog.get_logger(__name__)

# Checkouts live at most 24 h, so a released hold's checkout is watched a little longer than that.
RELEASED_CHECKOUT_WATCH = timedelta(hours=25)


class PaymentKind(str, enum.Enum):
    PAID = "paid"
    PENDING = "pending"  # completed, but an asynchronous method has not settled yet
    EXPIRED = "expired"
    FAILED = "failed"
    REFUNDED = "refunded"
    REFUND_FAILED = "refund_failed"
    IGNORED = "ignored"


class Outcome(str, enum.Enum):
    """What handling a payment event did."""

    DUPLICATE = "duplicate"
    IGNORED = "ignored"
    CONFIRMED = "confirmed"
    RELEASED = "released"
    REFUND_DUE = "refund_due"
    REFUND_RECORDED = "refund recorded"
    ALREADY_RECORDED = "already recorded"


@dataclass(frozen=True)
class PaymentEvent:
    """A provider event, reduced to what booking needs."""

    id: str
    kind: PaymentKind
    provider_type: str
    session_id: int | None = None
    package_id: int | None = None  # a package bought through checkout (with author_id): no session
    author_id: int | None = None
    checkout_ref: str | None = None
    payment_ref: str | None = None
    amount: int = 0  # paid: amount received; refunded: total refunded so far on the payment
    currency: str | None = None  # paid: the currency of `amount`, when the provider says


Handler = Callable[[Context, UnitOfWork, Session, PaymentEvent], Awaitable[Outcome]]


async def handle(ctx: Context, event: PaymentEvent) -> Outcome:
    async with ctx.uow() as tx:
        if not await tx.payment_events.record(event.id, event.provider_type, ctx.now()):
            return Outcome.DUPLICATE
        if event.package_id is not None and event.session_id is None:
            outcome = await _on_package(ctx, tx, event)
            await tx.commit()
            log.info("payment.event", event_id=event.id, kind=event.kind, package_id=event.package_id, outcome=outcome)
            return outcome
        found = await _find(tx, event)
        if found is None or found.id is None:
            await tx.commit()  # acknowledged: not ours, or nothing to do
            return Outcome.IGNORED
        session = await ctx.lock_session(tx, found.id)  # fresh, under the locks
        handler = HANDLERS.get(PaymentKind(event.kind))
        outcome = await handler(ctx, tx, session, event) if handler else Outcome.IGNORED
        await tx.commit()
    log.info("payment.event", event_id=event.id, kind=event.kind, session_id=session.id, outcome=outcome.value)
    assert session.id is not None
    if outcome is Outcome.CONFIRMED:
        await attach_meeting(ctx, await read_session(ctx, session.id))
    elif outcome is Outcome.REFUND_DUE:
        # The event is committed: a provider failure here must not fail the delivery (a
        # redelivery is a duplicate). The refund stays owed and settle_refunds retries it.
        await try_settle(ctx, session.id)
    return outcome


async def _on_package(ctx: Context, tx: UnitOfWork, event: PaymentEvent) -> Outcome:
    """A package's checkout was paid: the author gets its credits, once per payment."""
    if event.kind is not PaymentKind.PAID or event.author_id is None or event.package_id is None:
        return Outcome.IGNORED  # an unpaid or expired package checkout holds nothing
    granted = await packages.grant_paid(
        ctx, tx, event.author_id, event.package_id, amount=event.amount, payment_ref=event.payment_ref or event.id
    )
    return Outcome.CONFIRMED if granted else Outcome.ALREADY_RECORDED


async def _find(tx: UnitOfWork, event: PaymentEvent) -> Session | None:
    if event.session_id is not None:
        # The metadata is ours and the event is signed: trust it even for an older checkout of
        # the same session (a retried link), so that payment is not ignored and kept.
        session = await tx.sessions.get(event.session_id)
        if session is not None:
            return session
    if event.checkout_ref or event.payment_ref:
        return await tx.sessions.by_payment(checkout_ref=event.checkout_ref, payment_ref=event.payment_ref)
    return None


async def _on_paid(ctx: Context, tx: UnitOfWork, session: Session, event: PaymentEvent) -> Outcome:
    assert session.id is not None
    if event.payment_ref and await tx.payments.get(session.id, event.payment_ref) is not None:
        return Outcome.ALREADY_RECORDED  # e.g. completed and async_payment_succeeded for one payment
    before = session.status
    matches = _pays_for(session, event)
    if before is SessionStatus.HELD and matches:
        await mark_paid(ctx, tx, session, amount=event.amount, payment_ref=event.payment_ref)
        return Outcome.CONFIRMED
    together = (
        [] if before is not SessionStatus.HELD else await paid_together(tx, session, event.amount, event.currency)
    )
    if together:  # one checkout for a series: each occurrence is paid its own price from it
        for occurrence in together:
            await mark_paid(ctx, tx, occurrence, amount=occurrence.price_amount, payment_ref=event.payment_ref)
        return Outcome.CONFIRMED
    now = ctx.now()
    session.payment_received(event.amount, event.payment_ref, now)
    await record_payment(tx, session, event.payment_ref, event.amount)
    if (
        before is SessionStatus.CANCELLED
        and matches
        and session.cancelled_by is Actor.SYSTEM
        and session.starts_at > now
    ):
        # Paid after the hold was released: keep the booking if nobody has taken the slot.
        # The coach lock is held, so this check cannot race another booking.
        if session.group_slot_id is not None:
            number = await free_seat(tx, session)
            free = number is not None
            session.seat = number or session.seat
        else:
            free = not await tx.sessions.busy(
                session.coach_id, session.blocked_from, session.blocked_until, exclude=session.id
            )
        if free:
            session.reinstate(now)
            await ctx.record_change(tx, session, before, Actor.SYSTEM, "paid after the hold expired; slot still free")
            author = await author_of(tx, session.author_id)
            await queue(ctx, tx, session, confirmation(ctx, session, author, alone=True))
            return Outcome.CONFIRMED
    # Paid for a session that cannot take place, paid twice, or not its price: give it all back.
    if not matches and await _lapsed_series_total(tx, session, event, before):
        reason = RefundReason.LAPSED
    elif not matches:
        reason = RefundReason.WRONG_AMOUNT
        log.error(
            "payment.wrong_amount",
            session_id=session.id,
            event_id=event.id,
            amount=event.amount,
            currency=event.currency,
            price=session.price_amount,
            session_currency=session.currency,
        )
    elif before is not SessionStatus.CANCELLED:
        reason = RefundReason.DUPLICATE
    elif session.cancelled_by is Actor.SYSTEM:
        reason = RefundReason.SLOT_TAKEN
    else:
        reason = RefundReason.CANCELLED
    session.owe_refund(event.amount)
    await ctx.record_change(tx, session, before, Actor.SYSTEM, f"payment refunded in full ({reason.value})")
    await ctx.tell(tx, session, PaymentRefunded(event.amount, reason))
    await ctx.tell(tx, session, PaymentRefunded(event.amount, reason).for_(Recipient.ADMIN))
    return Outcome.REFUND_DUE


async def _lapsed_series_total(tx: UnitOfWork, session: Session, event: PaymentEvent, before: SessionStatus) -> bool:
    """Whether this is a series' one payment, for exactly its dates whose holds lapsed (released
    by us): paid late, not a wrong amount. (Re-booking those dates, as a single session paid late
    is, is not done for a series yet: the payment is given back.)"""
    if before is not SessionStatus.CANCELLED or session.cancelled_by is not Actor.SYSTEM or session.series_id is None:
        return False
    if not await shares_payment(tx, session):
        return False
    released = [
        s
        for s in await tx.series.sessions(session.series_id)
        if s.status is SessionStatus.CANCELLED
        and s.cancelled_by is Actor.SYSTEM
        and (s.id == session.id or not s.amount_paid)
    ]
    currency_ok = event.currency is None or event.currency.lower() == session.currency.lower()
    return currency_ok and sum(s.price_amount for s in released) == event.amount


def _pays_for(session: Session, event: PaymentEvent) -> bool:
    """A paid event is trusted by the session id it carries only if it pays that session's price,
    in its currency (a checkout made elsewhere on the same account could carry any session id)."""
    currency_ok = event.currency is None or event.currency.lower() == session.currency.lower()
    return event.amount == session.price_amount and currency_ok


async def _on_released(ctx: Context, tx: UnitOfWork, session: Session, event: PaymentEvent) -> Outcome:
    if session.status is not SessionStatus.HELD:
        return Outcome.IGNORED  # paid already (events out of order) or released before
    await release_hold(ctx, tx, session, f"checkout {PaymentKind(event.kind).value}")
    return Outcome.RELEASED


async def _on_refunded(ctx: Context, tx: UnitOfWork, session: Session, event: PaymentEvent) -> Outcome:
    if await shares_payment(tx, session):
        # The provider's total covers every occurrence the payment paid for; ours are recorded
        # when we make them, one occurrence at a time.
        log.warning("refund.total_of_shared_payment_ignored", session_id=session.id, event_id=event.id)
        return Outcome.IGNORED
    payment = await _payment_of(tx, session, event)
    delta = 0 if payment is None else payment.reported(event.amount)
    if not delta:
        return Outcome.ALREADY_RECORDED
    session.refund_recorded(delta)
    await ctx.note(tx, session, Actor.SYSTEM, f"refund of {delta} recorded from the provider")
    return Outcome.REFUND_RECORDED


async def _on_refund_failed(ctx: Context, tx: UnitOfWork, session: Session, event: PaymentEvent) -> Outcome:
    """A refund the provider accepted failed later (e.g. a closed card): it is owed again and
    retried (with a new key), and the failure is logged for an operator to look at."""
    payment = await _payment_of(tx, session, event)
    amount = 0 if payment is None else payment.refund_failed(event.amount)
    if amount <= 0:
        return Outcome.IGNORED
    session.refund_failed(amount)
    await ctx.note(tx, session, Actor.SYSTEM, f"refund of {amount} failed at the provider; owed again")
    log.error("refund.failed_at_provider", session_id=session.id, amount=amount, event_id=event.id)
    return Outcome.REFUND_DUE


async def _payment_of(tx: UnitOfWork, session: Session, event: PaymentEvent) -> Payment | None:
    """The ledger row a refund event is about: its payment, or the session's latest one."""
    ref = event.payment_ref or session.payment_ref
    return await tx.payments.get(session.id, ref) if ref and session.id is not None else None


HANDLERS: dict[PaymentKind, Handler] = {
    PaymentKind.PAID: _on_paid,
    PaymentKind.EXPIRED: _on_released,
    PaymentKind.FAILED: _on_released,
    PaymentKind.REFUNDED: _on_refunded,
    PaymentKind.REFUND_FAILED: _on_refund_failed,
}


# ---- reconciliation (scheduler and `coachbot payments reconcile`) ------------------------------


async def reconcile(ctx: Context, *, include_open: bool = False) -> dict[str, int]:
    """Settle holds with the provider: paid ones are confirmed (a lost webhook), expired ones
    released (and their checkout closed). Then retry refunds still owed."""
    counts = {"confirmed": 0, "released": 0, "refunds": 0, "unreachable": 0}
    now = ctx.now()
    async with ctx.uow() as tx:
        holds = await tx.sessions.holds(expired_before=None if include_open else now)
    for hold in holds:
        assert hold.hold_expires_at is not None
        outcome = await _reconcile_hold(ctx, hold, expired=hold.hold_expires_at <= now)
        if outcome in counts:
            counts[outcome] += 1
    if ctx.payments.enabled:
        async with ctx.uow() as tx:
            released = await tx.sessions.released_checkouts(since=now - RELEASED_CHECKOUT_WATCH)
        for session in released:
            outcome = await _reconcile_released(ctx, session)
            if outcome in counts:
                counts[outcome] += 1
    counts["refunds"] = await settle_refunds(ctx)
    return counts


def _paid_event(session: Session, state: CheckoutState) -> PaymentEvent:
    return PaymentEvent(
        id=f"reconcile:{state.ref}",
        kind=PaymentKind.PAID,
        provider_type="reconcile",
        session_id=session.id,
        checkout_ref=state.ref,
        payment_ref=state.payment_ref,
        amount=state.amount,
        currency=state.currency,
    )


async def _reconcile_released(ctx: Context, session: Session) -> str:
    """A hold released without asking the provider (lazily, by another booking) may have been
    paid just before, or its checkout may still be open: settle it, then stop watching it."""
    assert session.checkout_ref is not None and session.id is not None
    try:
        state = await ctx.payments.checkout_state(session.checkout_ref)
        if state.paid:
            return (await handle(ctx, _paid_event(session, state))).value
        if state.status == "open":
            await ctx.payments.expire_checkout(session.checkout_ref)
    except PaymentError as exc:
        log.warning("reconcile.unreachable", session_id=session.id, error=str(exc))
        return "unreachable"
    async with ctx.uow() as tx:
        row = await tx.sessions.get(session.id, for_update=True)
        if row is not None:
            row.checkout_url = None  # closed at the provider: no longer watched
            await tx.commit()
    return "closed"


async def _reconcile_hold(ctx: Context, hold: Session, *, expired: bool) -> str:
    assert hold.id is not None
    state = None  # stays None when there is no checkout to ask about (it was never made)
    if hold.checkout_ref and ctx.payments.enabled:
        try:
            state = await ctx.payments.checkout_state(hold.checkout_ref)
        except PaymentError as exc:
            log.warning("reconcile.unreachable", session_id=hold.id, error=str(exc))
            state = None
            if not expired:
                return "unreachable"
        if state is not None and state.paid:
            return (await handle(ctx, _paid_event(hold, state))).value
        if state is not None and state.status == "open" and expired:
            try:
                await ctx.payments.expire_checkout(hold.checkout_ref)
            except PaymentError as exc:  # it expires on its own at hold expiry; a late payment is refunded
                log.warning("reconcile.expire_failed", session_id=hold.id, error=str(exc))
    if not expired:
        return "open"
    closed = state is not None and state.status != "open"  # settled there: nothing to watch later
    released = await release_expired_hold(ctx, hold.id, checkout_closed=closed)
    return "released" if released else "ignored"
