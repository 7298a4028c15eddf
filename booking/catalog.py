"""Coaches, authors and the coach's weekly hours and date overrides."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from booking import validation as v
from booking.availability import local_to_utc
from booking.context import Context, author_of, coach_of
from booking.errors import InvalidInput, NotFound
from booking.model import (
    ACTIVE_STATUSES,
    WEEKDAYS,
    Author,
    AvailabilityRule,
    Coach,
    DateOverride,
    OverrideKind,
    Session,
)

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
# What a coach sets about when they can be booked, next to their weekly hours (replace_week).
WEEK_SETTINGS = frozenset(
    {
        "min_notice_minutes",
        "horizon_days",
        "buffer_before_minutes",
        "buffer_after_minutes",
        "durations",
        "slot_step_minutes",
    }
)
MAX_URL = 2000
MAX_OVERRIDE = timedelta(days=366)
MAX_CLASHES = 200


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
    coach.avatar_url = _web_url("avatar_url", coach.avatar_url)
    return coach


def _web_url(field: str, value: str | None) -> str | None:
    url = v.text(field, value, max_len=MAX_URL)
    if url is None:
        return None
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc or any(c.isspace() for c in url):
        raise InvalidInput(field, f"expected an http(s) address such as https://example.com/me.jpg, got {value!r}")
    return url


# ---- authors ------------------------------------------------------------------------------


async def add_author(
    ctx: Context,
    *,
    name: str,
    timezone: str,
    telegram_id: int | None = None,
    email: str | None = None,
    language: str | None = None,
) -> Author:
    author = Author(
        name=v.name("name", name),
        timezone=v.timezone("timezone", timezone),
        telegram_id=telegram_id,
        email=v.text("email", email, max_len=255),
        language=None if language is None else v.language("language", language),
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
    language: str | None = None,
) -> Author:
    changes: dict[str, Any] = {}
    if language is not None:
        changes["language"] = v.language("language", language)
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


@dataclass(frozen=True)
class WeeklyWindow:
    """One window of the weekly hours as a person enters it, on the coach's wall clock.

    `field` names the window in an InvalidInput: the error's field is f"{field}.start" or
    f"{field}.end" (default field: f"windows[{index}]"), so a form can put it on the right input."""

    weekday: str  # mon..sun (booking.validation.weekday)
    start: str  # HH:MM
    end: str  # HH:MM; 24:00 is the end of the day
    field: str | None = None


@dataclass(frozen=True)
class Week:
    coach: Coach
    rules: list[AvailabilityRule]  # all of the coach's weekly rules after the change


async def replace_week(
    ctx: Context,
    coach_id: int,
    windows: Sequence[WeeklyWindow],
    *,
    days: Iterable[str] | None = None,
    **settings: Any,
) -> Week:
    """Replace the coach's weekly windows on `days` (default: all seven; a day listed without
    windows becomes a day off) and set the booking settings in `settings` (WEEK_SETTINGS),
    in one transaction: everything is checked before anything is written, so a bad window or
    setting leaves the calendar as it was. Days not listed keep their rules. Sessions already
    booked are never touched: the weekly hours only decide which slots are offered from now on."""
    replaced = {v.weekday("days", d) for d in (WEEKDAYS if days is None else days)}
    unknown = set(settings) - WEEK_SETTINGS
    if unknown:
        raise InvalidInput(sorted(unknown)[0], "not a weekly-hours setting")
    new_rules = _checked_windows(coach_id, windows, replaced)
    async with ctx.uow() as uow:
        await uow.lock_coach(coach_id)
        coach = await coach_of(uow, coach_id)
        draft = _checked_coach(Coach(**{**{k: getattr(coach, k) for k in Coach.__dataclass_fields__}, **settings}))
        current = await uow.availability.rules(coach_id)
        for rule in current:
            if rule.weekday in replaced:
                await uow.availability.remove_rule(rule)
        for rule in new_rules:
            await uow.availability.add_rule(rule)
        for key in settings:
            setattr(coach, key, getattr(draft, key))
        kept = [r for r in current if r.weekday not in replaced]
        await uow.commit()
    return Week(coach, sorted([*kept, *new_rules], key=lambda r: (r.weekday, r.start_minute)))


def _checked_windows(coach_id: int, windows: Sequence[WeeklyWindow], days: set[int]) -> list[AvailabilityRule]:
    """The windows as rules, or InvalidInput naming the first bad window's start or end."""
    named: list[tuple[str, AvailabilityRule]] = []
    for index, window in enumerate(windows):
        name = window.field or f"windows[{index}]"
        weekday = v.weekday(f"{name}.start", window.weekday)
        if weekday not in days:
            raise InvalidInput(f"{name}.start", f"{WEEKDAYS[weekday]} is not among the days being replaced")
        start = v.hhmm(f"{name}.start", window.start)
        end = v.hhmm(f"{name}.end", window.end, allow_24=True)
        if end <= start:
            raise InvalidInput(f"{name}.end", f"must be after the start ({hm(start)})")
        named.append((name, AvailabilityRule(coach_id=coach_id, weekday=weekday, start_minute=start, end_minute=end)))
    named.sort(key=lambda item: (item[1].weekday, item[1].start_minute, item[1].end_minute))
    for (_, before), (name, rule) in zip(named, named[1:], strict=False):
        if before.overlaps(rule):
            raise InvalidInput(
                f"{name}.start", f"overlaps {hm(before.start_minute)}-{hm(before.end_minute)} on the same day"
            )
    return [rule for _, rule in named]


@dataclass(frozen=True)
class TimeOff:
    override: DateOverride
    clashes: list[Session]  # sessions already booked inside it: kept, not cancelled


async def take_time_off(
    ctx: Context,
    coach_id: int,
    *,
    first_day: date,
    last_day: date | None = None,
    start: str | None = None,
    end: str | None = None,
    reason: str | None = None,
) -> TimeOff:
    """Block the coach's calendar from `start` (HH:MM, default 00:00) on `first_day` to `end`
    (default 24:00) on `last_day` (default: the first day), on the coach's wall clock, as one
    BLOCK override (add_override). Sessions already booked in that span stay as they are; they
    come back as `clashes` so the coach can deal with them. Fields: from, to, start, end, reason."""
    last_day = last_day or first_day
    if last_day < first_day:
        raise InvalidInput("to", "is before the first day")
    start_minute = v.hhmm("start", start) if start else 0
    end_minute = v.hhmm("end", end, allow_24=True) if end else 24 * 60
    async with ctx.uow() as uow:
        tz = ZoneInfo((await coach_of(uow, coach_id)).timezone)
    # As the weekly rules read wall clocks (booking/availability.py): an ambiguous start takes its
    # earlier occurrence, an ambiguous end its later one, a time inside a DST gap the transition.
    starts_at = local_to_utc(first_day, start_minute, tz, fold=0)
    ends_at = local_to_utc(last_day, end_minute, tz, fold=1)
    if ends_at <= starts_at:
        raise InvalidInput("end", f"must be after the start ({hm(start_minute)} on {first_day:%a %d %b %Y})")
    if ends_at <= ctx.now():
        raise InvalidInput("to", "is in the past")
    if ends_at - starts_at > MAX_OVERRIDE:
        raise InvalidInput("to", "time off may span at most a year at a time")
    override = await add_override(ctx, coach_id, kind=OverrideKind.BLOCK, start=starts_at, end=ends_at, reason=reason)
    async with ctx.uow() as uow:
        clashes = await uow.sessions.find(
            coach_id=coach_id, after=starts_at, before=ends_at, statuses=ACTIVE_STATUSES, limit=MAX_CLASHES
        )
    return TimeOff(override, clashes)


async def add_override(
    ctx: Context, coach_id: int, *, kind: OverrideKind, start: datetime, end: datetime, reason: str | None = None
) -> DateOverride:
    start, end = v.instant("start", start), v.instant("end", end)
    if end <= start:
        raise InvalidInput("end", "must be after start")
    if end - start > MAX_OVERRIDE:
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
