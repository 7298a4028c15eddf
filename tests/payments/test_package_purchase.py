"""Buying a package through Stripe Checkout end to end (real SDK and adapter against the stand-in
and localstripe, signed webhooks into the real HTTP app): the paid event grants the credits once,
and a booking then needs no checkout."""

from __future__ import annotations

from booking import credits, packages
from booking.model import SessionStatus


async def test_a_paid_package_checkout_grants_its_credits_once(payments_app):
    env, standin = payments_app, payments_app.standin
    package = await packages.add_package(env.ctx, env.coach_id, sessions=3, duration=60, price=27000, valid_days=30)

    checkout = await packages.buy(env.ctx, env.author_id, package.id)

    opened = standin.checkouts[checkout.ref]
    assert (opened["amount_total"], opened["currency"]) == (27000, "usd")
    assert opened["metadata"] == {"package_id": str(package.id), "author_id": str(env.author_id)}
    assert (await credits.statement(env.ctx, env.author_id)).balance == 0  # nothing until paid
    event = standin.pay(checkout.ref)
    answer = await env.deliver(event)
    assert answer.status_code == 200 and answer.json()["outcome"] == "confirmed"
    found = await credits.statement(env.ctx, env.author_id)
    assert found.balance == 3 and found.entries[0].payment_ref == standin.intent_of(checkout.ref)

    replay = dict(event, id=event["id"] + "_again")  # the same payment under another event id
    assert (await env.deliver(replay)).json()["outcome"] == "already recorded"
    assert (await credits.statement(env.ctx, env.author_id)).balance == 3

    session = await env.book()
    assert (session.status, session.checkout_ref) == (SessionStatus.SCHEDULED, None)
    assert (await credits.statement(env.ctx, env.author_id)).balance == 2
