"""`coachbot group add|list|roster|cancel`: group sessions with seats. Taking a seat is `coachbot
book COACH --author A --start ISO` at a group slot's start (bot/cli/sessions.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer

from booking import catalog, groups
from booking.group_model import GroupOffer, Roster
from booking.model import Session
from bot.cli.common import JsonOpt, emit, human, local, parse_instant, payment_state, run, session_json

if TYPE_CHECKING:
    from bot.container import Container

app = typer.Typer(no_args_is_help=True, help="Group sessions: one slot, several seats, a price per seat.")


def group_json(offer: GroupOffer, tz: str) -> dict[str, Any]:
    g = offer.slot
    return {
        "id": g.id,
        "coach_id": g.coach_id,
        "status": g.status.value,
        "start": local(g.starts_at, tz),
        "end": local(g.ends_at, tz),
        "duration_minutes": g.duration_minutes,
        "seats": g.seats,
        "seats_taken": offer.taken,
        "seats_left": offer.seats_left,
        "price": g.price_amount,
        "currency": g.currency,
        "meeting_url": g.meeting_url,
    }


def describe(offer: GroupOffer, tz: str) -> str:
    g = offer.slot
    return (
        f"group {g.id}: {g.status.value}, {human(g.starts_at, tz)} ({g.duration_minutes} min), "
        f"{offer.seats_left} of {g.seats} seats left, {g.price.format()} per seat"
    )


async def _zone(c: Container, coach_id: int) -> str:
    return (await catalog.coach(c.ctx, coach_id)).timezone


@app.command("add")
def group_add(
    coach: int,
    start: Annotated[str, typer.Option("--start", help="ISO-8601 with offset")],
    duration: Annotated[int, typer.Option("--duration", help="Minutes, 15 to 480")],
    seats: Annotated[int, typer.Option("--seats", help="Seats, 2 to 100")],
    price: Annotated[int, typer.Option("--price", help="Minor units per seat (0: free)")],
    as_json: JsonOpt = False,
) -> None:
    """Offer a group slot: its own availability, no weekly rule needed."""
    when = parse_instant("start", start)

    async def work(c: Container) -> tuple[GroupOffer, str]:
        slot = await groups.add_group(c.ctx, coach, start=when, duration=duration, seats=seats, price=price)
        return GroupOffer(slot, 0), await _zone(c, coach)

    offer, tz = run(work)
    if as_json:
        emit(group_json(offer, tz))
    else:
        typer.echo(describe(offer, tz))


@app.command("list")
def group_list(coach: int, as_json: JsonOpt = False) -> None:
    """A coach's upcoming group slots with the seats left."""

    async def work(c: Container) -> tuple[list[GroupOffer], str]:
        return await groups.upcoming(c.ctx, coach), await _zone(c, coach)

    offers, tz = run(work)
    if as_json:
        emit([group_json(o, tz) for o in offers])
        return
    if not offers:
        typer.echo("no upcoming group sessions")
    for offer in offers:
        typer.echo(describe(offer, tz))


def seat_json(seat: Session, name: str, tz: str) -> dict[str, Any]:
    return {"seat": seat.seat, "author_name": name, **session_json(seat, tz)}


@app.command("roster")
def group_roster(group: int, as_json: JsonOpt = False) -> None:
    """Who has a seat in a group slot (seats not cancelled; lapsed holds left out)."""

    async def work(c: Container) -> tuple[Roster, str]:
        found = await groups.roster(c.ctx, group)
        return found, await _zone(c, found.slot.coach_id)

    found, tz = run(work)
    if as_json:
        offer = GroupOffer(found.slot, len(found.seats))
        emit({**group_json(offer, tz), "roster": [seat_json(s, a.name, tz) for s, a in found.seats]})
        return
    typer.echo(describe(GroupOffer(found.slot, len(found.seats)), tz))
    for seat, author in found.seats:
        typer.echo(f"  seat {seat.seat}: {author.name} (author {author.id}), session {seat.id}, {payment_state(seat)}")


@app.command("cancel")
def group_cancel(
    group: int,
    reason: Annotated[Optional[str], typer.Option("--reason")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Call off a group slot: every seat is cancelled and every paid seat refunded in full."""

    async def work(c: Container) -> tuple[GroupOffer, list[Session], str]:
        slot, seats = await groups.cancel_group(c.ctx, group, reason=reason)
        return GroupOffer(slot, 0), seats, await _zone(c, slot.coach_id)

    offer, seats, tz = run(work)
    if as_json:
        emit({**group_json(offer, tz), "cancelled_seats": [session_json(s, tz) for s in seats]})
        return
    typer.echo(describe(offer, tz))
    for seat in seats:
        typer.echo(f"  seat {seat.seat}: session {seat.id} cancelled, refunded {seat.amount_refunded / 100:.2f}")
