"""`coachbot calendar ...`: subscription feeds, and the coaches' own calendars (busy time, CalDAV)."""

from __future__ import annotations

import sys
from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from booking import calendar_feeds, calendar_sources
from booking.calendar_feeds import FeedOwner
from booking.calendar_model import SourceKind
from bot.cli.common import JsonOpt, emit, fail, run

if TYPE_CHECKING:
    from bot.container import Container

PASSWORD_VARIABLE = "CALDAV_PASSWORD"  # so that the password need not be on the command line

app = typer.Typer(no_args_is_help=True, help="Calendar feeds and the coaches' own calendars.")


class Owner(str, Enum):
    coach = "coach"
    author = "author"


def _print_url(url: str, as_json: bool) -> None:
    emit({"url": url}) if as_json else typer.echo(url)


@app.command("feed")
def feed(owner: Owner, owner_id: int, as_json: JsonOpt = False) -> None:
    """The subscription address of a coach's or an author's sessions (the same until rotated)."""
    _print_url(run(lambda c: _feed_url(c, owner, owner_id, rotate=False)), as_json)


@app.command("rotate")
def rotate(owner: Owner, owner_id: int, as_json: JsonOpt = False) -> None:
    """A new subscription address; the old one stops working at once."""
    _print_url(run(lambda c: _feed_url(c, owner, owner_id, rotate=True)), as_json)


async def _feed_url(container: Container, owner: Owner, owner_id: int, *, rotate: bool) -> str:
    from bot.calendar_feed import feed_url

    make = calendar_feeds.rotate if rotate else calendar_feeds.token
    return feed_url(container, await make(container.ctx, FeedOwner(owner.value), owner_id))


@app.command("connect")
def connect(
    coach_id: int,
    ics_url: Annotated[Optional[str], typer.Option("--ics-url", help="the calendar's secret iCal address")] = None,
    caldav_url: Annotated[Optional[str], typer.Option("--caldav-url", help="the CalDAV calendar's own URL")] = None,
    user: Annotated[Optional[str], typer.Option("--user")] = None,
    password: Annotated[
        Optional[str],
        typer.Option(
            "--password",
            envvar=PASSWORD_VARIABLE,
            show_envvar=True,
            help="the (app) password; `-` reads it from stdin; or set it in the environment",
        ),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Import busy time from a calendar (read at once; nothing is stored if it cannot be read)."""
    if bool(ics_url) == bool(caldav_url):
        raise typer.BadParameter("give either --ics-url or --caldav-url")
    kind, url = (SourceKind.ICS, ics_url) if ics_url else (SourceKind.CALDAV, caldav_url)
    assert url is not None
    if kind is SourceKind.ICS:
        password = None  # CALDAV_PASSWORD may be set in the environment for other commands
    elif password == "-":
        password = sys.stdin.readline().rstrip("\r\n")
    source = run(
        lambda c: calendar_sources.connect(c.ctx, c.calendars, coach_id, kind, url, username=user, password=password)
    )
    if as_json:
        emit({"id": source.id})
    else:
        typer.echo(f"calendar {source.id} connected to coach {coach_id}")


@app.command("sources")
def sources(coach_id: int, as_json: JsonOpt = False) -> None:
    """The coach's calendars (never their passwords; an ICS address only as its host: it is a
    credential), each with its busy intervals and its last errors."""
    found = run(lambda c: calendar_sources.sources(c.ctx, coach_id))
    rows = [
        {
            "id": s.id,
            "kind": s.kind.value,
            "url": calendar_sources.shown_url(s),
            "user": s.username,
            "busy": count,
            "synced_at": _stamp(s.synced_at),
            "error": s.error,
            "error_at": _stamp(s.error_at),
            "push_error": s.push_error,
            "push_error_at": _stamp(s.push_error_at),
        }
        for s, count in found
    ]
    if as_json:
        emit(rows)
        return
    for row in rows:
        state = f"failing since {row['error_at']}: {row['error']}" if row["error"] else f"synced {row['synced_at']}"
        if row["push_error"]:
            state += f"; pushes failing since {row['push_error_at']}: {row['push_error']}"
        typer.echo(f"{row['id']}  {row['kind']:6}  {row['url']}  busy={row['busy']}  {state}")


def _stamp(instant: datetime | None) -> str | None:
    return instant.isoformat() if instant else None


@app.command("disconnect")
def disconnect(coach_id: int, source_id: int, as_json: JsonOpt = False) -> None:
    """Forget a calendar; its busy time stops blocking at once."""
    run(lambda c: calendar_sources.disconnect(c.ctx, coach_id, source_id))
    if as_json:
        emit({"id": source_id, "disconnected": True})
    else:
        typer.echo(f"calendar {source_id} disconnected")


@app.command("sync")
def sync(coach_id: int, as_json: JsonOpt = False) -> None:
    """Import busy time now; exit 1 naming any calendar that failed."""
    report = run(lambda c: calendar_sources.sync(c.ctx, c.calendars, coach_id))
    if as_json:
        emit({"busy": report.busy, "failed": {str(k): v for k, v in report.failed.items()}})
    else:
        typer.echo(f"{report.busy} busy intervals")
    if report.failed:
        fail("; ".join(f"calendar {i} failed: {why}" for i, why in report.failed.items()))
