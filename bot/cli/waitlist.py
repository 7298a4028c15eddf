"""`coachbot waitlist ...`: join a coach's waiting list for a full slot, day or week, list it,
leave it, and run an offer round now (the scheduler runs one every tick)."""

from __future__ import annotations

from typing import Annotated, Any, Optional
from zoneinfo import ZoneInfo

import typer

from booking import catalog, waitlist, waitlist_offers
from booking.errors import InvalidInput
from booking.waitlist_model import WaitlistEntry, WantKind
from bot.cli.common import JsonOpt, emit, human, local, parse_date, parse_instant, run

app = typer.Typer(no_args_is_help=True, help="Waiting lists for full slots, days and weeks.")


def entry_json(e: WaitlistEntry, position: int | None = None) -> dict[str, Any]:
    """Times in the zone the entry was read in (the author's)."""
    found = {
        "id": e.id,
        "coach_id": e.coach_id,
        "author_id": e.author_id,
        "kind": e.kind.value,
        "starts_at": local(e.starts_at, e.zone),
        "ends_at": local(e.ends_at, e.zone),
        "duration_minutes": e.duration_minutes,
        "zone": e.zone,
        "status": e.status.value,
        "session_id": e.session_id,
        "offered_at": local(e.offered_at, e.zone),
    }
    if position is not None:
        found["position"] = position
    return found


def want(e: WaitlistEntry) -> str:
    if e.kind is WantKind.SLOT:
        return f"the slot {human(e.starts_at, e.zone)}"
    first = f"{e.starts_at.astimezone(ZoneInfo(e.zone)):%a %Y-%m-%d} ({e.zone})"
    return f"the week from {first}" if e.kind is WantKind.WEEK else first


def describe(e: WaitlistEntry, position: int) -> str:
    offer = f", offered as session {e.session_id}" if e.session_id and e.is_open else ""
    return (
        f"entry {e.id}: author {e.author_id} is number {position} for {want(e)}, "
        f"{e.duration_minutes} min, {e.status.value}{offer}"
    )


@app.command("join")
def waitlist_join(
    coach: int,
    author: Annotated[int, typer.Option("--author")],
    day: Annotated[Optional[str], typer.Option("--day", help="A full day (YYYY-MM-DD, the author's)")] = None,
    start: Annotated[Optional[str], typer.Option("--start", help="A taken slot (ISO-8601 with offset)")] = None,
    week: Annotated[
        Optional[str], typer.Option("--week", help="Any time in the week (Mon-Sun) of this date (YYYY-MM-DD)")
    ] = None,
    duration: Annotated[Optional[int], typer.Option("--duration", help="Minutes (default: the coach's first)")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Put an author on a coach's waiting list for a full slot, day or week. Joining again
    changes nothing; a window with a free slot is refused (book it instead)."""
    given = [name for name, value in (("day", day), ("start", start), ("week", week)) if value is not None]
    if len(given) != 1:
        raise InvalidInput("day", "give exactly one of --day, --start or --week")
    if start is not None:
        kind, when, on = WantKind.SLOT, parse_instant("start", start), None
    elif day is not None:
        kind, when, on = WantKind.DAY, None, parse_date("day", day)
    else:
        assert week is not None
        kind, when, on = WantKind.WEEK, None, parse_date("week", week)
    joined = run(lambda c: waitlist.join(c.ctx, coach, author, kind, start=when, day=on, duration=duration))
    if as_json:
        emit({**entry_json(joined.entry, joined.position), "created": joined.created})
        return
    note = "" if joined.created else " (already on this list)"
    typer.echo(describe(joined.entry, joined.position) + note)


@app.command("list")
def waitlist_list(coach: int, as_json: JsonOpt = False) -> None:
    """A coach's waiting list in line order (waiting entries and open offers)."""

    async def work(c: Any) -> list[waitlist.Line]:
        await catalog.coach(c.ctx, coach)
        return await waitlist.waiting(c.ctx, coach)

    lines = run(work)
    if as_json:
        emit([{**entry_json(line.entry, line.position), "author_name": line.author.name} for line in lines])
        return
    if not lines:
        typer.echo(f"coach {coach}: nobody is waiting")
    for line in lines:
        typer.echo(describe(line.entry, line.position) + f" ({line.author.name})")


@app.command("leave")
def waitlist_leave(
    entry: int,
    author: Annotated[Optional[int], typer.Option("--author", help="Check the entry is this author's")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Take an entry off its waiting list; an open offer goes to the next in line."""
    left = run(lambda c: waitlist.leave(c.ctx, entry, author_id=author))
    if as_json:
        emit(entry_json(left))
    else:
        typer.echo(f"entry {left.id}: {left.status.value}")


@app.command("offer")
def waitlist_offer(as_json: JsonOpt = False) -> None:
    """Run one offer round now: freed slots to the first in line, lapsed offers to the next."""
    counts = run(lambda c: waitlist_offers.offer_freed(c.ctx))
    if as_json:
        emit(counts)
    else:
        typer.echo(", ".join(f"{name} {count}" for name, count in counts.items()))
