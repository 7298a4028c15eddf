"""Plumbing shared by the command groups: running a use case against the configured database,
parsing and printing, and turning errors into one line on stderr (exit 1; 2 for usage)."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from datetime import date, datetime
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any, TypeVar
from zoneinfo import ZoneInfo

import typer
from typer.core import TyperGroup

from booking import catalog
from booking import validation as v
from booking.errors import BookingError, InvalidInput, SlotUnavailable
from booking.model import Coach, Session, SessionStatus
from booking.series import BookedSeries

if TYPE_CHECKING:
    from bot.container import Container

T = TypeVar("T")
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


class By(str, Enum):
    author = "author"
    coach = "coach"
    admin = "admin"


def run(work: Callable[[Container], Awaitable[T]]) -> T:
    """Run `work` with a container built from the settings (imported here, so `--help` stays fast)."""
    from bot.container import Container
    from bot.settings import load_settings

    settings = load_settings()

    async def go() -> T:
        container = Container(settings)
        try:
            return await work(container)
        finally:
            await container.close()

    return asyncio.run(go())


async def then(c: Container, pending: Awaitable[Session]) -> tuple[Session, str]:
    """The session a command produced, with its coach's zone to show its times in."""
    session = await pending
    return session, (await catalog.coach(c.ctx, session.coach_id)).timezone


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


def coach_json(c: Coach) -> dict[str, Any]:
    return {
        "id": c.id,
        "name": c.name,
        "timezone": c.timezone,
        "rate": c.rate,
        "currency": c.currency,
        "bio": c.bio,
        "specialties": c.specialties,
        "credentials": c.credentials,
        "years_experience": c.years_experience,
        "is_active": c.is_active,
        "rating": str(c.rating),
        "rating_count": c.rating_count,
        "total_sessions": c.total_sessions,
        "min_notice_hours": c.min_notice_minutes / 60,
        "horizon_days": c.horizon_days,
        "buffer_before": c.buffer_before_minutes,
        "buffer_after": c.buffer_after_minutes,
        "durations": c.durations,
        "slot_step": c.slot_step_minutes,
        "slack_user_id": c.slack_user_id,
        "slack_team_id": c.slack_team_id,
    }


def session_json(s: Session, tz: str) -> dict[str, Any]:
    return {
        "id": s.id,
        "status": s.status.value,
        "coach_id": s.coach_id,
        "author_id": s.author_id,
        "start": local(s.starts_at, tz),
        "end": local(s.ends_at, tz),
        "duration_minutes": s.duration_minutes,
        "price": s.price_amount,
        "currency": s.currency,
        "amount_paid": s.amount_paid,
        "amount_refunded": s.amount_refunded,
        "refund_due": s.refund_due,
        "payment": payment_state(s),
        "meeting_url": s.meeting_url,
        "checkout_url": s.checkout_url,
        "hold_expires_at": local(s.hold_expires_at, tz),
        "cancelled_by": s.cancelled_by.value if s.cancelled_by else None,
        "cancel_reason": s.cancel_reason,
        "rating": s.rating,
        "feedback": s.feedback,
        "group_id": s.group_slot_id,
        "seat": s.seat,
    }


def payment_state(s: Session) -> str:
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
    typer.echo(
        f"session {s.id}: {s.status.value}, {human(s.starts_at, tz)} ({s.duration_minutes} min), "
        f"price {s.price.format()} ({payment_state(s)}), paid {s.amount_paid / 100:.2f}, "
        f"refunded {s.amount_refunded / 100:.2f}"
    )
    if s.group_slot_id is not None:
        typer.echo(f"seat {s.seat} of group {s.group_slot_id}")
    if s.refund_due:
        typer.echo(f"refund owed, being retried: {s.refund_due / 100:.2f}")
    if s.status is SessionStatus.HELD and not s.checkout_url:
        typer.echo(f"the payment link could not be made; retry with: coachbot payments retry {s.id}")
    if s.meeting_url:
        typer.echo(f"meeting: {s.meeting_url}")
    if s.checkout_url:
        typer.echo(f"pay: {s.checkout_url}")


def series_json(booked: BookedSeries, tz: str) -> dict[str, Any]:
    found = booked.series
    return {
        "id": found.id,
        "repeat": found.repeat.value,
        "count": found.count,
        "conflicts": found.conflicts.value,
        "payment": found.payment.value,
        "sessions": [session_json(s, tz) for s in booked.sessions],
        "not_free": [local(start, tz) for start in booked.not_free],
    }


def print_series(booked: BookedSeries, tz: str, as_json: bool) -> None:
    if as_json:
        emit(series_json(booked, tz))
        return
    found = booked.series
    typer.echo(f"series {found.id}: {found.repeat.value}, {len(booked.sessions)} of {found.count} sessions booked")
    for s in booked.sessions:
        print_session(s, tz, False)
    if booked.not_free:
        typer.echo("not free: " + ", ".join(human(start, tz) for start in booked.not_free))


# ---- errors -------------------------------------------------------------------------------------


def fail(message: str) -> None:
    sys.stderr.write(f"error: {message}\n")
    raise SystemExit(1)


def explain(exc: Exception) -> str | None:
    """The one line for an error a person can act on; None for anything unexpected."""
    from pydantic import ValidationError
    from sqlalchemy.exc import DBAPIError, OperationalError, ProgrammingError

    if isinstance(exc, SlotUnavailable):
        hint = ""
        if exc.alternatives:
            hint = "; nearest free: " + ", ".join(a.isoformat() for a, _ in exc.alternatives)
        return exc.message + hint
    if isinstance(exc, BookingError):
        return exc.message
    if isinstance(exc, ValidationError):
        first = exc.errors()[0]
        if not first["loc"]:  # a rule across settings, e.g. webhook mode without its secret
            return f"configuration: {first['msg'].removeprefix('Value error, ')}"
        return f"setting {'.'.join(map(str, first['loc'])).upper()}: {first['msg']}"
    if isinstance(exc, (OperationalError, ProgrammingError)):
        text = str(exc.orig).lower()
        if "no such table" in text or "does not exist" in text:
            return "the database has no schema yet: run `coachbot db upgrade`"
        return f"database error: {str(exc.orig).splitlines()[0]}"
    if isinstance(exc, DBAPIError):
        return f"database error: {str(exc.orig).splitlines()[0]}"
    if isinstance(exc, (OSError, ConnectionError)):
        return f"cannot reach a service: {exc}"
    if isinstance(exc, ValueError):  # raised while building adapters from settings
        return f"configuration: {exc}"
    return None


class Commands(TyperGroup):
    """Every command runs inside this: an error becomes one line on stderr and exit code 1."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except Exception as exc:
            message = explain(exc)
            if message is None and type(exc).__module__.startswith(("click", "typer")):
                raise  # usage errors and exits: the command-line library reports them (exit 2)
            fail(message or f"unexpected {type(exc).__name__}: {exc}")  # the last net: never a traceback
