"""Coaches, authors and the coach's weekly hours and date overrides."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from booking import validation as v
from booking.context import Context, author_of, coach_of
from booking.errors import InvalidInput, NotFound
from booking.model import Author, AvailabilityRule, Coach, DateOverride, OverrideKind

COACH_LIMITS = {
    "min_notice_minutes": (0, 365 * 24 * 60),
    "horizon_days": (1, 730),
    "buffer_before_minutes": (0, 24 * 60),
    "buffer_after_minutes": (0, 24 * 60),
    "years_experience": (0, 100),
}
EDITABLE_COACH_FIELDS = frozenset(Coach.__dataclass_fields__) - {
    "id",
    "created_at",
    "rating_total",
    "rating_count",
    "total_sessions",
    "slack_invite_hash",  # booking/coach_accounts.py
    "slack_invite_expires_at",
}


# ---- coaches ------------------------------------------------------------------------------


async def add_coach(ctx: Context, **fields: Any) -> Coach:
    _only_editable(fields)
    coach = _checked_coach(Coach(**{k: val for k, val in fields.items() if val is not None}))
    async with ctx.uow() as uow:
        await uow.coaches.add(coach)
        await uow.commit()
    return coach


async def update_coach(ctx: Context, coach_id: int, **changes: Any) -> Coach:
    async with ctx.uow() as uow:
        await uow.lock_coach(coach_id)  # bookings read the coach's terms under this lock
        coach = await coach_of(uow, coach_id)
        _only_editable(changes)
        draft = _checked_coach(Coach(**{**{k: getattr(coach, k) for k in Coach.__dataclass_fields__}, **changes}))
        for key in changes:
            setattr(coach, key, getattr(draft, key))
        await uow.commit()
    return coach


async def coach(ctx: Context, coach_id: int) -> Coach:
    async with ctx.uow() as uow:
        return await coach_of(uow, coach_id)


async def coaches(ctx: Context, *, active_only: bool = False) -> list[Coach]:
    async with ctx.uow() as uow:
        return await uow.coaches.all(active_only=active_only)


def _only_editable(fields: dict[str, Any]) -> None:
    unknown = set(fields) - EDITABLE_COACH_FIELDS
    if unknown:
        raise InvalidInput(sorted(unknown)[0], "not an editable coach field")


def _checked_coach(coach: Coach) -> Coach:
    coach.name = v.name("name", coach.name)
    coach.timezone = v.timezone("timezone", coach.timezone)
    coach.rate = v.rate("rate", coach.rate)
    coach.currency = v.currency("currency", coach.currency)
    coach.bio = v.text("bio", coach.bio)
    coach.specialties = v.specialties("specialty", list(coach.specialties))
    coach.credentials = [v.name("credentials", c) for c in coach.credentials]
    coach.durations = v.durations("durations", list(coach.durations))
    for key, (lo, hi) in COACH_LIMITS.items():
        value = getattr(coach, key)
        if value is not None:
            v.int_range(key.removesuffix("_minutes"), value, lo, hi)
    if coach.slot_step_minutes is not None:
        v.int_range("slot_step", coach.slot_step_minutes, 5, 8 * 60)
    return coach


# ---- authors ------------------------------------------------------------------------------


async def add_author(
    ctx: Context, *, name: str, timezone: str, telegram_id: int | None = None, email: str | None = None
) -> Author:
    author = Author(
        name=v.name("name", name),
        timezone=v.timezone("timezone", timezone),
        telegram_id=telegram_id,
        email=v.text("email", email, max_len=255),
    )
    async with ctx.uow() as uow:
        if telegram_id is not None and await uow.authors.by_telegram_id(telegram_id):
            raise InvalidInput("telegram_id", f"an author with Telegram id {telegram_id} already exists")
        await uow.authors.add(author)
        await uow.commit()
    return author


async def author(ctx: Context, author_id: int) -> Author:
    async with ctx.uow() as uow:
        return await author_of(uow, author_id)


async def author_by_telegram(ctx: Context, telegram_id: int) -> Author | None:
    async with ctx.uow() as uow:
        return await uow.authors.by_telegram_id(telegram_id)


async def update_author(
    ctx: Context,
    author_id: int,
    *,
    name: str | None = None,
    timezone: str | None = None,
    reminder_minutes: list[int] | None = None,
) -> Author:
    changes: dict[str, Any] = {}
    if name is not None:
        changes["name"] = v.name("name", name)
    if timezone is not None:
        changes["timezone"] = v.timezone("timezone", timezone)
    if reminder_minutes is not None:
        for minutes in reminder_minutes:
            v.int_range("reminder_minutes", minutes, 5, 7 * 24 * 60)
        changes["reminder_minutes"] = sorted(set(reminder_minutes), reverse=True)
    async with ctx.uow() as uow:
        found = await author_of(uow, author_id)
        for key, value in changes.items():
            setattr(found, key, value)
        await uow.commit()
    return found


# ---- weekly hours and date overrides -----------------------------------------------------


async def add_rule(ctx: Context, coach_id: int, *, weekday: str, start: str, end: str) -> AvailabilityRule:
    rule = AvailabilityRule(
        coach_id=coach_id,
        weekday=v.weekday("weekday", weekday),
        start_minute=v.hhmm("start", start),
        end_minute=v.hhmm("end", end, allow_24=True),
    )
    if rule.end_minute <= rule.start_minute:
        raise InvalidInput("end", f"must be after start ({start})")
    async with ctx.uow() as uow:
        await uow.lock_coach(coach_id)  # the write pattern: calendar changes take the coach's lock first
        await coach_of(uow, coach_id)
        for other in await uow.availability.rules(coach_id):
            if other.overlaps(rule):
                raise InvalidInput(
                    "start", f"overlaps the existing rule {other.id} ({hm(other.start_minute)}-{hm(other.end_minute)})"
                )
        await uow.availability.add_rule(rule)
        await uow.commit()
    return rule


async def rules(ctx: Context, coach_id: int) -> list[AvailabilityRule]:
    async with ctx.uow() as uow:
        await coach_of(uow, coach_id)
        return await uow.availability.rules(coach_id)


async def remove_rule(ctx: Context, coach_id: int, rule_id: int) -> None:
    async with ctx.uow() as uow:
        await uow.lock_coach(coach_id)
        rule = next((r for r in await uow.availability.rules(coach_id) if r.id == rule_id), None)
        if rule is None:
            raise NotFound(f"availability rule of coach {coach_id}", rule_id)
        await uow.availability.remove_rule(rule)
        await uow.commit()


async def add_override(
    ctx: Context, coach_id: int, *, kind: OverrideKind, start: datetime, end: datetime, reason: str | None = None
) -> DateOverride:
    start, end = v.instant("start", start), v.instant("end", end)
    if end <= start:
        raise InvalidInput("end", "must be after start")
    if end - start > timedelta(days=366):
        raise InvalidInput("end", "an override may span at most a year")
    override = DateOverride(coach_id, kind, start, end, v.text("reason", reason, max_len=500))
    async with ctx.uow() as uow:
        await uow.lock_coach(coach_id)
        await coach_of(uow, coach_id)
        await uow.availability.add_override(override)
        await uow.commit()
    return override


def hm(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"
