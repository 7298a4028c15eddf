"""`coachbot payments ...`: reconciliation with the payment provider."""

from __future__ import annotations

import typer

from booking import bookings, payments
from bot.cli.common import JsonOpt, emit, print_session, run, then

app = typer.Typer(no_args_is_help=True, help="Payments: reconciliation with the provider.")


@app.command("reconcile")
def payments_reconcile(as_json: JsonOpt = False) -> None:
    """Re-check holds against the provider: confirm paid ones, release expired ones, retry refunds owed."""
    counts = run(lambda c: payments.reconcile(c.ctx, include_open=True))
    emit(counts) if as_json else typer.echo(", ".join(f"{k}: {val}" for k, val in counts.items()))


@app.command("retry")
def payments_retry(session: int, as_json: JsonOpt = False) -> None:
    """Make the payment link again for a held session whose checkout could not be created."""
    result, tz = run(lambda c: then(c, bookings.retry_checkout(c.ctx, session)))
    print_session(result, tz, as_json)
