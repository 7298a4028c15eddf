"""The payment commands of the installed `coachbot` script, end to end: the CLI talks to the
Stripe stand-in, webhooks go to the HTTP app built from the same settings and database."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from booking import catalog, queries
from integrations.clock import SystemClock
from tests.payments.conftest import (
    PRICE,
    PUBLIC_BASE_URL,
    SECRET_KEY,
    WEBHOOK_SECRET,
    open_coach,
    payment_settings,
    running_app,
)

COACHBOT = str(Path(sys.executable).parent / "coachbot")


@pytest.fixture
def cli(database_url, standin, tmp_path):
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "STRIPE_SECRET_KEY": SECRET_KEY,
        "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "STRIPE_API_BASE": standin.base_url,
        "PUBLIC_BASE_URL": PUBLIC_BASE_URL,
    }

    def run_json(*args):
        # cwd: no stray .env file of the developer's is read
        done = subprocess.run(
            [COACHBOT, *map(str, args), "--json"], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    return run_json


async def test_book_pay_refund_cancel_and_reconcile_through_the_cli(database_url, standin, cli):
    # The CLI runs on the real clock, so the app does too.
    async with running_app(payment_settings(database_url, standin), standin, clock=SystemClock()) as app:
        app.coach_id = coach_id = await open_coach(app.ctx)
        author = await catalog.add_author(app.ctx, name="Ann", timezone="Europe/Berlin")

        booked = cli("book", coach_id, "--author", author.id, "--start", app.slot(48).isoformat())
        assert booked["status"] == "held" and booked["payment"] == "pending" and booked["price"] == PRICE
        checkout_ref = next(iter(standin.checkouts))
        assert booked["checkout_url"] == standin.checkouts[checkout_ref]["url"]
        assert [k.rsplit("-", 1)[0] for k in standin.checkout_keys] == [f"checkout-{booked['id']}"]

        answer = await app.deliver(standin.pay(checkout_ref))
        assert answer.status_code == 200 and answer.json()["outcome"] == "confirmed"

        [listed] = cli("sessions")
        assert listed["id"] == booked["id"] and listed["status"] == "scheduled" and listed["payment"] == "paid"
        assert listed["amount_paid"] == PRICE and listed["meeting_url"] == app.video.created[0]

        partial = cli("refund", booked["id"], "--amount", 1000, "--reason", "late start")
        assert partial["amount_refunded"] == 1000 and partial["status"] == "scheduled"

        cancelled = cli("cancel", booked["id"], "--by", "coach")
        assert cancelled["status"] == "cancelled" and cancelled["amount_refunded"] == PRICE
        assert cancelled["refund_due"] == 0 and cancelled["payment"] == "refunded"
        intent_id = standin.intent_of(checkout_ref)
        assert sorted(r["amount"] for r in standin.refunds(intent_id)) == [1000, PRICE - 1000]
        assert standin.refund_keys == [
            f"refund-{booked['id']}-0-1000-0",
            f"refund-{booked['id']}-1000-{PRICE - 1000}-0",
        ]

        # Paid at Stripe, webhook lost: `payments reconcile` confirms it.
        lost = await app.book(72, author_id=author.id)
        standin.pay(lost.checkout_ref)
        assert cli("payments", "reconcile") == {"confirmed": 1, "released": 0, "refunds": 0, "unreachable": 0}
        confirmed = await queries.session(app.ctx, lost.id)
        assert confirmed.status.value == "scheduled" and confirmed.amount_paid == PRICE
