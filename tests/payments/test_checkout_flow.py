"""Paid bookings end to end: the real Stripe SDK and adapter against the stand-in (Checkout) and
localstripe (PaymentIntents, refunds), signed webhooks into the real HTTP app, on SQLite and
PostgreSQL."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

import pytest

from booking import bookings, cancellation, holds, lifecycle, payments, queries, refunds
from booking.errors import PolicyViolation
from booking.model import Actor, SessionStatus
from integrations.stripe_payments import checkout_expires_at
from tests.payments.conftest import PRICE, PUBLIC_BASE_URL, WEBHOOK_SECRET, payment_settings, running_app
from tests.payments.stripe_standin import make_event, send, sign

HELD, SCHEDULED, CANCELLED = SessionStatus.HELD, SessionStatus.SCHEDULED, SessionStatus.CANCELLED

# A confirmed session is told so and gets its reminders and "starting now".
CONFIRMED = ["session_confirmed", "reminder", "reminder", "starting_now"]


def snapshot(session) -> dict:
    return {k: v for k, v in vars(session).items() if not k.startswith("_")}


# ---- checkout and the webhook ------------------------------------------------------------------


async def test_booking_holds_the_slot_and_opens_a_checkout(payments_app):
    env, standin = payments_app, payments_app.standin
    held = await env.book()

    assert held.status is HELD and held.hold_expires_at == env.clock.now() + timedelta(minutes=30)
    checkout = standin.checkouts[held.checkout_ref]
    assert held.checkout_url == checkout["url"] and held.checkout_url.startswith(standin.base_url)
    assert [k.rsplit("-", 1)[0] for k in standin.checkout_keys] == [f"checkout-{held.id}"]
    assert checkout["amount_total"] == PRICE and checkout["currency"] == "usd" and checkout["status"] == "open"
    assert checkout["metadata"] == {"session_id": str(held.id)} and checkout["client_reference_id"] == str(held.id)
    assert checkout["customer_email"] == "ann@example.com"
    assert checkout["success_url"] == f"{PUBLIC_BASE_URL}/payments/success?session={held.id}"
    assert checkout["cancel_url"] == f"{PUBLIC_BASE_URL}/payments/cancelled?session={held.id}"
    # Never before the hold ends, and inside Stripe's 30 min .. 24 h window.
    assert held.hold_expires_at.timestamp() <= checkout["expires_at"] <= time.time() + 24 * 3600
    intent = standin.payment_intent(standin.intent_of(held.checkout_ref))
    assert (intent["amount"], intent["currency"], intent["status"]) == (PRICE, "usd", "requires_payment_method")
    assert intent["metadata"] == {"session_id": str(held.id)}
    assert await env.kinds(held.id) == []  # nothing to announce until it is paid


async def test_paid_checkout_confirms_the_session(payments_app):
    env, standin = payments_app, payments_app.standin
    held = await env.book()
    event = standin.pay(held.checkout_ref)

    answer = await env.deliver(event)

    assert answer.status_code == 200 and answer.json() == {"received": True, "outcome": "confirmed"}
    session = await queries.session(env.ctx, held.id)
    intent_id = standin.intent_of(held.checkout_ref)
    assert session.status is SCHEDULED and session.hold_expires_at is None
    assert session.amount_paid == PRICE and session.amount_refunded == 0 and session.refund_due == 0
    assert session.payment_ref == intent_id and standin.payment_intent(intent_id)["status"] == "succeeded"
    assert session.meeting_url == env.video.created[0]
    assert await env.kinds(held.id) == CONFIRMED


async def test_the_same_event_twice_changes_nothing_the_second_time(payments_app):
    env, standin = payments_app, payments_app.standin
    held = await env.book()
    event = standin.pay(held.checkout_ref)
    assert (await env.deliver(event)).json()["outcome"] == "confirmed"
    before = snapshot(await queries.session(env.ctx, held.id))

    again = await env.deliver(event)

    assert again.status_code == 200 and again.json()["outcome"] == "duplicate"
    assert snapshot(await queries.session(env.ctx, held.id)) == before
    assert await env.kinds(held.id) == CONFIRMED and len(env.video.created) == 1


async def test_a_checkout_expired_at_stripe_releases_the_hold(payments_app):
    env, standin = payments_app, payments_app.standin
    held = await env.book()

    answer = await env.deliver(standin.expire(held.checkout_ref))

    assert answer.status_code == 200 and answer.json()["outcome"] == "released"
    session = await queries.session(env.ctx, held.id)
    assert session.status is CANCELLED and session.cancelled_by is Actor.SYSTEM and session.amount_paid == 0
    assert await env.kinds(held.id) == ["hold_expired"]
    again = await env.book(author_id=env.other_author_id)  # the slot is free again
    assert again.starts_at == held.starts_at and again.status is HELD


async def test_events_that_are_not_ours_are_acknowledged_and_ignored(payments_app):
    env, standin = payments_app, payments_app.standin
    held = await env.book()
    foreign = standin.event(
        held.checkout_ref,
        "checkout.session.completed",
        id="cs_test_elsewhere",
        metadata={"session_id": "999"},
        client_reference_id=None,
        status="complete",
        payment_status="paid",
    )
    unrelated = standin.event(held.checkout_ref, "customer.created")

    for event in (foreign, unrelated):
        answer = await env.deliver(event)
        assert answer.status_code == 200 and answer.json()["outcome"] == "ignored"
    assert (await queries.session(env.ctx, held.id)).status is HELD


async def test_completed_arriving_after_expired_still_confirms(payments_app):
    """Deliveries are not ordered: an `expired` snapshot may be processed before `completed`.
    The money was taken, so the session ends up paid and scheduled (the slot is still free)."""
    env, standin = payments_app, payments_app.standin
    held = await env.book()
    stale_expired = standin.event(held.checkout_ref, "checkout.session.expired", status="expired", url=None)
    completed = standin.pay(held.checkout_ref)

    assert (await env.deliver(stale_expired)).json()["outcome"] == "released"
    assert (await queries.session(env.ctx, held.id)).status is CANCELLED
    assert (await env.deliver(completed)).json()["outcome"] == "confirmed"

    session = await queries.session(env.ctx, held.id)
    assert session.status is SCHEDULED and session.amount_paid == PRICE and session.refund_due == 0
    assert session.cancelled_by is None and session.meeting_url
    assert standin.refunds(session.payment_ref) == []
    assert await env.kinds(held.id) == ["hold_expired", *CONFIRMED]


async def test_expired_arriving_after_completed_is_ignored(payments_app):
    env, standin = payments_app, payments_app.standin
    held = await env.book()
    stale_expired = standin.event(held.checkout_ref, "checkout.session.expired", status="expired", url=None)
    assert (await env.deliver(standin.pay(held.checkout_ref))).json()["outcome"] == "confirmed"
    before = snapshot(await queries.session(env.ctx, held.id))

    answer = await env.deliver(stale_expired)

    assert answer.status_code == 200 and answer.json()["outcome"] == "ignored"
    assert snapshot(await queries.session(env.ctx, held.id)) == before


def _forged(payload: bytes) -> str:
    return sign(payload, WEBHOOK_SECRET).split(",v1=")[0] + ",v1=" + "0" * 64


@pytest.mark.parametrize(
    "how",
    ["forged signature", "wrong secret", "missing header", "stale timestamp", "body changed after signing", "not json"],
)
async def test_webhooks_that_are_not_genuine_are_refused(payments_app, how):
    env, standin = payments_app, payments_app.standin
    held = await env.book()
    event = standin.pay(held.checkout_ref)
    payload = json.dumps(event, indent=2).encode()
    signature = {
        "forged signature": _forged(payload),
        "wrong secret": sign(payload, "whsec_someone_else"),
        "missing header": None,
        "stale timestamp": sign(payload, WEBHOOK_SECRET, int(time.time()) - 301),
        "body changed after signing": sign(payload.replace(b'"paid"', b'"unpaid"'), WEBHOOK_SECRET),
        "not json": sign(b"not json", WEBHOOK_SECRET),
    }[how]
    if how == "not json":
        payload = b"not json"
    headers = {"Content-Type": "application/json"}
    if signature is not None:
        headers["Stripe-Signature"] = signature

    answer = await env.client.post("/webhooks/stripe", content=payload, headers=headers)

    assert answer.status_code == 400 and "error" in answer.json()
    session = await queries.session(env.ctx, held.id)
    assert session.status is HELD and session.amount_paid == 0 and await env.kinds(held.id) == []
    # The event id was not recorded either: the genuine delivery still works.
    assert (await env.deliver(event)).json()["outcome"] == "confirmed"


async def test_a_timestamp_just_inside_the_tolerance_is_accepted(payments_app):
    env, standin = payments_app, payments_app.standin
    held = await env.book()
    answer = await env.deliver(standin.pay(held.checkout_ref), timestamp=int(time.time()) - 240)
    assert answer.status_code == 200 and answer.json()["outcome"] == "confirmed"


@pytest.mark.parametrize(
    "off", [{"stripe_webhook_secret": None}, {"stripe_secret_key": None, "stripe_webhook_secret": None}]
)
async def test_the_webhook_is_404_when_payments_are_off(database_url, standin, off):
    async with running_app(payment_settings(database_url, standin, **off), standin) as env:
        event = {"id": "evt_1", "type": "checkout.session.completed", "data": {"object": {}}}
        answer = await send(env.client, event, WEBHOOK_SECRET)
    assert answer.status_code == 404


async def test_the_pages_checkout_returns_to(payments_app):
    pages = (("/payments/success?session=1", "Thank you!"), ("/payments/cancelled?session=1", "Payment cancelled"))
    for path, title in pages:
        page = await payments_app.client.get(path)
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html") and title in page.text


@pytest.mark.parametrize(
    "hold_in, expected_in",
    [
        (timedelta(minutes=30), 31 * 60),  # the default hold: just inside Stripe's 30-minute minimum
        (timedelta(minutes=5), 31 * 60),  # a checkout retried late in the hold
        (timedelta(minutes=-5), 31 * 60),  # ... or after it
        (timedelta(hours=3), 3 * 3600),  # a longer hold is kept as it is
        (timedelta(hours=30), 24 * 3600 - 60),  # Stripe's 24-hour maximum
    ],
)
def test_checkout_expiry_stays_inside_stripes_window(hold_in, expected_in):
    now = 1_900_000_000
    hold_ends = datetime.fromtimestamp(now, UTC) + hold_in
    assert checkout_expires_at(hold_ends, now=now) == now + expected_in


# ---- payment after the hold was released ------------------------------------------------------


async def test_payment_after_the_hold_was_released_confirms_when_the_slot_is_free(payments_app):
    env, standin = payments_app, payments_app.standin
    held = await env.book()
    env.clock.advance(minutes=31)
    assert await holds.expire_holds(env.ctx) == 1
    assert (await queries.session(env.ctx, held.id)).status is CANCELLED
    # The checkout outlives the hold at Stripe, so the author can still pay.
    assert standin.checkouts[held.checkout_ref]["status"] == "open"

    answer = await env.deliver(standin.pay(held.checkout_ref))

    assert answer.json()["outcome"] == "confirmed"
    session = await queries.session(env.ctx, held.id)
    assert session.status is SCHEDULED and session.amount_paid == PRICE and session.meeting_url
    assert session.cancelled_by is None and session.cancel_reason is None
    assert standin.refunds(session.payment_ref) == [] and standin.refund_keys == []
    assert await env.kinds(held.id) == ["hold_expired", *CONFIRMED]


async def test_payment_after_the_slot_was_taken_is_refunded_in_full(payments_app):
    env, standin = payments_app, payments_app.standin
    first = await env.book()
    env.clock.advance(minutes=31)
    # Booking the same slot releases the expired hold and takes the slot.
    second = await bookings.book(env.ctx, env.coach_id, env.other_author_id, first.starts_at)
    assert second.status is HELD and second.starts_at == first.starts_at

    answer = await env.deliver(standin.pay(first.checkout_ref))

    assert answer.status_code == 200 and answer.json()["outcome"] == "refund_due"
    session = await queries.session(env.ctx, first.id)
    intent_id = standin.intent_of(first.checkout_ref)
    assert session.status is CANCELLED and session.payment_ref == intent_id
    assert session.amount_paid == PRICE and session.amount_refunded == PRICE and session.refund_due == 0
    refunds = standin.refunds(intent_id)
    assert [(r["amount"], r["status"]) for r in refunds] == [(PRICE, "succeeded")]
    assert standin.refund_keys == [f"refund-{first.id}-0-{PRICE}-0"]
    messages = dict(await env.outbox(first.id))
    assert messages["payment_refunded"] == {"amount": PRICE, "reason": "slot_taken"}
    assert "refund_sent" not in messages  # one message: the refund is the payment_refunded one
    assert (await queries.session(env.ctx, second.id)).status is HELD


async def test_payment_for_a_hold_cancelled_meanwhile_is_refunded_even_when_stripe_is_down_at_first(payments_app):
    env, standin = payments_app, payments_app.standin
    held = await env.book()
    event = standin.pay(held.checkout_ref)  # the author pays while the coach cancels the hold:
    cancelled = await cancellation.cancel(env.ctx, held.id, by=Actor.COACH)  # closing the checkout fails quietly
    assert cancelled.status is CANCELLED and cancelled.refund_due == 0
    standin.outage = "down"

    answer = await env.deliver(event)

    # Acknowledged: the payment is recorded and the refund owed; a redelivery could not help.
    assert answer.status_code == 200 and answer.json()["outcome"] == "refund_due"
    owed = await queries.session(env.ctx, held.id)
    assert owed.amount_paid == PRICE and owed.refund_due == PRICE and owed.amount_refunded == 0
    assert standin.refunds(owed.payment_ref) == []

    standin.outage = None
    env.clock.advance(minutes=3)  # past refunds.SETTLING: the scheduler's turn
    counts = await payments.reconcile(env.ctx)

    assert counts["refunds"] == 1
    settled = await queries.session(env.ctx, held.id)
    assert settled.refund_due == 0 and settled.amount_refunded == PRICE and settled.status is CANCELLED
    assert [r["amount"] for r in standin.refunds(owed.payment_ref)] == [PRICE]
    assert standin.refund_keys == [f"refund-{held.id}-0-{PRICE}-0"]


# ---- cancellations and refunds ------------------------------------------------------------------


async def test_author_cancelling_a_day_ahead_gets_everything_back(payments_app):
    env, standin = payments_app, payments_app.standin
    session, intent_id = await env.book_and_pay(hours=48)

    cancelled = await cancellation.cancel(env.ctx, session.id, by=Actor.AUTHOR, author_id=env.author_id)

    assert cancelled.status is CANCELLED and cancelled.amount_refunded == PRICE and cancelled.refund_due == 0
    assert [r["amount"] for r in standin.refunds(intent_id)] == [PRICE]
    assert standin.refund_keys == [f"refund-{session.id}-0-{PRICE}-0"]
    assert env.video.deleted == [session.meeting_url]


async def test_author_cancelling_late_is_refused_and_nothing_is_refunded(payments_app):
    env, standin = payments_app, payments_app.standin
    session, intent_id = await env.book_and_pay(hours=5)

    with pytest.raises(PolicyViolation):
        await cancellation.cancel(env.ctx, session.id, by=Actor.AUTHOR, author_id=env.author_id)

    after = await queries.session(env.ctx, session.id)
    assert after.status is SCHEDULED and after.amount_refunded == 0 and after.refund_due == 0
    assert standin.refunds(intent_id) == [] and standin.refund_keys == []


async def test_coach_cancelling_late_refunds_in_full(payments_app):
    env, standin = payments_app, payments_app.standin
    session, intent_id = await env.book_and_pay(hours=5)

    cancelled = await cancellation.cancel(env.ctx, session.id, by=Actor.COACH, reason="ill")

    assert cancelled.status is CANCELLED and cancelled.amount_refunded == PRICE
    assert [r["amount"] for r in standin.refunds(intent_id)] == [PRICE]
    assert "session_cancelled" in await env.kinds(session.id)


@pytest.mark.parametrize("who, refunded", [(Actor.COACH, PRICE), (Actor.AUTHOR, 0)])
async def test_no_show_refunds_per_policy(payments_app, who, refunded):
    env, standin = payments_app, payments_app.standin
    session, intent_id = await env.book_and_pay(hours=2)
    env.clock.set(session.starts_at + timedelta(minutes=15))

    result = await lifecycle.no_show(env.ctx, session.id, who=who)

    assert result.status is SessionStatus.NO_SHOW
    assert result.amount_refunded == refunded and result.refund_due == 0
    assert [r["amount"] for r in standin.refunds(intent_id)] == ([refunded] if refunded else [])
    assert len(standin.refund_keys) == (1 if refunded else 0)


async def test_partial_refunds_are_exact_and_each_has_its_own_idempotency_key(payments_app):
    env, standin = payments_app, payments_app.standin
    session, intent_id = await env.book_and_pay()

    first = await refunds.refund(env.ctx, session.id, 1234, reason="late start")
    assert first.amount_refunded == 1234 and first.refund_due == 0 and first.status is SCHEDULED
    rest = await refunds.refund(env.ctx, session.id, reason="goodwill")

    assert rest.amount_refunded == PRICE and rest.refund_due == 0
    assert sorted(r["amount"] for r in standin.refunds(intent_id)) == sorted([1234, PRICE - 1234])
    assert standin.refund_keys == [f"refund-{session.id}-0-1234-0", f"refund-{session.id}-1234-{PRICE - 1234}-0"]
    assert standin.payment_intent(intent_id)["latest_charge"]["amount_refunded"] == PRICE


async def test_a_refund_made_in_the_dashboard_is_recorded_from_its_webhook(payments_app):
    env, standin = payments_app, payments_app.standin
    session, intent_id = await env.book_and_pay()
    standin.dashboard_refund(intent_id, 1500)

    answer = await env.deliver(standin.charge_refunded_event(intent_id))

    assert answer.json()["outcome"] == "refund recorded"
    after = await queries.session(env.ctx, session.id)
    assert after.amount_refunded == 1500 and after.refund_due == 0 and after.status is SCHEDULED
    rest = await refunds.refund(env.ctx, session.id, reason="the rest")
    assert rest.amount_refunded == PRICE
    assert sorted(r["amount"] for r in standin.refunds(intent_id)) == [1500, PRICE - 1500]


async def test_the_refund_webhook_for_our_own_refund_changes_nothing(payments_app):
    env, standin = payments_app, payments_app.standin
    session, intent_id = await env.book_and_pay()
    await refunds.refund(env.ctx, session.id, 1234, reason="late start")
    before = snapshot(await queries.session(env.ctx, session.id))

    answer = await env.deliver(standin.charge_refunded_event(intent_id))

    assert answer.json()["outcome"] == "already recorded"
    assert snapshot(await queries.session(env.ctx, session.id)) == before


async def test_a_refund_owed_that_support_pays_by_hand_is_not_paid_twice(payments_app):
    env, standin = payments_app, payments_app.standin
    session, intent_id = await env.book_and_pay()
    standin.outage = "error"
    owed = await cancellation.cancel(env.ctx, session.id, by=Actor.COACH)
    assert owed.refund_due == PRICE
    standin.outage = None
    standin.dashboard_refund(intent_id, PRICE)  # support did not wait for the retry

    assert (await env.deliver(standin.charge_refunded_event(intent_id))).json()["outcome"] == "refund recorded"
    assert await refunds.settle_refunds(env.ctx) == 0

    after = await queries.session(env.ctx, session.id)
    assert after.amount_refunded == PRICE and after.refund_due == 0
    assert [r["amount"] for r in standin.refunds(intent_id)] == [PRICE] and standin.refund_keys == []


# ---- Stripe unreachable ------------------------------------------------------------------------


async def test_booking_while_stripe_is_unreachable_keeps_the_hold_and_the_link_can_be_made_later(payments_app):
    env, standin = payments_app, payments_app.standin
    standin.outage = "down"

    held = await env.book()  # no exception: the slot is secured, only the link is missing

    assert held.status is HELD and held.checkout_url is None and held.checkout_ref is None
    assert (await queries.session(env.ctx, held.id)).checkout_url is None and standin.checkouts == {}

    standin.outage = None
    env.clock.advance(minutes=10)  # the hold now ends in 20 minutes; Stripe needs 30
    retried = await bookings.retry_checkout(env.ctx, held.id)

    assert retried.status is HELD and retried.checkout_url == standin.checkouts[retried.checkout_ref]["url"]
    assert [k.rsplit("-", 1)[0] for k in standin.checkout_keys] == [f"checkout-{held.id}"]
    assert (await env.deliver(standin.pay(retried.checkout_ref))).json()["outcome"] == "confirmed"


async def test_refund_while_stripe_is_unreachable_is_owed_and_paid_later(payments_app):
    env, standin = payments_app, payments_app.standin
    session, intent_id = await env.book_and_pay()
    standin.outage = "error"

    cancelled = await cancellation.cancel(env.ctx, session.id, by=Actor.COACH)

    assert cancelled.status is CANCELLED and cancelled.refund_due == PRICE and cancelled.amount_refunded == 0
    assert (await queries.session(env.ctx, session.id)).refund_due == PRICE
    assert standin.refunds(intent_id) == []

    standin.outage = None
    assert await refunds.settle_refunds(env.ctx) == 0  # just granted: the cancellation's own to settle
    env.clock.advance(minutes=3)
    assert await refunds.settle_refunds(env.ctx) == 1

    settled = await queries.session(env.ctx, session.id)
    assert settled.refund_due == 0 and settled.amount_refunded == PRICE and settled.status is CANCELLED
    assert [r["amount"] for r in standin.refunds(intent_id)] == [PRICE]
    assert standin.refund_keys == [f"refund-{session.id}-0-{PRICE}-0"]
    assert await refunds.settle_refunds(env.ctx) == 0


# ---- reconciliation ----------------------------------------------------------------------------


async def test_reconcile_confirms_a_paid_hold_whose_webhook_was_lost_and_releases_an_unpaid_one(payments_app):
    env, standin = payments_app, payments_app.standin
    paid = await env.book(hours=48)
    unpaid = await env.book(hours=72)
    lost_event = standin.pay(paid.checkout_ref)  # paid at Stripe; the webhook never arrives
    env.clock.advance(minutes=31)

    counts = await payments.reconcile(env.ctx)

    assert counts == {"confirmed": 1, "released": 1, "refunds": 0, "unreachable": 0}
    confirmed = await queries.session(env.ctx, paid.id)
    assert confirmed.status is SCHEDULED and confirmed.amount_paid == PRICE and confirmed.meeting_url
    assert confirmed.payment_ref == standin.intent_of(paid.checkout_ref)
    released = await queries.session(env.ctx, unpaid.id)
    assert released.status is CANCELLED and released.cancelled_by is Actor.SYSTEM
    assert standin.checkouts[unpaid.checkout_ref]["status"] == "expired"
    assert len(standin.calls("POST", f"/v1/checkout/sessions/{unpaid.checkout_ref}/expire")) == 1
    assert await env.kinds(paid.id) == CONFIRMED and await env.kinds(unpaid.id) == ["hold_expired"]

    # The webhook turns up after all: recognised, nothing changes.
    before = snapshot(confirmed)
    assert (await env.deliver(lost_event)).json()["outcome"] == "already recorded"
    assert snapshot(await queries.session(env.ctx, paid.id)) == before


async def test_a_remade_payment_link_works_and_paying_the_first_link_still_counts(payments_app):
    env, standin = payments_app, payments_app.standin
    held = await env.book()
    first_ref = held.checkout_ref
    async with env.container.db.uow() as uow:  # as if the first answer had been lost on the way
        row = await uow.sessions.get(held.id)
        row.checkout_url = row.checkout_ref = None
        await uow.commit()
    env.clock.advance(seconds=2)  # the checkout's expires_at follows the clock, so this is a new request

    remade = await bookings.retry_checkout(env.ctx, held.id)
    assert remade.checkout_url and remade.checkout_ref not in (None, first_ref)

    answer = await env.deliver(standin.pay(first_ref))
    assert answer.status_code == 200 and answer.json()["outcome"] == "confirmed"
    assert (await queries.session(env.ctx, held.id)).status is SessionStatus.SCHEDULED


async def test_reconcile_refunds_a_payment_on_a_hold_another_booking_released(payments_app):
    env, standin = payments_app, payments_app.standin
    first = await env.book()
    env.clock.advance(minutes=31)
    # Another author books the same time: the lapsed hold is released on the spot, without Stripe.
    await bookings.book(env.ctx, env.coach_id, env.other_author_id, first.starts_at)
    standin.pay(first.checkout_ref)  # paid just before, and the webhook never arrives

    await payments.reconcile(env.ctx)

    session = await queries.session(env.ctx, first.id)
    assert (session.amount_paid, session.amount_refunded, session.refund_due) == (PRICE, PRICE, 0)
    assert [r["amount"] for r in standin.refunds(session.payment_ref)] == [PRICE]


async def test_reconcile_closes_the_open_checkout_of_a_released_hold_once(payments_app):
    env, standin = payments_app, payments_app.standin
    first = await env.book()
    env.clock.advance(minutes=31)
    await bookings.book(env.ctx, env.coach_id, env.other_author_id, first.starts_at)

    await payments.reconcile(env.ctx)
    assert standin.checkouts[first.checkout_ref]["status"] == "expired"
    assert (await queries.session(env.ctx, first.id)).checkout_url is None  # no longer watched
    await payments.reconcile(env.ctx)  # nothing more to do, and no error


async def test_a_refund_that_fails_later_at_stripe_is_owed_again_and_retried(payments_app):
    env, standin = payments_app, payments_app.standin
    session, intent = await env.book_and_pay()
    await cancellation.cancel(env.ctx, session.id, by=Actor.COACH)
    [refund] = standin.refunds(intent)
    assert (await queries.session(env.ctx, session.id)).amount_refunded == PRICE

    failed = make_event("refund.failed", {**refund, "status": "failed", "failure_reason": "expired_or_canceled_card"})
    answer = await env.deliver(failed)

    assert answer.status_code == 200 and answer.json()["outcome"] == "refund_due"
    again = await queries.session(env.ctx, session.id)
    # Owed again; the retry went out at once under a new key. (localstripe still counts the first
    # refund, so it refuses the retry here and the amount stays owed for the next attempt.)
    assert (again.amount_refunded, again.refund_due) == (0, PRICE)
    assert len(set(standin.refund_keys)) == 2
    assert (await env.deliver(failed)).json()["outcome"] == "duplicate"
    assert (await queries.session(env.ctx, session.id)).refund_due == PRICE  # a replay changes nothing
    # The one refusal is the simulated state (localstripe cannot fail a refund), nothing else.
    assert [v for v in standin.violations if "greater than unrefunded" in v] == standin.violations != []
    standin.violations.clear()
