"""A cancellation and a payment event arriving together: whichever runs first, the author ends
up cancelled with every cent paid refunded (never charged for a cancelled session, never left
with a session they cancelled)."""

import asyncio
from datetime import timedelta

from booking import bookings, cancellation, catalog, queries, refunds
from booking.model import Actor, SessionStatus
from booking.payments import PaymentEvent, PaymentKind, handle
from tests.fakes import FakePayments
from tests.storage.helpers import NOW, context_for, open_coach


async def test_cancel_and_payment_racing_end_cancelled_and_refunded(database):
    payments = FakePayments(enabled=True)
    ctx = context_for(database, payments=payments)
    coach = await open_coach(ctx)
    author = await catalog.add_author(ctx, name="A", timezone="UTC")

    weekdays = [d for d in range(2, 20) if (NOW + timedelta(days=d)).weekday() < 5][:10]
    for day in weekdays:
        start = NOW.replace(hour=9) + timedelta(days=day)
        held = await bookings.book(ctx, coach.id, author.id, start)
        paid = PaymentEvent(
            id=f"evt_{held.id}",
            kind=PaymentKind.PAID,
            provider_type="checkout.session.completed",
            session_id=held.id,
            checkout_ref=held.checkout_ref,
            payment_ref=f"pi_{held.id}",
            amount=held.price_amount,
        )

        await asyncio.gather(cancellation.cancel(ctx, held.id, by=Actor.AUTHOR, author_id=author.id), handle(ctx, paid))
        await refunds.settle_refunds(ctx)

        final = await queries.session(ctx, held.id)
        assert final.status is SessionStatus.CANCELLED
        assert (final.amount_paid, final.amount_refunded, final.refund_due) == (held.price_amount,) * 2 + (0,)
