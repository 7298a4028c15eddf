"""Seats of a group session through the real payment path: the Stripe SDK and adapter against the
stand-in and localstripe, signed webhooks into the real HTTP app. Each seat has its own checkout
and payment; a seat cancelled by its author is refunded by the policy on its own; a group called
off by the coach refunds every paid seat in full; the room is shared and goes with the group."""

from __future__ import annotations

from booking import cancellation, groups, queries
from booking.model import Actor, SessionStatus
from integrations.stripe_payments import product_name
from tests.payments.conftest import PRICE

SEAT_PRICE = 2500


async def paid_seats(env, slot, authors):
    seats = []
    for author in authors:
        held = await groups.take_seat(env.ctx, slot.id, author)
        assert held.status is SessionStatus.HELD and held.checkout_url
        answer = await env.deliver(env.standin.pay(held.checkout_ref))
        assert answer.status_code == 200 and answer.json()["outcome"] == "confirmed", answer.text
        seats.append(await queries.session(env.ctx, held.id))
    return seats


async def test_each_seat_is_paid_and_refunded_on_its_own_and_the_room_is_shared(payments_app):
    env, standin = payments_app, payments_app.standin
    slot = await groups.add_group(env.ctx, env.coach_id, start=env.slot(72), duration=90, seats=3, price=SEAT_PRICE)
    first, second = await paid_seats(env, slot, [env.author_id, env.other_author_id])
    assert standin.checkouts[first.checkout_ref]["amount_total"] == SEAT_PRICE != PRICE
    assert first.payment_ref != second.payment_ref
    assert first.meeting_url == second.meeting_url == env.video.created[0] and len(env.video.created) == 1

    cancelled = await cancellation.cancel(env.ctx, first.id, by=Actor.AUTHOR, author_id=env.author_id)

    assert cancelled.status is SessionStatus.CANCELLED and cancelled.amount_refunded == SEAT_PRICE
    assert [r["amount"] for r in standin.refunds(first.payment_ref)] == [SEAT_PRICE]
    assert standin.refunds(second.payment_ref) == []
    kept = await queries.session(env.ctx, second.id)
    assert (kept.status, kept.amount_paid, kept.amount_refunded) == (SessionStatus.SCHEDULED, SEAT_PRICE, 0)
    assert env.video.deleted == []


async def test_a_group_called_off_refunds_every_paid_seat_in_full(payments_app):
    env, standin = payments_app, payments_app.standin
    slot = await groups.add_group(env.ctx, env.coach_id, start=env.slot(5), duration=60, seats=4, price=SEAT_PRICE)
    seats = await paid_seats(env, slot, [env.author_id, env.other_author_id])

    _slot, done = await groups.cancel_group(env.ctx, slot.id, reason="ill")

    assert {(s.status, s.amount_refunded, s.refund_due) for s in done} == {(SessionStatus.CANCELLED, SEAT_PRICE, 0)}
    for seat in seats:
        assert [r["amount"] for r in standin.refunds(seat.payment_ref)] == [SEAT_PRICE]
    assert env.video.deleted == [seats[0].meeting_url]


def test_the_checkout_names_a_seat_as_a_seat():
    from booking.model import Coach, Session

    coach = Coach(name="Maya", timezone="UTC", rate=0)
    seat = Session(1, 1, None, None, None, None, 90, SessionStatus.HELD, 2500, "usd", group_slot_id=3, seat=1)  # type: ignore[arg-type]
    assert product_name(seat, coach) == "One seat in a 90-minute group coaching session with Maya"
