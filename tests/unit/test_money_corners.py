"""Money is never lost or overpaid in the corners an operator's probing found (issue: delivery
and reliability, defects a-c): no refund ever exceeds what its payment still holds, and one bad
session never stops the refunds owed to the others."""

from __future__ import annotations

import pytest

from booking import bookings, cancellation, payments, queries, refunds
from booking.errors import PaymentError
from booking.model import Actor, SessionStatus
from booking.payments import PaymentEvent, PaymentKind
from booking.ports import CheckoutState
from tests.unit.test_use_cases import THU_10, WED_10, paid, world


def paid_event(session_id: int, checkout_ref: str, payment_ref: str, amount: int) -> PaymentEvent:
    return PaymentEvent(
        id=f"evt_{payment_ref}",
        kind=PaymentKind.PAID,
        provider_type="checkout.session.completed",
        session_id=session_id,
        checkout_ref=checkout_ref,
        payment_ref=payment_ref,
        amount=amount,
    )


def refunded_per_payment(w) -> dict[str, int]:
    found: dict[str, int] = {}
    for payment_ref, amount in w.payments.refunded_payments:
        found[payment_ref] = found.get(payment_ref, 0) + amount
    return found


async def test_a_hold_cancelled_after_paying_whose_webhook_was_lost_is_refunded_by_reconcile():
    # (a) The author paid, the webhook never came, the author dropped the hold from the bot.
    w = await world(payments=True)
    held = await bookings.book(w.ctx, w.coach.id, w.author.id, WED_10)
    w.payments.states[held.checkout_ref] = CheckoutState(held.checkout_ref, "complete", True, held.price_amount, "pi_9")
    await cancellation.cancel(w.ctx, held.id, by=Actor.AUTHOR, author_id=w.author.id)

    await payments.reconcile(w.ctx)

    after = await queries.session(w.ctx, held.id)
    assert after.status is SessionStatus.CANCELLED
    assert (after.amount_paid, after.amount_refunded, after.refund_due) == (held.price_amount, held.price_amount, 0)
    assert refunded_per_payment(w) == {"pi_9": held.price_amount}


async def test_a_session_paid_twice_then_cancelled_refunds_each_payment_once():
    # (b) Two checkouts of one session both completed (a remade link), then the coach cancels.
    w = await world(payments=True)
    held = await bookings.book(w.ctx, w.coach.id, w.author.id, WED_10)
    price = held.price_amount
    assert await payments.handle(w.ctx, paid_event(held.id, "cs_1", "pi_1", price)) is payments.Outcome.CONFIRMED
    assert await payments.handle(w.ctx, paid_event(held.id, "cs_2", "pi_2", price)) is payments.Outcome.REFUND_DUE
    await cancellation.cancel(w.ctx, held.id, by=Actor.COACH)

    after = await queries.session(w.ctx, held.id)
    assert (after.amount_paid, after.amount_refunded, after.refund_due) == (2 * price, 2 * price, 0)
    assert refunded_per_payment(w) == {"pi_1": price, "pi_2": price}


async def test_a_cancellation_counts_a_refund_already_owed():
    # (c) Support owes part of a refund while the provider is down; then the coach cancels.
    w = await world(payments=True)
    s = await paid(w)
    w.payments.fail_refund = True
    with pytest.raises(PaymentError):
        await refunds.refund(w.ctx, s.id, 5000, reason="late start")
    after = await cancellation.cancel(w.ctx, s.id, by=Actor.COACH)
    assert after.refund_due == s.price_amount  # the whole payment, not 5000 more than it

    w.payments.fail_refund = False
    w.clock.advance(minutes=3)  # past refunds.SETTLING
    assert await refunds.settle_refunds(w.ctx) == 1
    after = await queries.session(w.ctx, s.id)
    assert (after.amount_refunded, after.refund_due) == (s.price_amount, 0)
    assert sum(refunded_per_payment(w).values()) == s.price_amount


async def test_an_author_cancelling_a_session_paid_twice_gets_the_duplicate_back_and_the_policy_share():
    w = await world(payments=True)
    w.ctx = w.ctx.__class__(
        w.ctx.uow,
        w.ctx.clock,
        w.ctx.payments,
        w.ctx.video,
        w.ctx.settings.__class__(policy=w.ctx.policy.__class__(author_refund_percent=50)),
    )
    held = await bookings.book(w.ctx, w.coach.id, w.author.id, WED_10)
    price = held.price_amount
    w.payments.fail_refund = True  # the duplicate's refund is still owed when the author cancels
    await payments.handle(w.ctx, paid_event(held.id, "cs_1", "pi_1", price))
    await payments.handle(w.ctx, paid_event(held.id, "cs_2", "pi_2", price))
    after = await cancellation.cancel(w.ctx, held.id, by=Actor.AUTHOR, author_id=w.author.id)
    assert after.refund_due == price + price // 2


async def test_one_session_that_cannot_be_settled_never_stops_the_others(monkeypatch):
    w = await world(payments=True)
    first, second = await paid(w), await paid(w, THU_10)
    w.payments.fail_refund = True  # both refunds stay owed
    for s in (first, second):
        await cancellation.cancel(w.ctx, s.id, by=Actor.COACH)
    w.payments.fail_refund = False
    provider_refund = w.payments.refund

    async def breaks_on_the_first(session, payment_ref, amount, key):
        if session.id == first.id:
            raise RuntimeError("a bug or a broken row, not a provider refusal")
        return await provider_refund(session, payment_ref, amount, key)

    monkeypatch.setattr(w.payments, "refund", breaks_on_the_first)
    w.clock.advance(minutes=3)
    counts = await payments.reconcile(w.ctx)  # must not raise

    assert counts["refunds"] == 1
    assert (await queries.session(w.ctx, second.id)).refund_due == 0
    assert (await queries.session(w.ctx, first.id)).refund_due == first.amount_paid  # still owed, retried later


@pytest.mark.parametrize(
    "amount, currency",
    [(1, "usd"), (6000, "eur"), (12000, "usd")],
    ids=["a cent", "another currency", "twice the price"],
)
async def test_a_paid_event_that_does_not_match_the_price_confirms_nothing_and_is_refunded(amount, currency):
    # (h) Trusted by its session id alone, a checkout for 0.01 would have confirmed a 60.00 session.
    w = await world(payments=True)
    held = await bookings.book(w.ctx, w.coach.id, w.author.id, WED_10)
    event = PaymentEvent(
        id="evt_odd",
        kind=PaymentKind.PAID,
        provider_type="checkout.session.completed",
        session_id=held.id,
        checkout_ref="cs_other",
        payment_ref="pi_odd",
        amount=amount,
        currency=currency,
    )

    assert await payments.handle(w.ctx, event) is payments.Outcome.REFUND_DUE

    after = await queries.session(w.ctx, held.id)
    assert after.status is SessionStatus.HELD  # still waiting for the right payment
    assert refunded_per_payment(w) == {"pi_odd": amount}
    assert (after.amount_paid, after.amount_refunded, after.refund_due) == (amount, amount, 0)
