"""Payment events and reconciliation. Provider events arrive late, twice and out of order, so
each one is recorded by id in the same transaction as its effect (a replay changes nothing),
and every handler accepts any current state of the session."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import structlog

from booking.errors import PaymentError
from booking.model import Actor, Session, SessionStatus
from booking.ports import UnitOfWork
from booking.services import BookingService

log = structlog.get_logger(__name__)

# Checkouts live at most 24 h, so a released hold's checkout is watched a little longer than that.
RELEASED_CHECKOUT_WATCH = timedelta(hours=25)


@dataclass(frozen=True)
class PaymentEvent:
    """A provider event, reduced to what booking needs. kind: paid | pending | expired | failed |
    refunded | ignored."""

    id: str
    kind: str
    provider_type: str
    session_id: int | None = None
    checkout_ref: str | None = None
    payment_ref: str | None = None
    amount: int = 0  # paid: amount received; refunded: total refunded so far on the payment


class PaymentService:
    def __init__(self, booking: BookingService):
        self.booking = booking
        self.uow = booking.uow
        self.clock = booking.clock
        self.gateway = booking.payments

    async def handle(self, event: PaymentEvent) -> str:
        async with self.uow() as tx:
            if not await tx.payment_events.record(event.id, event.provider_type, self.clock.now()):
                return "duplicate"
            session = await self._find(tx, event)
            if session is None:
                await tx.commit()  # acknowledged: not ours, or nothing to do
                return "ignored"
            session = await self.booking._locked(tx, session.id)  # fresh, under the locks
            handler = {
                "paid": self._on_paid,
                "expired": self._on_released,
                "failed": self._on_released,
                "refunded": self._on_refunded,
                "refund_failed": self._on_refund_failed,
            }.get(event.kind)
            outcome = await handler(tx, session, event) if handler else "ignored"
            await tx.commit()
        log.info("payment.event", event_id=event.id, kind=event.kind, session_id=session.id, outcome=outcome)
        await self._follow_up(session.id, outcome)
        return outcome

    async def _follow_up(self, session_id: int, outcome: str) -> None:
        if outcome == "confirmed":
            await self.booking._attach_meeting(await self.booking.session(session_id))
        elif outcome == "refund_due":
            # The event is committed: a provider failure here must not fail the delivery (a
            # redelivery is a duplicate). The refund stays owed and settle_refunds retries it.
            await self.booking._try_settle(session_id)

    async def _find(self, tx: UnitOfWork, event: PaymentEvent) -> Session | None:
        if event.session_id is not None:
            # The metadata is ours and the event is signed: trust it even for an older checkout
            # of the same session (a retried link), so that payment is not ignored and kept.
            session = await tx.sessions.get(event.session_id)
            if session is not None:
                return session
        if event.checkout_ref or event.payment_ref:
            return await tx.sessions.by_payment(checkout_ref=event.checkout_ref, payment_ref=event.payment_ref)
        return None

    async def _on_paid(self, tx: UnitOfWork, session: Session, event: PaymentEvent) -> str:
        if event.payment_ref and session.payment_ref == event.payment_ref:
            return "already recorded"  # e.g. completed and async_payment_succeeded for one payment
        before = session.status
        if before is SessionStatus.HELD:
            await self.booking._mark_paid(tx, session, amount=event.amount, payment_ref=event.payment_ref)
            return "confirmed"
        now = self.clock.now()
        session.amount_paid += event.amount
        session.payment_ref = event.payment_ref
        session.updated_at = now
        if before is SessionStatus.CANCELLED and session.cancelled_by is Actor.SYSTEM and session.starts_at > now:
            # Paid after the hold was released: keep the booking if nobody has taken the slot.
            # The coach lock is held, so this check cannot race another booking.
            taken = await tx.sessions.busy(session.coach_id, session.blocked_from, session.blocked_until, exclude=session.id)
            if not taken:
                session.status = SessionStatus.SCHEDULED
                session.cancelled_by = session.cancelled_at = session.cancel_reason = None
                session.hold_expires_at = None
                await self.booking._log(tx, session, before, Actor.SYSTEM, "paid after the hold expired; slot still free")
                await self.booking._enqueue_confirmation(tx, session)  # confirmation and reminders
                return "confirmed"
        # Paid for a session that cannot take place (or paid twice): give everything back.
        if before is not SessionStatus.CANCELLED:
            reason = "duplicate"
        elif session.cancelled_by is Actor.SYSTEM:
            reason = "slot_taken"
        else:
            reason = "cancelled"
        session.refund_due += event.amount
        await self.booking._log(tx, session, before, Actor.SYSTEM, f"payment refunded in full ({reason})")
        await tx.outbox.add(self.booking._message("payment_refunded", session, amount=event.amount, reason=reason))
        return "refund_due"

    async def _on_released(self, tx: UnitOfWork, session: Session, event: PaymentEvent) -> str:
        if session.status is not SessionStatus.HELD:
            return "ignored"  # paid already (events out of order) or released before
        await self.booking._release_hold(tx, session, f"checkout {event.kind}")
        return "released"

    async def _on_refunded(self, tx: UnitOfWork, session: Session, event: PaymentEvent) -> str:
        total = min(event.amount, session.amount_paid)
        if total <= session.amount_refunded:
            return "already recorded"
        delta = total - session.amount_refunded
        session.amount_refunded = total
        session.refund_due = max(0, session.refund_due - delta)
        await self.booking._note(tx, session, Actor.SYSTEM, f"refund of {delta} recorded from the provider")
        return "refund recorded"

    async def _on_refund_failed(self, tx: UnitOfWork, session: Session, event: PaymentEvent) -> str:
        """A refund the provider accepted failed later (e.g. a closed card): it is owed again and
        retried (with a new key), and the failure is logged for an operator to look at."""
        amount = min(event.amount, session.amount_refunded)
        if amount <= 0:
            return "ignored"
        session.amount_refunded -= amount
        session.refund_due += amount
        session.refund_attempt += 1
        await self.booking._note(tx, session, Actor.SYSTEM, f"refund of {amount} failed at the provider; owed again")
        log.error("refund.failed_at_provider", session_id=session.id, amount=amount, event_id=event.id)
        return "refund_due"

    # ---- reconciliation (scheduler and `coachbot payments reconcile`) ----------------------

    async def reconcile(self, *, include_open: bool = False) -> dict[str, int]:
        """Settle holds with the provider: paid ones are confirmed (a lost webhook), expired ones
        released (and their checkout closed). Then retry refunds still owed."""
        counts = {"confirmed": 0, "released": 0, "refunds": 0, "unreachable": 0}
        now = self.clock.now()
        async with self.uow() as tx:
            holds = await tx.sessions.holds(expired_before=None if include_open else now)
        for hold in holds:
            outcome = await self._reconcile_hold(hold, expired=hold.hold_expires_at <= now)
            if outcome in counts:
                counts[outcome] += 1
        if self.gateway.enabled:
            async with self.uow() as tx:
                released = await tx.sessions.released_checkouts(since=now - RELEASED_CHECKOUT_WATCH)
            for session in released:
                outcome = await self._reconcile_released(session)
                if outcome in counts:
                    counts[outcome] += 1
        counts["refunds"] = await self.booking.settle_refunds()
        return counts

    async def _reconcile_released(self, session: Session) -> str:
        """A hold released without asking the provider (lazily, by another booking) may have been
        paid just before, or its checkout may still be open: settle it, then stop watching it."""
        try:
            state = await self.gateway.checkout_state(session.checkout_ref)
            if state.paid:
                return await self.handle(PaymentEvent(
                    id=f"reconcile:{state.ref}", kind="paid", provider_type="reconcile", session_id=session.id,
                    checkout_ref=state.ref, payment_ref=state.payment_ref, amount=state.amount))
            if state.status == "open":
                await self.gateway.expire_checkout(session.checkout_ref)
        except PaymentError as exc:
            log.warning("reconcile.unreachable", session_id=session.id, error=str(exc))
            return "unreachable"
        async with self.uow() as tx:
            row = await tx.sessions.get(session.id, for_update=True)
            row.checkout_url = None  # closed at the provider: no longer watched
            await tx.commit()
        return "closed"

    async def _reconcile_hold(self, hold: Session, *, expired: bool) -> str:
        state = None  # stays None when there is no checkout to ask about (it was never made)
        if hold.checkout_ref and self.gateway.enabled:
            try:
                state = await self.gateway.checkout_state(hold.checkout_ref)
            except PaymentError as exc:
                log.warning("reconcile.unreachable", session_id=hold.id, error=str(exc))
                state = None
                if not expired:
                    return "unreachable"
            if state is not None and state.paid:
                event = PaymentEvent(id=f"reconcile:{state.ref}", kind="paid", provider_type="reconcile",
                                     session_id=hold.id, checkout_ref=state.ref, payment_ref=state.payment_ref,
                                     amount=state.amount)
                return await self.handle(event)
            if state is not None and state.status == "open" and expired:
                try:
                    await self.gateway.expire_checkout(hold.checkout_ref)
                except PaymentError as exc:  # it expires on its own at hold expiry; a late payment is refunded
                    log.warning("reconcile.expire_failed", session_id=hold.id, error=str(exc))
        if not expired:
            return "open"
        closed = state is not None and state.status != "open"  # settled there: nothing to watch later
        released = await self.booking.release_expired_hold(hold.id, checkout_closed=closed)
        return "released" if released else "ignored"
