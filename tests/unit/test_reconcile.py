"""Reconciliation with the payment provider, on the fakes."""

from booking import bookings, payments
from booking.model import SessionStatus
from tests.unit.test_use_cases import WED_10, world


async def test_an_expired_hold_whose_checkout_was_never_made_is_released():
    w = await world(payments=True)
    w.payments.fail_checkout = True  # Stripe was down when the author picked the slot
    held = await bookings.book(w.ctx, w.coach.id, w.author.id, WED_10)
    assert held.status is SessionStatus.HELD and held.checkout_ref is None
    w.clock.advance(minutes=31)

    counts = await payments.reconcile(w.ctx)

    assert counts["released"] == 1
    assert w.store.sessions[held.id].status is SessionStatus.CANCELLED
