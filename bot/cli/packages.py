"""`coachbot package ...` (packages of sessions, granting one) and `coachbot credits AUTHOR` (an
author's balance, what expires when, and the ledger behind it)."""

from __future__ import annotations

from typing import Annotated, Any, Optional

import typer

from booking import catalog, credits, packages
from booking.credit_model import CreditEntry, Package
from bot.cli.common import JsonOpt, emit, human, local, run

app = typer.Typer(no_args_is_help=True, help="Packages of sessions paid in advance.")
credits_app = typer.Typer()


def package_json(p: Package) -> dict[str, Any]:
    return {
        "id": p.id,
        "coach_id": p.coach_id,
        "any_coach": p.any_coach,
        "sessions": p.sessions,
        "duration_minutes": p.duration_minutes,
        "price": p.price_amount,
        "currency": p.currency,
        "valid_days": p.valid_days,
        "is_active": p.is_active,
    }


def describe(p: Package) -> str:
    who = "any coach" if p.any_coach else f"coach {p.coach_id}"
    return (
        f"package {p.id}: {p.sessions} x {p.duration_minutes} min with {who}, "
        f"{p.price_amount / 100:.2f} {p.currency.upper()}, valid {p.valid_days} days"
    )


@app.command("add")
def package_add(
    sessions: Annotated[int, typer.Option("--sessions")],
    duration: Annotated[int, typer.Option("--duration", help="Minutes per session.")],
    price: Annotated[int, typer.Option("--price", help="Minor units for the whole package.")],
    valid_days: Annotated[int, typer.Option("--valid-days")],
    coach: Annotated[Optional[int], typer.Argument(help="The coach; leave out with --any-coach.")] = None,
    any_coach: Annotated[bool, typer.Option("--any-coach", help="Marketplace-wide: usable with any coach.")] = False,
    currency: Annotated[Optional[str], typer.Option("--currency", help="With --any-coach (default usd).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Define a package: a coach's own, or with --any-coach one usable with every coach."""
    if (coach is None) == (not any_coach):
        raise typer.BadParameter("give either COACH or --any-coach")
    found = run(
        lambda c: packages.add_package(
            c.ctx, coach, sessions=sessions, duration=duration, price=price, valid_days=valid_days, currency=currency
        )
    )
    if as_json:
        emit(package_json(found))
    else:
        typer.echo(describe(found))


@app.command("list")
def package_list(
    coach: Annotated[Optional[int], typer.Option("--coach", help="Only those usable with this coach.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Packages on offer."""
    found = run(lambda c: packages.packages(c.ctx, coach_id=coach))
    if as_json:
        emit([package_json(p) for p in found])
        return
    for p in found:
        typer.echo(describe(p))


@app.command("grant")
def package_grant(author: int, package: int, as_json: JsonOpt = False) -> None:
    """Give an author a package's credits (admin: no payment), valid from now."""

    async def work(c: Any) -> tuple[CreditEntry, str]:
        entry = await packages.grant(c.ctx, author, package)
        return entry, (await catalog.author(c.ctx, author)).timezone

    entry, tz = run(work)
    if as_json:
        emit(entry_json(entry, tz))
    else:
        typer.echo(
            f"author {author}: {entry.quantity} credits from package {package}, until {human(entry.expires_at, tz)}"
        )


@app.command("buy")
def package_buy(author: int, package: int, as_json: JsonOpt = False) -> None:
    """A Stripe Checkout link for the author to pay the package; the credits come when it is paid."""
    checkout = run(lambda c: packages.buy(c.ctx, author, package))
    if as_json:
        emit({"checkout_ref": checkout.ref, "checkout_url": checkout.url})
    else:
        typer.echo(f"pay: {checkout.url}")


def entry_json(e: CreditEntry, tz: str) -> dict[str, Any]:
    return {
        "id": e.id,
        "kind": e.kind.value,
        "quantity": e.quantity,
        "at": local(e.at, tz),
        "lot_id": e.lot_id if e.lot_id is not None else e.id,
        "package_id": e.package_id,
        "coach_id": e.coach_id,
        "duration_minutes": e.duration_minutes,
        "expires_at": local(e.expires_at, tz),
        "session_id": e.session_id,
    }


@credits_app.command("credits")
def credits_show(author: int, as_json: JsonOpt = False) -> None:
    """An author's credit balance, what expires when, and the ledger (in the author's zone)."""

    async def work(c: Any) -> tuple[credits.Statement, str]:
        found = await credits.statement(c.ctx, author)
        return found, (await catalog.author(c.ctx, author)).timezone

    found, tz = run(work)
    if as_json:
        emit(
            {
                "author_id": author,
                "balance": found.balance,
                "next_expiry": local(found.next_expiry, tz),
                "credits": [
                    {
                        "lot_id": lot.id,
                        "left": lot.left,
                        "coach_id": lot.grant.coach_id,
                        "any_coach": lot.grant.coach_id is None,
                        "duration_minutes": lot.grant.duration_minutes,
                        "expires_at": local(lot.expires_at, tz),
                    }
                    for lot in found.lots
                ],
                "ledger": [entry_json(e, tz) for e in found.entries],
            }
        )
        return
    typer.echo(f"author {author}: {found.balance} credits")
    for lot in found.lots:
        who = "any coach" if lot.grant.coach_id is None else f"coach {lot.grant.coach_id}"
        typer.echo(f"  {lot.left} x {lot.grant.duration_minutes} min with {who}, until {human(lot.expires_at, tz)}")
