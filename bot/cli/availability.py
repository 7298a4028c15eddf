"""`coachbot availability ...`: weekly hours, time off and extra hours."""

from __future__ import annotations

from typing import Annotated, Any, Optional

import typer
from rich.console import Console
from rich.table import Table

from booking import catalog
from booking.model import WEEKDAYS, OverrideKind
from bot.cli.common import JsonOpt, emit, parse_instant, run

app = typer.Typer(no_args_is_help=True, help="Weekly hours, time off and extra hours.")
out = Console()


@app.command("add")
def availability_add(
    coach: int,
    weekday: Annotated[str, typer.Option("--weekday", help="mon|tue|wed|thu|fri|sat|sun")],
    start: Annotated[str, typer.Option("--start", help="HH:MM in the coach's zone")],
    end: Annotated[str, typer.Option("--end", help="HH:MM in the coach's zone (24:00 = midnight)")],
    as_json: JsonOpt = False,
) -> None:
    """Add weekly hours."""
    rule = run(lambda c: catalog.add_rule(c.ctx, coach, weekday=weekday, start=start, end=end))
    data = _rule_json(rule)
    emit(data) if as_json else typer.echo(f"rule {rule.id} added: {data['weekday']} {data['start']}-{data['end']}")


@app.command("list")
def availability_list(coach: int, as_json: JsonOpt = False) -> None:
    """List a coach's weekly hours."""
    rules = run(lambda c: catalog.rules(c.ctx, coach))
    if as_json:
        emit([_rule_json(r) for r in rules])
        return
    table = Table("id", "weekday", "start", "end")
    for r in rules:
        d = _rule_json(r)
        table.add_row(str(r.id), d["weekday"], d["start"], d["end"])
    out.print(table)


@app.command("remove")
def availability_remove(coach: int, rule: int) -> None:
    """Remove a weekly rule."""
    run(lambda c: catalog.remove_rule(c.ctx, coach, rule))
    typer.echo(f"rule {rule} removed")


@app.command("block")
def availability_block(
    coach: int,
    start: Annotated[str, typer.Option("--start", help="ISO-8601 with offset")],
    end: Annotated[str, typer.Option("--end", help="ISO-8601 with offset")],
    reason: Annotated[Optional[str], typer.Option("--reason")] = None,
) -> None:
    """Block time off (no slots are offered inside it)."""
    _override(coach, OverrideKind.BLOCK, start, end, reason)


@app.command("extra")
def availability_extra(
    coach: int,
    start: Annotated[str, typer.Option("--start", help="ISO-8601 with offset")],
    end: Annotated[str, typer.Option("--end", help="ISO-8601 with offset")],
    reason: Annotated[Optional[str], typer.Option("--reason")] = None,
) -> None:
    """Open extra hours outside the weekly rules."""
    _override(coach, OverrideKind.EXTRA, start, end, reason)


def _override(coach: int, kind: OverrideKind, start: str, end: str, reason: str | None) -> None:
    s, e = parse_instant("start", start), parse_instant("end", end)
    found = run(lambda c: catalog.add_override(c.ctx, coach, kind=kind, start=s, end=e, reason=reason))
    typer.echo(f"{kind.value} {found.id} added for coach {coach}")


def _rule_json(rule) -> dict[str, Any]:
    def hm(m: int) -> str:
        return f"{m // 60:02d}:{m % 60:02d}"

    return {
        "id": rule.id,
        "coach_id": rule.coach_id,
        "weekday": WEEKDAYS[rule.weekday],
        "start": hm(rule.start_minute),
        "end": hm(rule.end_minute),
    }
