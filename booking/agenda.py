"""The coach's daily agenda: at 08:00 in each coach's own zone, one message listing that day's
sessions (booking.events.DailyAgenda, for the coach's channel: Slack).

Queued by the scheduler (`queue_daily_agendas`, every tick) for every active coach with a linked
Slack user, once their local clock has reached 08:00, with due time "now". Exactly once per coach
and local day, however many instances tick and however often they restart: each message carries
the key "daily_agenda:<coach id>:<local date>", and the database's unique index on it lets one
writer in (a second insert does nothing). A day whose agenda was missed (every instance down from
08:00) is still queued until 12:00 local; after that it is skipped, as the day is under way.

What the coach reads is decided when the message is sent, from the sessions as they are then
(`day_agenda`): the scheduled and in-progress sessions starting that local day. A coach with none
gets no message: an empty "no sessions today" every morning would teach coaches to ignore the
agenda (their bookings arrive as cards anyway). An agenda that could not be sent that local day
(Slack down) is dropped rather than sent the next day."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import structlog

from booking.availability import local_to_utc
from booking.context import Context, coach_of
from booking.events import DailyAgenda, to_message
from booking.model import Author, Coach, Session, SessionStatus

log = structlog.get_logger(__name__)

AGENDA_AT = 8 * 60  # minutes after local midnight
AGENDA_UNTIL = 12 * 60  # a missed agenda is still queued until then
LISTED = frozenset({SessionStatus.SCHEDULED, SessionStatus.IN_PROGRESS})
MAX_SESSIONS = 200


@dataclass(frozen=True)
class AgendaItem:
    session: Session
    author: Author


@dataclass(frozen=True)
class DayAgenda:
    coach: Coach
    day: date
    items: list[AgendaItem]


def agenda_key(coach_id: int, day: date) -> str:
    return f"{DailyAgenda.kind}:{coach_id}:{day.isoformat()}"


def local_day(zone: str, now: datetime) -> date:
    return now.astimezone(ZoneInfo(zone)).date()


def due_day(zone: str, now: datetime) -> date | None:
    """The local date whose agenda is due at `now` in `zone` (from 08:00 to 12:00 there), else None.
    DST-correct: 08:00 is the wall clock's, whatever the offset that day."""
    tz = ZoneInfo(zone)
    day = now.astimezone(tz).date()
    if local_to_utc(day, AGENDA_AT, tz, fold=0) <= now < local_to_utc(day, AGENDA_UNTIL, tz, fold=0):
        return day
    return None


async def queue_daily_agendas(ctx: Context) -> int:
    """Queue the agendas that have fallen due and were not queued yet; how many were queued."""
    return await ctx.retrying(lambda: _queue_once(ctx))


async def _queue_once(ctx: Context) -> int:
    now = ctx.now()
    async with ctx.uow() as uow:
        due: dict[str, tuple[Coach, date]] = {}
        for coach in _linked(await uow.coaches.all(active_only=True)):
            assert coach.id is not None
            try:
                day = due_day(coach.timezone, now)
            except (ZoneInfoNotFoundError, ValueError):
                log.warning("agenda.bad_timezone", coach_id=coach.id)
                continue
            if day is not None:
                due[agenda_key(coach.id, day)] = (coach, day)
        if not due:
            return 0
        taken = await uow.outbox.keys_taken(due.keys())
        messages = [
            to_message(DailyAgenda(day), None, now, coach_id=coach.id, dedupe_key=key)
            for key, (coach, day) in due.items()
            if key not in taken
        ]
        if not messages:
            return 0
        queued = await uow.outbox.add_once(messages)
        await uow.commit()
    return queued


async def day_agenda(ctx: Context, coach_id: int, day: date) -> DayAgenda:
    """The coach's scheduled and in-progress sessions starting on their local `day`, by start,
    each with its author (read now: cancellations and new bookings since the queueing count)."""
    async with ctx.uow() as uow:
        coach = await coach_of(uow, coach_id)
        tz = ZoneInfo(coach.timezone)
        start = local_to_utc(day, 0, tz, fold=0)
        end = local_to_utc(day + timedelta(days=1), 0, tz, fold=0)
        found = await uow.sessions.find(coach_id=coach_id, after=start, before=end, statuses=LISTED, limit=MAX_SESSIONS)
        items = []
        authors: dict[int, Author] = {}
        for session in found:
            if session.starts_at < start:
                continue  # began the evening before and runs past midnight
            if session.author_id not in authors:
                author = await uow.authors.get(session.author_id)
                if author is None:
                    continue
                authors[session.author_id] = author
            items.append(AgendaItem(session, authors[session.author_id]))
    return DayAgenda(coach, day, items)


def _linked(coaches: Iterable[Coach]) -> list[Coach]:
    return [c for c in coaches if c.slack_user_id]
