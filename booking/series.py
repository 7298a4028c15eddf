"""Recurring series: N weekly or fortnightly sessions booked in one step, and cancelling "this
one" or "this and all following".

Booking a series follows the one write pattern (booking/context.py) once for the whole series:
the coach's lock, one calendar read reaching the last occurrence, every occurrence checked by the
slot engine (with the series' earlier occurrences counted as busy), all inserted, one commit. So
a refused series books nothing, and no other booking can slip in between two occurrences.
"""

from __future__ import annotations

import enum
import itertools
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import structlog

from booking import credits, recurrence, rescheduling, series_news, slots
from booking import validation as v
from booking.availability import local_to_utc
from booking.bookings import new_booking, open_checkout, open_for_booking
from booking.cancellation import CANCELLABLE, cancel_locked, check_owner, close_checkout, settle
from booking.context import Context, coach_of
from booking.errors import InvalidInput, NotFound, PaymentError, SlotConflict, SlotTaken
from booking.holds import release_lapsed
from booking.meetings import attach_meeting
from booking.model import Actor, Interval, Session, SessionStatus
from booking.ports import UnitOfWork
from booking.rescheduling import move_locked
from booking.series_model import Conflicts, Repeat, Series, SeriesPayment

log = structlog.get_logger(__name__)


class Scope(str, enum.Enum):
    ONE = "one"
    FOLLOWING = "following"  # this occurrence and every later one of its series


@dataclass
class BookedSeries:
    series: Series
    sessions: list[Session]
    not_free: list[datetime] = field(default_factory=list)  # occurrences skipped or passed over


async def book_series(
    ctx: Context,
    coach_id: int,
    author_id: int,
    first: datetime,
    *,
    repeat: Repeat,
    count: int,
    conflicts: Conflicts = Conflicts.REFUSE,
    duration: int | None = None,
    focus: str | None = None,
) -> BookedSeries:
    first = v.instant("start", first)
    v.int_range("count", count, 2, recurrence.MAX_OCCURRENCES)
    focus = v.text("focus", focus, max_len=1000)
    try:
        booked = await ctx.retrying(
            lambda: _book_once(ctx, coach_id, author_id, first, repeat, count, conflicts, duration, focus)
        )
    except SlotConflict:  # the coach's lock makes this rare: the database guard had the last word
        raise SlotTaken() from None
    log.info("series.booked", series_id=booked.series.id, coach_id=coach_id, sessions=len(booked.sessions))
    return await _after_commit(ctx, booked)


async def _book_once(
    ctx: Context,
    coach_id: int,
    author_id: int,
    first: datetime,
    repeat: Repeat,
    count: int,
    conflicts: Conflicts,
    duration: int | None,
    focus: str | None,
) -> BookedSeries:
    async with ctx.uow() as uow:
        coach, author = await open_for_booking(uow, coach_id, author_id)
        minutes = slots.duration_of(coach, duration)
        horizon = ctx.now() + timedelta(days=coach.horizon_days)
        reach = horizon if conflicts is Conflicts.APPEND else first + timedelta(weeks=repeat.weeks * count)
        cal = await slots.calendar(ctx, uow, coach, first, max(first, min(reach, horizon)) + slots.PROBE, minutes)
        await release_lapsed(ctx, uow, cal.expired_holds)

        def slot_at(start: datetime, chosen: list[Interval]) -> Interval | None:
            mine = [Interval(s.start - coach.buffer_before, s.end + coach.buffer_after) for s in chosen]
            return slots.slot_at(ctx, coach, cal, start, minutes, busy=[*cal.busy, *mine])

        zone = ZoneInfo(coach.timezone)
        found = recurrence.plan(
            recurrence.occurrences(first, coach.timezone, repeat),
            count,
            conflicts,
            slot_at,
            until=horizon,
            describe=lambda s: f"{s.astimezone(zone):%a %Y-%m-%d %H:%M} {s.astimezone(zone).tzname()}",
        )
        assert coach.id is not None and author.id is not None
        series = await uow.series.add(
            Series(coach.id, author.id, repeat, count, conflicts, ctx.settings.series_payment, created_at=ctx.now())
        )
        # Credits first: each occurrence, in time order, is paid by the matching credit that
        # expires first among those left (credit_model.plan); the ones no credit covers are paid
        # through checkout (one for the series or one each, per SERIES_PAYMENT).
        lots = await credits.plan_for(ctx, uow, author.id, coach.id, minutes, [slot.start for slot in found.slots])
        booked = []
        for slot, lot in zip(found.slots, lots, strict=True):
            session, change, messages = await new_booking(
                ctx, coach, author, slot, minutes, focus, credit=lot is not None, series_id=series.id
            )
            messages = await ctx.pushable(uow, coach.id, messages)
            booked.append(await uow.sessions.add_booking(session, change, messages))
            if lot is not None:
                await credits.spend(ctx, uow, lot, session)
        await series_news.announce_if_settled(ctx, uow, booked[0])
        await uow.commit()
    return BookedSeries(series, booked, found.not_free)


@dataclass(frozen=True)
class Preview:
    """What booking a series would do now, for the author to choose before anything is held:
    the occurrences asked for, those of them not free (or past the coach's horizon), and with
    Conflicts.APPEND the occurrences that would be booked instead. Read without the coach's
    lock: booking the series decides again under it."""

    starts: list[datetime]
    not_free: list[datetime]
    appended: list[datetime]

    @property
    def free(self) -> list[datetime]:
        return [s for s in self.starts if s not in self.not_free]


async def preview(
    ctx: Context, coach_id: int, first: datetime, *, repeat: Repeat, count: int, duration: int | None = None
) -> Preview:
    first = v.instant("start", first)
    v.int_range("count", count, 2, recurrence.MAX_OCCURRENCES)
    async with ctx.uow() as uow:
        coach = await coach_of(uow, coach_id)
        minutes = slots.duration_of(coach, duration)
        horizon = ctx.now() + timedelta(days=coach.horizon_days)
        cal = await slots.calendar(ctx, uow, coach, first, max(first, horizon) + slots.PROBE, minutes)
    starts = list(itertools.islice(recurrence.occurrences(first, coach.timezone, repeat), count))

    def slot_at(start: datetime, chosen: list[Interval]) -> Interval | None:  # lapsed holds are not busy
        mine = [Interval(s.start - coach.buffer_before, s.end + coach.buffer_after) for s in chosen]
        return slots.slot_at(ctx, coach, cal, start, minutes, busy=[*cal.busy, *mine])

    def planned(conflicts: Conflicts) -> recurrence.Plan:
        try:
            found = recurrence.occurrences(first, coach.timezone, repeat)
            return recurrence.plan(found, count, conflicts, slot_at, until=horizon)
        except recurrence.SeriesUnavailable as exc:
            return recurrence.Plan([], exc.not_free)

    skipped = planned(Conflicts.SKIP)
    booked = {slot.start for slot in skipped.slots}
    not_free = [s for s in starts if s not in booked]
    appended = [slot.start for slot in planned(Conflicts.APPEND).slots if slot.start > starts[-1]]
    return Preview(starts, not_free, appended if not_free else [])


async def _after_commit(ctx: Context, booked: BookedSeries) -> BookedSeries:
    """Payment links or meeting rooms, outside the lock (as for one booking)."""
    held = [s for s in booked.sessions if s.status is SessionStatus.HELD]
    done: list[Session] = []
    for s in booked.sessions:
        if s.status is not SessionStatus.HELD:  # paid by a credit, or nothing to pay
            done.append(s if s.meeting_url else await attach_meeting(ctx, s))
        elif booked.series.payment is SeriesPayment.PER_SESSION:
            done.append(await open_checkout(ctx, s))
        elif s is held[0]:  # the first held occurrence carries the series' one checkout
            done.append(await open_checkout(ctx, s, quantity=len(held)))
        else:
            done.append(s)
    booked.sessions = done
    return booked


async def series_of(ctx: Context, series_id: int) -> tuple[Series, list[Session]]:
    async with ctx.uow() as uow:
        series = await uow.series.get(series_id)
        if series is None:
            raise NotFound("series", series_id)
        return series, await uow.series.sessions(series_id)


async def later_occurrences(ctx: Context, session_id: int) -> list[Session]:
    """The occurrences after this one still to come (what "this and all following" would take
    with it), read without locks for a question to the author or coach."""
    async with ctx.uow() as uow:
        chosen = await uow.sessions.get(session_id)
        if chosen is None:
            raise NotFound("session", session_id)
        if chosen.series_id is None:
            return []
        occurrences = await uow.series.sessions(chosen.series_id)
    return [s for s in occurrences if s.id != chosen.id and s.starts_at > chosen.starts_at and s.status in CANCELLABLE]


async def cancel(
    ctx: Context,
    session_id: int,
    *,
    by: Actor,
    scope: Scope = Scope.ONE,
    reason: str | None = None,
    author_id: int | None = None,
    coach_id: int | None = None,
    settle_now: bool = True,
) -> list[Session]:
    """Cancel one occurrence, or it and every later active one of its series, in one transaction
    (a cut-off that refuses any of them refuses all). Each refund follows the policy on its own.
    `settle_now=False`: the caller runs cancellation.settle for each once it has answered."""
    reason = v.text("reason", reason, max_len=500)
    async with ctx.uow() as uow:
        chosen = await ctx.lock_session(uow, session_id)
        check_owner(chosen, by, author_id, coach_id)
        targets = [chosen]
        if scope is Scope.FOLLOWING:
            if chosen.series_id is None:
                raise InvalidInput("scope", f"session {session_id} is not part of a series")
            targets += await _following(uow, chosen)
        befores = [await cancel_locked(ctx, uow, session, by, reason) for session in targets]
        await uow.commit()
    for session, before in zip(targets, befores, strict=True):
        if before is SessionStatus.HELD and session.checkout_ref and ctx.payments.enabled:
            await close_checkout(ctx, session.checkout_ref)
    if SessionStatus.HELD in befores and chosen.series_id is not None:
        await _checkout_again(ctx, chosen.series_id)
    if not settle_now:
        return targets
    done = []
    for session in targets:
        assert session.id is not None
        try:
            done.append(await settle(ctx, session.id))
        except PaymentError:  # stays owed; the scheduler retries it
            done.append(session)
    return done


async def _checkout_again(ctx: Context, series_id: int) -> None:
    """A series paid at once lost an unpaid date: its one checkout asked for the old total (a
    payment of it would be refunded whole), or was the cancelled date's own. Close it and open one
    for the dates still held, on the first of them."""
    series, occurrences = await series_of(ctx, series_id)
    held = [s for s in occurrences if s.status is SessionStatus.HELD]
    if series.payment is not SeriesPayment.PER_SERIES or not held or not ctx.payments.enabled:
        return
    for s in held:
        if s.checkout_ref and s.checkout_url:
            await close_checkout(ctx, s.checkout_ref)
    lead = held[0]
    assert lead.id is not None
    async with ctx.uow() as uow:
        fresh = await ctx.lock_session(uow, lead.id)
        if fresh.status is not SessionStatus.HELD:
            return  # paid or released meanwhile
        fresh.checkout_url = None  # until the new one is made: "Get payment link" meanwhile
        await uow.sessions.save(fresh)
        await uow.commit()
    await open_checkout(ctx, fresh, quantity=len(held))


async def reschedule(
    ctx: Context,
    session_id: int,
    new_start: datetime,
    *,
    by: Actor = Actor.AUTHOR,
    scope: Scope = Scope.ONE,
    author_id: int | None = None,
) -> list[Session]:
    """Move one occurrence (booking/rescheduling.py moves it in place: nothing else is booked),
    or it and every later one to the same new weekday and wall time in the coach's zone, all in
    one transaction: if any later occurrence's new time is not free, none moves."""
    if scope is Scope.ONE:
        return [await rescheduling.reschedule(ctx, session_id, new_start, by=by, author_id=author_id)]
    new_start = v.instant("start", new_start)
    try:
        moved, old_urls = await ctx.retrying(lambda: _move_following(ctx, session_id, new_start, by, author_id))
    except SlotConflict:
        raise SlotTaken() from None
    for url in old_urls:
        await ctx.drop_meeting(url)
    return [await attach_meeting(ctx, s) for s in moved]


async def _move_following(
    ctx: Context, session_id: int, new_start: datetime, by: Actor, author_id: int | None
) -> tuple[list[Session], list[str]]:
    async with ctx.uow() as uow:
        chosen = await ctx.lock_session(uow, session_id)
        check_owner(chosen, by, author_id)
        if chosen.series_id is None:
            raise InvalidInput("scope", f"session {session_id} is not part of a series")
        targets = [chosen, *await _following(uow, chosen)]
        for session in targets:
            session.check_movable()
            ctx.policy.check_reschedule(session, by, ctx.now())
        coach = await coach_of(uow, chosen.coach_id)
        zone = ZoneInfo(coach.timezone)
        shift = new_start.astimezone(zone).date() - chosen.starts_at.astimezone(zone).date()
        local = new_start.astimezone(zone)
        starts = [
            local_to_utc(s.starts_at.astimezone(zone).date() + shift, local.hour * 60 + local.minute, zone, fold=0)
            for s in targets
        ]
        minutes = chosen.duration_minutes
        cal = await slots.calendar(ctx, uow, coach, min(starts), max(starts) + slots.PROBE, minutes)
        await release_lapsed(ctx, uow, cal.expired_holds)
        leaving = {s.blocked for s in targets}
        busy = [b for b in cal.busy if b not in leaving]  # the series' own old times are free to it
        new_slots: list[Interval] = []
        not_free = []
        for start in starts:
            mine = [Interval(n.start - coach.buffer_before, n.end + coach.buffer_after) for n in new_slots]
            slot = slots.slot_at(ctx, coach, cal, start, minutes, busy=[*busy, *mine])
            if slot is None:
                not_free.append(start)
            else:
                new_slots.append(slot)
        if not_free:
            raise recurrence.SeriesUnavailable(
                "not every session of the series is free at the new time: "
                + ", ".join(f"{s.astimezone(zone):%a %Y-%m-%d %H:%M} {s.astimezone(zone).tzname()}" for s in not_free),
                not_free,
            )
        pairs = list(zip(targets, new_slots, strict=True))
        if new_start > chosen.starts_at:  # move the last first, so no occurrence lands on one not yet moved
            pairs.reverse()
        old_urls = [url for session, slot in pairs if (url := await move_locked(ctx, uow, session, coach, slot, by))]
        await uow.commit()
    return targets, old_urls


async def _following(uow: UnitOfWork, chosen: Session) -> list[Session]:
    """The later occurrences still to come, each re-read under its row lock (the coach's is held)."""
    assert chosen.series_id is not None
    later = []
    for s in await uow.series.sessions(chosen.series_id):
        if s.id != chosen.id and s.starts_at > chosen.starts_at and s.status in CANCELLABLE:
            assert s.id is not None
            locked = await uow.sessions.get(s.id, for_update=True)
            if locked is not None:
                later.append(locked)
    return later


# ---- one payment for a whole series -----------------------------------------------------------
