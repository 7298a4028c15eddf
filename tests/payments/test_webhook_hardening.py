"""Hostile and broken bodies at POST /webhooks/stripe: never read past the limit, never a 500 for
an event Stripe would then retry for days."""

from __future__ import annotations

import json

from tests.payments.conftest import WEBHOOK_SECRET
from tests.payments.stripe_standin import sign

LIMIT = 1_000_000


class Body:
    """A request body sent in chunks, counting what the server pulled."""

    def __init__(self, total: int, chunk: int = 64 * 1024):
        self.total, self.chunk, self.pulled = total, chunk, 0

    async def __aiter__(self):
        while self.pulled < self.total:
            self.pulled += self.chunk
            yield b"a" * self.chunk


async def test_an_oversized_body_is_refused_without_reading_it_all(payments_app):
    env = payments_app
    streamed = Body(100 * LIMIT)
    answer = await env.client.post("/webhooks/stripe", content=streamed, headers={"Stripe-Signature": "t=1,v1=x"})
    assert answer.status_code == 413
    assert streamed.pulled <= LIMIT + streamed.chunk  # stopped at the limit, not after 100 MB

    declared = Body(100 * LIMIT)
    answer = await env.client.post(
        "/webhooks/stripe", content=declared, headers={"Content-Length": str(100 * LIMIT), "Stripe-Signature": "x"}
    )
    assert answer.status_code == 413 and declared.pulled == 0  # refused by its declared length


async def signed(env, event: dict):
    payload = json.dumps(event).encode()
    return await env.client.post(
        "/webhooks/stripe", content=payload, headers={"Stripe-Signature": sign(payload, WEBHOOK_SECRET)}
    )


async def test_a_signed_but_malformed_event_is_acknowledged_not_retried(payments_app):
    env = payments_app
    held = await env.book()
    for event in (
        {"id": "evt_no_data", "type": "checkout.session.completed"},
        {"id": "evt_no_object", "type": "checkout.session.completed", "data": {}},
        {
            "id": "evt_bad_amount",
            "type": "checkout.session.completed",
            "data": {
                "object": {
                    "id": held.checkout_ref,
                    "payment_status": "paid",
                    "amount_total": "lots",
                    "metadata": {"session_id": str(held.id)},
                }
            },
        },
        {"id": "evt_bad_refund", "type": "charge.refunded", "data": {"object": {"amount_refunded": [1]}}},
    ):
        answer = await signed(env, event)
        assert answer.status_code == 200, (event["id"], answer.text)
        assert answer.json()["outcome"] == "malformed", event["id"]
    assert (await env.kinds(held.id)) == []  # nothing happened to the session


async def test_a_body_that_trickles_in_is_dropped(payments_app, monkeypatch):
    import asyncio

    import bot.http

    monkeypatch.setattr(bot.http, "BODY_TIMEOUT_S", 0.2)

    async def trickle():
        for _ in range(50):
            await asyncio.sleep(0.05)
            yield b"{"

    answer = await payments_app.client.post("/webhooks/stripe", content=trickle(), headers={"Stripe-Signature": "x"})
    assert answer.status_code == 408
