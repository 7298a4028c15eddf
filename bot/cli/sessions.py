"""Slots and sessions: `coachbot slots|book|cancel|reschedule|complete|no-show|rate|sessions|refund`."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Annotated, Optional
from zoneinfo import ZoneInfo

import typer
from rich.console import Console
from rich.table import Table

from booking import cancellation, catalog, groups, lifecycle, queries, refunds, rescheduling, series, slots
from booking import validation as v
from booking.availability import local_to_utc
from booking.errors import InvalidInput
from booking.model import Actor, Session
from booking.series_model import Conflicts, Repeat

if TYPE_CHECKING:
    from bot.container import Container

from bot.cli.common import (
    By,
    JsonOpt,
    emit,
    human,
    local,
    parse_date,
    parse_instant,
    print_series,
    print_session,
    run,
    session_json,
    then,
)

app = typer.Typer()  # its commands are added to the top level
out = Console()


@app.command("slots")
def cmd_slots(
    coach: int,
    from_: Annotated[str, typer.Option("--from", help="First date, YYYY-MM-DD (in --tz)")],
    to: Annotated[str, typer.Option("--to", help="Last date, inclusive, YYYY-MM-DD (in --tz)")],
    tz: Annotated[
        Optional[str], typer.Option("--tz", help="Zone to show and read dates in (default: the coach's)")
    ] = None,
    duration: Annotated[Optional[int], typer.Option("--duration", help="Minutes (default: the coach's first)")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Free slots of a coach."""
    first, last = parse_date("from", from_), parse_date("to", to)
    if last < first:
        raise InvalidInput("to", "must not be before from")
    zone_name = v.timezone("tz", tz) if tz else None

    async def work(c: Container):
        found = await catalog.coach(c.ctx, coach)
        name = zone_name or found.timezone
        zone = ZoneInfo(name)
        start = local_to_utc(first, 0, zone, fold=0)
        end = local_to_utc(last + timedelta(days=1), 0, zone, fold=0)
        return name, await slots.slots(c.ctx, coach, start, end, duration)

    name, found_slots = run(work)
    if as_json:
        emit([{"start": local(s.start, name), "end": local(s.end, name)} for s in found_slots])
        return
    if not found_slots:
        typer.echo("no free slots in that range")
    for s in found_slots:
        typer.echo(f"{human(s.start, name)} - {s.end.astimezone(ZoneInfo(name)):%H:%M}")


@app.command("book")
def cmd_book(
    coach: int,
    author: Annotated[int, typer.Option("--author")],
    start: Annotated[str, typer.Option("--start", help="ISO-8601 with offset")],
    duration: Annotated[Optional[int], typer.Option("--duration")] = None,
    focus: Annotated[Optional[str], typer.Option("--focus", help="What the author wants to work on")] = None,
    repeat: Annotated[
        Optional[Repeat], typer.Option("--repeat", help="Book a series at the same wall time every week or fortnight")
    ] = None,
    count: Annotated[Optional[int], typer.Option("--count", help="Sessions in the series, 2 to 12")] = None,
    conflicts: Annotated[
        Conflicts,
        typer.Option("--conflicts", help="Occurrences not free: refuse the series, skip them, or append more"),
    ] = Conflicts.REFUSE,
    as_json: JsonOpt = False,
) -> None:
    """Book a session for an author (a seat, at a group session's start), or a recurring series
    with --repeat and --count."""
    when = parse_instant("start", start)
    if repeat is None:
        if count is not None:
            raise InvalidInput("count", "only with --repeat")
        session, tz = run(lambda c: then(c, groups.book(c.ctx, coach, author, when, duration=duration, focus=focus)))
        print_session(session, tz, as_json)
        return
    if count is None:
        raise InvalidInput("count", "required with --repeat")
    every, n = repeat, count

    async def work(c: Container) -> tuple[series.BookedSeries, str]:
        booked = await series.book_series(
            c.ctx, coach, author, when, repeat=every, count=n, conflicts=conflicts, duration=duration, focus=focus
        )
        return booked, (await catalog.coach(c.ctx, coach)).timezone

    print_series(*run(work), as_json)


@app.command("cancel")
def cmd_cancel(
    session: int,
    by: Annotated[By, typer.Option("--by", help="Who cancels: author (24 h rule applies), coach or admin")],
    reason: Annotated[Optional[str], typer.Option("--reason")] = None,
    scope: Annotated[
        series.Scope, typer.Option("--scope", help="one: this session; following: it and the rest of its series")
    ] = series.Scope.ONE,
    as_json: JsonOpt = False,
) -> None:
    """Cancel a session (or it and the rest of its series), refunding each per policy."""
    if scope is series.Scope.ONE:
        result, tz = run(lambda c: then(c, cancellation.cancel(c.ctx, session, by=Actor(by.value), reason=reason)))
        print_session(result, tz, as_json)
        return

    async def work(c: Container) -> tuple[list[Session], str]:
        done = await series.cancel(c.ctx, session, by=Actor(by.value), scope=scope, reason=reason)
        return done, (await catalog.coach(c.ctx, done[0].coach_id)).timezone

    print_sessions(*run(work), as_json)


def print_sessions(found: list[Session], tz: str, as_json: bool) -> None:
    if as_json:
        emit([session_json(s, tz) for s in found])
        return
    for s in found:
        print_session(s, tz, False)


@app.command("reschedule")
def cmd_reschedule(
    session: int,
    start: Annotated[str, typer.Option("--start", help="ISO-8601 with offset")],
    by: Annotated[
        By, typer.Option("--by", help="Who moves it: author (24 h rule applies), coach or admin")
    ] = By.author,
    scope: Annotated[
        series.Scope,
        typer.Option("--scope", help="one: this session; following: it and the rest of its series, same new time"),
    ] = series.Scope.ONE,
    as_json: JsonOpt = False,
) -> None:
    """Move a session (or it and the rest of its series) to another free time."""
    when = parse_instant("start", start)
    if scope is series.Scope.ONE:
        result, tz = run(lambda c: then(c, rescheduling.reschedule(c.ctx, session, when, by=Actor(by.value))))
        print_session(result, tz, as_json)
        return

    async def work(c: Container) -> tuple[list[Session], str]:
        moved = await series.reschedule(c.ctx, session, when, by=Actor(by.value), scope=scope)
        return moved, (await catalog.coach(c.ctx, moved[0].coach_id)).timezone

    print_sessions(*run(work), as_json)


@app.command("complete")
def cmd_complete(session: int, as_json: JsonOpt = False) -> None:
    """Mark a session completed."""
    result, tz = run(lambda c: then(c, lifecycle.complete(c.ctx, session)))
    print_session(result, tz, as_json)


@app.command("no-show")
def cmd_no_show(
    session: int,
    who: Annotated[
        By, typer.Option("--who", help="Who did not show: author (no refund) or coach (full refund)")
    ] = By.author,
    as_json: JsonOpt = False,
) -> None:
    """Mark a session as a no-show."""
    result, tz = run(lambda c: then(c, lifecycle.no_show(c.ctx, session, who=Actor(who.value))))
    print_session(result, tz, as_json)


@app.command("rate")
def cmd_rate(
    session: int,
    stars: Annotated[int, typer.Option("--stars", help="1 to 5")],
    feedback: Annotated[Optional[str], typer.Option("--feedback")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Record the author's rating of a completed session."""

    async def work(c: Container):
        current = await queries.session(c.ctx, session)
        return await then(
            c, lifecycle.rate(c.ctx, session, author_id=current.author_id, stars=stars, feedback=feedback)
        )

    result, tz = run(work)
    print_session(result, tz, as_json)


@app.command("sessions")
def cmd_sessions(
    coach: Annotated[Optional[int], typer.Option("--coach")] = None,
    author: Annotated[Optional[int], typer.Option("--author")] = None,
    upcoming: Annotated[bool, typer.Option("--upcoming")] = False,
    past: Annotated[bool, typer.Option("--past")] = False,
    as_json: JsonOpt = False,
) -> None:
    """List sessions."""
    if upcoming and past:
        raise InvalidInput("upcoming", "choose --upcoming or --past, not both")
    when = "upcoming" if upcoming else "past" if past else None

    async def work(c: Container):
        found = await queries.sessions(c.ctx, coach_id=coach, author_id=author, when=when)
        zones = {x.id: x.timezone for x in await catalog.coaches(c.ctx)}
        return [(s, zones.get(s.coach_id, "UTC")) for s in found]

    rows = run(work)
    if as_json:
        emit([session_json(s, tz) for s, tz in rows])
        return
    table = Table("id", "status", "start (coach zone)", "min", "coach", "author", "paid", "refunded")
    for s, tz in rows:
        table.add_row(
            str(s.id),
            s.status.value,
            human(s.starts_at, tz),
            str(s.duration_minutes),
            str(s.coach_id),
            str(s.author_id),
            f"{s.amount_paid / 100:.2f}",
            f"{s.amount_refunded / 100:.2f}",
        )
    out.print(table)


@app.command("refund")
def cmd_refund(
    session: int,
    amount: Annotated[Optional[int], typer.Option("--amount", help="Minor units (default: all that is left)")] = None,
    reason: Annotated[str, typer.Option("--reason")] = "support",
    as_json: JsonOpt = False,
) -> None:
    """Refund a session's payment, in full or in part (support staff)."""
    result, tz = run(lambda c: then(c, refunds.refund(c.ctx, session, amount, reason=reason)))
    print_session(result, tz, as_json)
