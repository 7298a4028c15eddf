"""Waiting lists (booking/waitlist_model.py): joining when a slot, day or week is full, leaving,
and what authors and coaches read of them. The offers live in booking/waitlist_offers.py.

Joining follows the one write pattern: the coach's lock, one read of both parties and of the
calendar, the check that the want is full, the insert."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import structlog

from booking import slots
from booking import validation as v
from booking import waitlist_offers as offers
from booking.availability import local_to_utc
from booking.bookings import open_for_booking
from booking.context import Context, author_of, coach_of
from booking.errors import InvalidInput, NotAllowed, NotFound
from booking.model import Author, Coach, Interval, Session
from booking.ports import UnitOfWork
from booking.waitlist_model import EntryStatus, WaitlistEntry, WantKind, bookable_part

log = structlog.get_logger(__name__)

SLOT_WINDOW = timedelta(minutes=1)  # a slot's window: its own start and nothing after it
OFFERED_REASON = "offered from the waiting list"
DECLINED_REASON = "waiting-list offer declined"


@dataclass(frozen=True)
class Joined:
    entry: WaitlistEntry
    position: int  # 1 = first in line among the entries whose windows overlap this one
    created: bool  # False: the author was in this line already (a repeated join changes nothing)


@dataclass(frozen=True)
class Line:
    """One open entry of a coach's waiting list, with its author (for the coach's view)."""

    entry: WaitlistEntry
    author: Author
    position: int
    offer: Session | None = None  # the held session of an open offer


# ---- the window an entry waits for ---------------------------------------------------------------


def window(kind: WantKind, zone: str, *, start: datetime | None = None, day: date | None = None) -> Interval:
    """The starts a want covers: a slot's own start; the author's local day; the author's local
    week (Monday to Monday) around `day`."""
    if kind is WantKind.SLOT:
        if start is None:
            raise InvalidInput("start", "give the start of the slot to wait for")
        first = v.instant("start", start)
        return Interval(first, first + SLOT_WINDOW)
    if day is None:
        raise InvalidInput(kind.value, "give a date (YYYY-MM-DD)")
    if kind is WantKind.WEEK:
        day = day - timedelta(days=day.weekday())
    span = 7 if kind is WantKind.WEEK else 1
    tz = ZoneInfo(zone)
    return Interval(local_to_utc(day, 0, tz, fold=0), local_to_utc(day + timedelta(days=span), 0, tz, fold=0))


def _field(kind: WantKind) -> str:
    return "start" if kind is WantKind.SLOT else kind.value


# ---- joining and leaving -------------------------------------------------------------------------


async def join(
    ctx: Context,
    coach_id: int,
    author_id: int,
    kind: WantKind,
    *,
    start: datetime | None = None,
    day: date | None = None,
    duration: int | None = None,
) -> Joined:
    """Join the waiting list for a full slot, day or week (`day`: any date of that week). Refused
    while the window still has a free slot of the length (book it instead) and when the coach does
    not work then at all. Joining the same line twice returns the entry already there."""
    return await ctx.retrying(lambda: _join_once(ctx, coach_id, author_id, kind, start, day, duration))


async def _join_once(
    ctx: Context,
    coach_id: int,
    author_id: int,
    kind: WantKind,
    start: datetime | None,
    day: date | None,
    duration: int | None,
) -> Joined:
    async with ctx.uow() as uow:
        coach, author = await open_for_booking(uow, coach_id, author_id)
        assert coach.id is not None and author.id is not None
        minutes = slots.duration_of(coach, duration)
        wanted = window(kind, author.timezone, start=start, day=day)
        same = await uow.waitlist.open_entry(coach.id, author.id, kind, wanted.start, minutes)
        if same is not None:
            return Joined(same, await _position(uow, same), False)
        await _check_full(ctx, uow, coach, kind, wanted, minutes)
        now = ctx.now()
        entry = WaitlistEntry(
            coach_id=coach.id,
            author_id=author.id,
            kind=kind,
            starts_at=wanted.start,
            ends_at=wanted.end,
            duration_minutes=minutes,
            zone=author.timezone,
            created_at=now,
        )
        await uow.waitlist.add(entry)
        position = await _position(uow, entry)
        await uow.commit()
    log.info("waitlist.joined", entry_id=entry.id, coach_id=coach_id, kind=kind.value, position=position)
    return Joined(entry, position, True)


async def _check_full(
    ctx: Context, uow: UnitOfWork, coach: Coach, kind: WantKind, wanted: Interval, minutes: int
) -> None:
    name = _field(kind)
    if wanted.end <= ctx.now():
        raise InvalidInput(name, "that time is in the past")
    live = bookable_part(coach, ctx.now(), wanted)
    if live is None:
        raise InvalidInput(name, f"{coach.name} takes bookings at most {coach.horizon_days} days ahead")
    cal = await slots.calendar(ctx, uow, coach, live.start, live.end, minutes)
    if slots.compute(ctx, coach, cal, live.start, live.end, minutes):
        what = "that time is free" if kind is WantKind.SLOT else f"there are free times that {kind.value}"
        raise NotAllowed(f"{what}: book one instead of waiting")
    if not slots.compute(ctx, coach, cal, live.start, live.end, minutes, busy=[]):
        if kind is WantKind.SLOT:
            raise NotAllowed(slots.why_unavailable(ctx, coach, wanted.start))
        raise NotAllowed(f"{coach.name} has no hours to book that {kind.value}")


async def _position(uow: UnitOfWork, entry: WaitlistEntry) -> int:
    ahead = [
        e
        for e in await uow.waitlist.open_of_coach(entry.coach_id)
        if (e.id or 0) < (entry.id or 0) and e.starts_at < entry.ends_at and entry.starts_at < e.ends_at
    ]
    return len(ahead) + 1


async def leave(ctx: Context, entry_id: int, *, author_id: int | None = None) -> WaitlistEntry:
    """Leave the line (an open offer is let go to the next). Leaving twice changes nothing."""
    released: Session | None = None
    async with ctx.uow() as uow:
        entry = await offers.entry_locked(uow, entry_id, author_id)
        if entry.is_open:
            released = await offers.let_go(ctx, uow, entry, EntryStatus.LEFT, "left the waiting list")
            await uow.commit()
    await offers.after_let_go(ctx, released, entry.coach_id)
    return entry


# ---- reading -------------------------------------------------------------------------------------


async def waiting(ctx: Context, coach_id: int) -> list[Line]:
    """The coach's open entries in line order, each with its author and its open offer."""
    async with ctx.uow() as uow:
        await coach_of(uow, coach_id)
        entries = await uow.waitlist.open_of_coach(coach_id)
        found: list[Line] = []
        for entry in entries:
            ahead = sum(1 for e in found if e.entry.starts_at < entry.ends_at and entry.starts_at < e.entry.ends_at)
            offer = None
            if entry.status is EntryStatus.OFFERED and entry.session_id is not None:
                offer = await uow.sessions.get(entry.session_id)
            found.append(Line(entry, await author_of(uow, entry.author_id), ahead + 1, offer))
    return found


async def of_author(ctx: Context, author_id: int) -> list[WaitlistEntry]:
    """The author's open entries, oldest first."""
    async with ctx.uow() as uow:
        await author_of(uow, author_id)
        return await uow.waitlist.open_of_author(author_id)


async def entry(ctx: Context, entry_id: int) -> WaitlistEntry:
    async with ctx.uow() as uow:
        found = await uow.waitlist.get(entry_id)
    if found is None:
        raise NotFound("waiting-list entry", entry_id)
    return found
