"""The admin CLI `coachbot`. Errors: one line on stderr, exit 1 (2 for usage), no traceback."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from datetime import date, datetime, timedelta
from enum import Enum
from typing import Annotated, Any, Optional, TypeVar
from zoneinfo import ZoneInfo

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table
from sqlalchemy.exc import DBAPIError, OperationalError, ProgrammingError

from booking import validation as v
from booking.availability import local_to_utc
from booking.errors import BookingError, InvalidInput, SlotUnavailable
from booking.model import WEEKDAYS, Actor, Coach, OverrideKind, Session, SessionStatus
from bot.container import Container
from bot.settings import Settings

T = TypeVar("T")
app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="coachbot: admin and support commands.")
coach_app = typer.Typer(no_args_is_help=True, help="Coaches and their booking settings.")
availability_app = typer.Typer(no_args_is_help=True, help="Weekly hours, time off and extra hours.")
author_app = typer.Typer(no_args_is_help=True, help="Authors.")
db_app = typer.Typer(no_args_is_help=True, help="Database schema.")
payments_app = typer.Typer(no_args_is_help=True, help="Payments: reconciliation with the provider.")
app.add_typer(coach_app, name="coach")
app.add_typer(availability_app, name="availability")
app.add_typer(author_app, name="author")
app.add_typer(db_app, name="db")
app.add_typer(payments_app, name="payments")

out = Console()
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


class By(str, Enum):
    author = "author"
    coach = "coach"
    admin = "admin"


# ---- plumbing -------------------------------------------------------------------------------


def run(work: Callable[[Container], Awaitable[T]]) -> T:
    settings = Settings()

    async def go() -> T:
        container = Container(settings)
        try:
            return await work(container)
        finally:
            await container.close()

    return asyncio.run(go())


def emit(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")


def parse_instant(field: str, value: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise InvalidInput(field, f"not an ISO-8601 date-time: {value!r} (e.g. 2026-12-01T10:00:00+01:00)") from None
    return v.instant(field, parsed)


def parse_date(field: str, value: str) -> date:
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise InvalidInput(field, f"not a date: {value!r} (expected YYYY-MM-DD)") from None


def parse_durations(value: str | None) -> list[int] | None:
    if value is None:
        return None
    try:
        return [int(part) for part in value.split(",") if part.strip()]
    except ValueError:
        raise InvalidInput("durations", f"expected minutes separated by commas, e.g. 30,60,90; got {value!r}") from None


def local(instant: datetime | None, tz: str) -> str | None:
    return instant.astimezone(ZoneInfo(tz)).isoformat() if instant else None


def human(instant: datetime | None, tz: str) -> str:
    if instant is None:
        return "-"
    moment = instant.astimezone(ZoneInfo(tz))
    return f"{moment:%a %Y-%m-%d %H:%M} {moment.tzname()}"


def coach_json(c: Coach) -> dict:
    return {
        "id": c.id, "name": c.name, "timezone": c.timezone, "rate": c.rate, "currency": c.currency,
        "bio": c.bio, "specialties": c.specialties, "credentials": c.credentials,
        "years_experience": c.years_experience, "is_active": c.is_active, "rating": str(c.rating),
        "rating_count": c.rating_count, "total_sessions": c.total_sessions,
        "min_notice_hours": c.min_notice_minutes / 60, "horizon_days": c.horizon_days,
        "buffer_before": c.buffer_before_minutes, "buffer_after": c.buffer_after_minutes,
        "durations": c.durations, "slot_step": c.slot_step_minutes,
    }


def session_json(s: Session, tz: str) -> dict:
    return {
        "id": s.id, "status": s.status.value, "coach_id": s.coach_id, "author_id": s.author_id,
        "start": local(s.starts_at, tz), "end": local(s.ends_at, tz), "duration_minutes": s.duration_minutes,
        "price": s.price_amount, "currency": s.currency, "amount_paid": s.amount_paid,
        "amount_refunded": s.amount_refunded, "refund_due": s.refund_due, "payment": _payment_state(s),
        "meeting_url": s.meeting_url, "checkout_url": s.checkout_url,
        "hold_expires_at": local(s.hold_expires_at, tz),
        "cancelled_by": s.cancelled_by.value if s.cancelled_by else None, "cancel_reason": s.cancel_reason,
        "rating": s.rating, "feedback": s.feedback,
    }


def _payment_state(s: Session) -> str:
    if s.price_amount == 0 or (s.amount_paid == 0 and s.status is not SessionStatus.HELD and not s.checkout_ref):
        return "included"
    if s.status is SessionStatus.HELD:
        return "pending" if s.checkout_url else "checkout unavailable"
    if s.amount_refunded and s.amount_refunded >= s.amount_paid:
        return "refunded"
    return "paid" if s.amount_paid else "unpaid"


def print_session(s: Session, tz: str, as_json: bool) -> None:
    if as_json:
        emit(session_json(s, tz))
        return
    typer.echo(f"session {s.id}: {s.status.value}, {human(s.starts_at, tz)} ({s.duration_minutes} min), "
              f"price {s.price.format()} ({_payment_state(s)}), paid {s.amount_paid / 100:.2f}, "
              f"refunded {s.amount_refunded / 100:.2f}")
    if s.refund_due:
        typer.echo(f"refund owed, being retried: {s.refund_due / 100:.2f}")
    if s.status is SessionStatus.HELD and not s.checkout_url:
        typer.echo(f"the payment link could not be made; retry with: coachbot payments retry {s.id}")
    if s.meeting_url:
        typer.echo(f"meeting: {s.meeting_url}")
    if s.checkout_url:
        typer.echo(f"pay: {s.checkout_url}")


# ---- db / serve -----------------------------------------------------------------------------


@db_app.command("upgrade")
def db_upgrade(revision: str = typer.Argument("head")) -> None:
    """Create or update the schema by running the migrations."""
    from storage.migrate import upgrade

    settings = Settings()
    settings.ensure_sqlite_dir()
    upgrade(settings.database_url, revision)
    typer.echo(f"database at revision {revision}")


@app.command()
def serve(
    host: Annotated[Optional[str], typer.Option(help="Interface to listen on.")] = None,
    port: Annotated[Optional[int], typer.Option(help="Port to listen on.")] = None,
) -> None:
    """Run the HTTP server (health check, webhooks) and the scheduler."""
    import uvicorn

    from bot.http import create_app
    from bot.logging import configure

    settings = Settings()
    configure(settings.log_level, json=settings.log_json)
    container = Container(settings)
    uvicorn.run(create_app(container), host=host or settings.http_host, port=port or settings.http_port,
                log_level=settings.log_level.lower())


# ---- coaches --------------------------------------------------------------------------------


@coach_app.command("add")
def coach_add(
    name: Annotated[str, typer.Option("--name")],
    timezone: Annotated[str, typer.Option("--timezone")],
    rate: Annotated[int, typer.Option("--rate", help="Price per hour in minor units (cents).")],
    currency: Annotated[str, typer.Option("--currency")] = "usd",
    specialty: Annotated[Optional[list[str]], typer.Option("--specialty")] = None,
    bio: Annotated[Optional[str], typer.Option("--bio")] = None,
    min_notice_hours: Annotated[float, typer.Option("--min-notice-hours")] = 24,
    horizon_days: Annotated[int, typer.Option("--horizon-days")] = 60,
    buffer_before: Annotated[int, typer.Option("--buffer-before", help="Minutes kept free before each session.")] = 0,
    buffer_after: Annotated[int, typer.Option("--buffer-after", help="Minutes kept free after each session.")] = 0,
    durations: Annotated[str, typer.Option("--durations", help="Offered durations in minutes, e.g. 30,60,90.")] = "60",
    slot_step: Annotated[Optional[int], typer.Option("--slot-step", help="Minutes between slot starts (default: the duration).")] = None,
    email: Annotated[Optional[str], typer.Option("--email")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Add a coach."""
    fields = dict(
        name=name, timezone=timezone, rate=rate, currency=currency, specialties=specialty or [], bio=bio,
        min_notice_minutes=_minutes_of_hours("min_notice_hours", min_notice_hours), horizon_days=horizon_days,
        buffer_before_minutes=buffer_before, buffer_after_minutes=buffer_after,
        durations=parse_durations(durations), slot_step_minutes=slot_step, email=email,
    )
    coach = run(lambda c: c.service.add_coach(**fields))
    emit(coach_json(coach)) if as_json else typer.echo(f"coach {coach.id} added: {coach.name} ({coach.timezone})")


@coach_app.command("list")
def coach_list(active: Annotated[bool, typer.Option("--active", help="Only active coaches.")] = False,
               as_json: JsonOpt = False) -> None:
    """List coaches."""
    coaches = run(lambda c: c.service.coaches(active_only=active))
    if as_json:
        emit([coach_json(x) for x in coaches])
        return
    table = Table("id", "name", "zone", "rate/h", "durations", "rating", "sessions", "active")
    for x in coaches:
        table.add_row(str(x.id), x.name, x.timezone, f"{x.rate / 100:.2f} {x.currency.upper()}",
                      ",".join(map(str, x.durations)), f"{x.rating} ({x.rating_count})", str(x.total_sessions),
                      "yes" if x.is_active else "no")
    out.print(table)


@coach_app.command("show")
def coach_show(coach: int, as_json: JsonOpt = False) -> None:
    """Show one coach."""
    found = run(lambda c: c.service.coach(coach))
    if as_json:
        emit(coach_json(found))
        return
    for key, value in coach_json(found).items():
        out.print(f"{key:>16}: {value}")


@coach_app.command("update")
def coach_update(
    coach: int,
    name: Annotated[Optional[str], typer.Option("--name")] = None,
    timezone: Annotated[Optional[str], typer.Option("--timezone")] = None,
    rate: Annotated[Optional[int], typer.Option("--rate")] = None,
    currency: Annotated[Optional[str], typer.Option("--currency")] = None,
    specialty: Annotated[Optional[list[str]], typer.Option("--specialty", help="Replaces the list.")] = None,
    bio: Annotated[Optional[str], typer.Option("--bio")] = None,
    min_notice_hours: Annotated[Optional[float], typer.Option("--min-notice-hours")] = None,
    horizon_days: Annotated[Optional[int], typer.Option("--horizon-days")] = None,
    buffer_before: Annotated[Optional[int], typer.Option("--buffer-before")] = None,
    buffer_after: Annotated[Optional[int], typer.Option("--buffer-after")] = None,
    durations: Annotated[Optional[str], typer.Option("--durations")] = None,
    slot_step: Annotated[Optional[int], typer.Option("--slot-step")] = None,
    activate: Annotated[bool, typer.Option("--activate", help="Take bookings again.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Change a coach's profile or booking settings."""
    changes = {
        "name": name, "timezone": timezone, "rate": rate, "currency": currency, "specialties": specialty, "bio": bio,
        "min_notice_minutes": None if min_notice_hours is None else _minutes_of_hours("min_notice_hours", min_notice_hours),
        "horizon_days": horizon_days, "buffer_before_minutes": buffer_before, "buffer_after_minutes": buffer_after,
        "durations": parse_durations(durations), "slot_step_minutes": slot_step, "is_active": True if activate else None,
    }
    changes = {k: val for k, val in changes.items() if val is not None}
    if not changes:
        raise InvalidInput("options", "nothing to update: give at least one option")
    updated = run(lambda c: c.service.update_coach(coach, **changes))
    emit(coach_json(updated)) if as_json else typer.echo(f"coach {updated.id} updated")


@coach_app.command("deactivate")
def coach_deactivate(coach: int) -> None:
    """Stop new bookings for a coach (existing sessions stay)."""
    run(lambda c: c.service.update_coach(coach, is_active=False))
    typer.echo(f"coach {coach} deactivated")


def _minutes_of_hours(field: str, hours: float) -> int:
    minutes = hours * 60
    if minutes != int(minutes) or minutes < 0:
        raise InvalidInput(field, f"expected a non-negative whole number of minutes, got {hours} h")
    return int(minutes)


# ---- availability ---------------------------------------------------------------------------


@availability_app.command("add")
def availability_add(
    coach: int,
    weekday: Annotated[str, typer.Option("--weekday", help="mon|tue|wed|thu|fri|sat|sun")],
    start: Annotated[str, typer.Option("--start", help="HH:MM in the coach's zone")],
    end: Annotated[str, typer.Option("--end", help="HH:MM in the coach's zone (24:00 = midnight)")],
    as_json: JsonOpt = False,
) -> None:
    """Add weekly hours."""
    rule = run(lambda c: c.service.add_rule(coach, weekday=weekday, start=start, end=end))
    data = _rule_json(rule)
    emit(data) if as_json else typer.echo(f"rule {rule.id} added: {data['weekday']} {data['start']}-{data['end']}")


@availability_app.command("list")
def availability_list(coach: int, as_json: JsonOpt = False) -> None:
    """List a coach's weekly hours."""
    rules = run(lambda c: c.service.rules(coach))
    if as_json:
        emit([_rule_json(r) for r in rules])
        return
    table = Table("id", "weekday", "start", "end")
    for r in rules:
        d = _rule_json(r)
        table.add_row(str(r.id), d["weekday"], d["start"], d["end"])
    out.print(table)


@availability_app.command("remove")
def availability_remove(coach: int, rule: int) -> None:
    """Remove a weekly rule."""
    run(lambda c: c.service.remove_rule(coach, rule))
    typer.echo(f"rule {rule} removed")


@availability_app.command("block")
def availability_block(
    coach: int,
    start: Annotated[str, typer.Option("--start", help="ISO-8601 with offset")],
    end: Annotated[str, typer.Option("--end", help="ISO-8601 with offset")],
    reason: Annotated[Optional[str], typer.Option("--reason")] = None,
) -> None:
    """Block time off (no slots are offered inside it)."""
    _override(coach, OverrideKind.BLOCK, start, end, reason)


@availability_app.command("extra")
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
    found = run(lambda c: c.service.add_override(coach, kind=kind, start=s, end=e, reason=reason))
    typer.echo(f"{kind.value} {found.id} added for coach {coach}")


def _rule_json(rule) -> dict:
    def hm(m: int) -> str:
        return f"{m // 60:02d}:{m % 60:02d}"
    return {"id": rule.id, "coach_id": rule.coach_id, "weekday": WEEKDAYS[rule.weekday],
            "start": hm(rule.start_minute), "end": hm(rule.end_minute)}


# ---- authors --------------------------------------------------------------------------------


@author_app.command("add")
def author_add(
    name: Annotated[str, typer.Option("--name")],
    timezone: Annotated[str, typer.Option("--timezone")],
    telegram_id: Annotated[Optional[int], typer.Option("--telegram-id")] = None,
    email: Annotated[Optional[str], typer.Option("--email")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Add an author."""
    author = run(lambda c: c.service.add_author(name=name, timezone=timezone, telegram_id=telegram_id, email=email))
    if as_json:
        emit({"id": author.id, "name": author.name, "timezone": author.timezone, "telegram_id": author.telegram_id})
    else:
        typer.echo(f"author {author.id} added: {author.name} ({author.timezone})")


# ---- slots and sessions ---------------------------------------------------------------------


@app.command()
def slots(
    coach: int,
    from_: Annotated[str, typer.Option("--from", help="First date, YYYY-MM-DD (in --tz)")],
    to: Annotated[str, typer.Option("--to", help="Last date, inclusive, YYYY-MM-DD (in --tz)")],
    tz: Annotated[Optional[str], typer.Option("--tz", help="Zone to show and read dates in (default: the coach's)")] = None,
    duration: Annotated[Optional[int], typer.Option("--duration", help="Minutes (default: the coach's first)")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Free slots of a coach."""
    first, last = parse_date("from", from_), parse_date("to", to)
    if last < first:
        raise InvalidInput("to", "must not be before from")
    zone_name = v.timezone("tz", tz) if tz else None

    async def work(c: Container):
        found = await c.service.coach(coach)
        name = zone_name or found.timezone
        zone = ZoneInfo(name)
        start = local_to_utc(first, 0, zone, fold=0)
        end = local_to_utc(last + timedelta(days=1), 0, zone, fold=0)
        return name, await c.service.slots(coach, start, end, duration)

    name, found_slots = run(work)
    if as_json:
        emit([{"start": local(s.start, name), "end": local(s.end, name)} for s in found_slots])
        return
    if not found_slots:
        typer.echo("no free slots in that range")
    for s in found_slots:
        typer.echo(f"{human(s.start, name)} - {s.end.astimezone(ZoneInfo(name)):%H:%M}")


@app.command()
def book(
    coach: int,
    author: Annotated[int, typer.Option("--author")],
    start: Annotated[str, typer.Option("--start", help="ISO-8601 with offset")],
    duration: Annotated[Optional[int], typer.Option("--duration")] = None,
    focus: Annotated[Optional[str], typer.Option("--focus", help="What the author wants to work on")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Book a session for an author."""
    when = parse_instant("start", start)
    session, tz = run(lambda c: _then(c, c.service.book(coach, author, when, duration=duration, focus=focus)))
    print_session(session, tz, as_json)


@app.command()
def cancel(
    session: int,
    by: Annotated[By, typer.Option("--by", help="Who cancels: author (24 h rule applies), coach or admin")],
    reason: Annotated[Optional[str], typer.Option("--reason")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Cancel a session, refunding per policy."""
    result, tz = run(lambda c: _then(c, c.service.cancel(session, by=Actor(by.value), reason=reason)))
    print_session(result, tz, as_json)


@app.command()
def reschedule(
    session: int,
    start: Annotated[str, typer.Option("--start", help="ISO-8601 with offset")],
    by: Annotated[By, typer.Option("--by", help="Who moves it: author (24 h rule applies), coach or admin")] = By.author,
    as_json: JsonOpt = False,
) -> None:
    """Move a session to another free slot."""
    when = parse_instant("start", start)
    result, tz = run(lambda c: _then(c, c.service.reschedule(session, when, by=Actor(by.value))))
    print_session(result, tz, as_json)


@app.command()
def complete(session: int, as_json: JsonOpt = False) -> None:
    """Mark a session completed."""
    result, tz = run(lambda c: _then(c, c.service.complete(session)))
    print_session(result, tz, as_json)


@app.command("no-show")
def no_show(
    session: int,
    who: Annotated[By, typer.Option("--who", help="Who did not show: author (no refund) or coach (full refund)")] = By.author,
    as_json: JsonOpt = False,
) -> None:
    """Mark a session as a no-show."""
    result, tz = run(lambda c: _then(c, c.service.no_show(session, who=Actor(who.value))))
    print_session(result, tz, as_json)


@app.command()
def rate(
    session: int,
    stars: Annotated[int, typer.Option("--stars", help="1 to 5")],
    feedback: Annotated[Optional[str], typer.Option("--feedback")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Record the author's rating of a completed session."""
    async def work(c: Container):
        current = await c.service.session(session)
        return await _then(c, c.service.rate(session, author_id=current.author_id, stars=stars, feedback=feedback))

    result, tz = run(work)
    print_session(result, tz, as_json)


@app.command()
def sessions(
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
        found = await c.service.sessions(coach_id=coach, author_id=author, when=when)
        zones = {x.id: x.timezone for x in await c.service.coaches()}
        return [(s, zones.get(s.coach_id, "UTC")) for s in found]

    rows = run(work)
    if as_json:
        emit([session_json(s, tz) for s, tz in rows])
        return
    table = Table("id", "status", "start (coach zone)", "min", "coach", "author", "paid", "refunded")
    for s, tz in rows:
        table.add_row(str(s.id), s.status.value, human(s.starts_at, tz), str(s.duration_minutes), str(s.coach_id),
                      str(s.author_id), f"{s.amount_paid / 100:.2f}", f"{s.amount_refunded / 100:.2f}")
    out.print(table)


@app.command()
def refund(
    session: int,
    amount: Annotated[Optional[int], typer.Option("--amount", help="Minor units (default: all that is left)")] = None,
    reason: Annotated[str, typer.Option("--reason")] = "support",
    as_json: JsonOpt = False,
) -> None:
    """Refund a session's payment, in full or in part (support staff)."""
    result, tz = run(lambda c: _then(c, c.service.refund(session, amount, reason=reason)))
    print_session(result, tz, as_json)


@payments_app.command("reconcile")
def payments_reconcile(as_json: JsonOpt = False) -> None:
    """Re-check holds against the provider: confirm paid ones, release expired ones, retry refunds owed."""
    counts = run(lambda c: c.payment_events.reconcile(include_open=True))
    emit(counts) if as_json else typer.echo(", ".join(f"{k}: {val}" for k, val in counts.items()))


@payments_app.command("retry")
def payments_retry(session: int, as_json: JsonOpt = False) -> None:
    """Make the payment link again for a held session whose checkout could not be created."""
    result, tz = run(lambda c: _then(c, c.service.retry_checkout(session)))
    print_session(result, tz, as_json)


@app.command("seed-demo")
def seed_demo() -> None:
    """Add demo coaches with weekly hours and a demo author (skipped if they exist)."""
    async def work(c: Container):
        existing = {x.name for x in await c.service.coaches()}
        made = []
        demo = [
            ("Maya Lind", "Europe/Berlin", 9000, ["romance", "character development"], "Ten years editing romance."),
            ("Jon Okafor", "America/New_York", 12000, ["mystery", "plotting"], "Former crime-desk editor."),
        ]
        for name, zone, rate_, specialties, bio in demo:
            if name in existing:
                continue
            coach = await c.service.add_coach(name=name, timezone=zone, rate=rate_, specialties=specialties,
                                              bio=bio, durations=[30, 60, 90], slot_step_minutes=30)
            for day in ("mon", "tue", "wed", "thu", "fri"):
                await c.service.add_rule(coach.id, weekday=day, start="09:00", end="17:00")
            made.append(f"coach {coach.id} {name}")
        if made:  # first run: the coaches were just created, so the author is new too
            author = await c.service.add_author(name="Demo Author", timezone="Europe/London")
            made.append(f"author {author.id} Demo Author")
        return made

    made = run(work)
    typer.echo("\n".join(made) if made else "demo data already present")


async def _then(c: Container, pending: Awaitable[Session]) -> tuple[Session, str]:
    """The session a command produced, with its coach's zone to show its times in."""
    session = await pending
    return session, (await c.service.coach(session.coach_id)).timezone


# ---- entry point ----------------------------------------------------------------------------


def fail(message: str) -> None:
    sys.stderr.write(f"error: {message}\n")
    raise SystemExit(1)


def main() -> None:
    from bot.logging import configure

    configure("WARNING")
    try:
        app()
    except SlotUnavailable as exc:
        hint = ""
        if exc.alternatives:
            hint = "; nearest free: " + ", ".join(a.isoformat() for a, _ in exc.alternatives)
        fail(exc.message + hint)
    except BookingError as exc:
        fail(exc.message)
    except ValidationError as exc:
        first = exc.errors()[0]
        if not first["loc"]:  # a rule across settings, e.g. webhook mode without its secret
            fail(f"configuration: {first['msg'].removeprefix('Value error, ')}")
        fail(f"setting {'.'.join(map(str, first['loc'])).upper()}: {first['msg']}")
    except (OperationalError, ProgrammingError) as exc:
        text = str(exc.orig).lower()
        if "no such table" in text or "does not exist" in text:
            fail("the database has no schema yet: run `coachbot db upgrade`")
        fail(f"database error: {str(exc.orig).splitlines()[0]}")
    except DBAPIError as exc:
        fail(f"database error: {str(exc.orig).splitlines()[0]}")
    except (OSError, ConnectionError) as exc:
        fail(f"cannot reach a service: {exc}")
    except ValueError as exc:  # raised while building adapters from settings
        fail(f"configuration: {exc}")
    except KeyboardInterrupt:
        raise SystemExit(130) from None
    except Exception as exc:  # the last net: one line, never a traceback
        fail(f"unexpected {type(exc).__name__}: {exc}")


if __name__ == "__main__":
    main()
