"""Group sessions: a coach offers a slot with seats at a price per seat; authors take seats.

A group slot is its own availability (no weekly rule needed) and keeps the coach's 1:1 sessions
and other group slots off its time (the slot engine reads it as busy). Each seat is its own
session, paid, cancelled and refunded on its own through the usual paths; the meeting room is the
slot's, shared by every seat (booking/meetings.py).

Every write follows the one write pattern (booking/context.py): the coach's lock, the slot re-read
under it, its seats read, the check, the insert. The database is the last line: a seat number is
unique among a slot's seats that are not cancelled and lies between 1 and the slot's seats, so no
slot is sold past its count even by a writer that skipped the lock (migration 0018).
"""

from __future__ import annotations

from datetime import datetime, timedelta

import structlog

from booking import bookings
from booking import validation as v
from booking.cancellation import cancel_locked, close_checkout, settle
from booking.context import Context, coach_of
from booking.errors import (
    GroupFull,
    InvalidInput,
    InvalidTransition,
    NotAllowed,
    NotFound,
    PaymentError,
    SlotConflict,
    SlotUnavailable,
)
from booking.events import to_message
from booking.group_model import (
    MAX_MINUTES,
    MAX_SEATS,
    MIN_MINUTES,
    MIN_SEATS,
    GroupOffer,
    GroupSlot,
    GroupStatus,
    Roster,
)
from booking.holds import release_lapsed
from booking.meetings import attach_meeting
from booking.model import Actor, Author, Coach, OverrideKind, Session, SessionStatus, StatusChange
from booking.ports import UnitOfWork

log = structlog.get_logger(__name__)

MAX_PRICE = 10_000_000
MAX_AHEAD = timedelta(days=400)  # as far as an author may ask for free slots (booking/slots.py)


# ---- the coach offers a group slot --------------------------------------------------------------


async def add_group(
    ctx: Context, coach_id: int, *, start: datetime, duration: int, seats: int, price: int
) -> GroupSlot:
    """A group slot at `start`; refused when the coach's calendar is not clear then."""
    start = v.instant("start", start)
    v.int_range("duration", duration, MIN_MINUTES, MAX_MINUTES)
    v.int_range("seats", seats, MIN_SEATS, MAX_SEATS)
    v.int_range("price", price, 0, MAX_PRICE)
    if start <= ctx.now():
        raise InvalidInput("start", "must be in the future")
    if start - ctx.now() > MAX_AHEAD:
        raise InvalidInput("start", f"must be within {MAX_AHEAD.days} days")
    try:
        slot = await ctx.retrying(lambda: _add_once(ctx, coach_id, start, duration, seats, price))
    except SlotConflict:  # the coach's lock makes this rare: the database guard had the last word
        raise SlotUnavailable("that time was just taken") from None
    log.info("group.added", group_id=slot.id, coach_id=coach_id, seats=seats)
    return slot


async def _add_once(ctx: Context, coach_id: int, start: datetime, duration: int, seats: int, price: int) -> GroupSlot:
    async with ctx.uow() as uow:
        await uow.lock_coach(coach_id)
        coach = await coach_of(uow, coach_id)
        if not coach.is_active:
            raise NotAllowed(f"coach {coach.name} is not taking bookings")
        assert coach.id is not None
        end = start + timedelta(minutes=duration)
        slot = GroupSlot(
            coach_id=coach.id,
            starts_at=start,
            ends_at=end,
            blocked_from=start - coach.buffer_before,
            blocked_until=end + coach.buffer_after,
            duration_minutes=duration,
            seats=seats,
            price_amount=price,
            currency=coach.currency,
            created_at=ctx.now(),
        )
        cal = await uow.availability.calendar(coach.id, slot.blocked_from, slot.blocked_until, now=ctx.now())
        await release_lapsed(ctx, uow, cal.expired_holds)
        if any(busy.overlaps(slot.blocked) for busy in [*cal.busy, *cal.external]):
            raise SlotUnavailable(f"{coach.name} already has a session or other plans at that time")
        if any(o.kind is OverrideKind.BLOCK and o.interval.overlaps(slot.blocked) for o in cal.overrides):
            raise SlotUnavailable(f"{coach.name} has taken that time off")
        await uow.groups.add(slot)
        await uow.commit()
    return slot


# ---- authors take seats ---------------------------------------------------------------------------


async def book(
    ctx: Context,
    coach_id: int,
    author_id: int,
    start: datetime,
    *,
    duration: int | None = None,
    focus: str | None = None,
) -> Session:
    """A seat when the coach has a group slot at `start` (no duration needed), else a 1:1 session."""
    start = v.instant("start", start)
    async with ctx.uow() as uow:
        slot = await uow.groups.at(coach_id, start)
    if slot is None:
        return await bookings.book(ctx, coach_id, author_id, start, duration=duration, focus=focus)
    if duration is not None and duration != slot.duration_minutes:
        raise InvalidInput(
            "duration",
            f"the group session at that time lasts {slot.duration_minutes} minutes; leave the duration out to take a seat",
        )
    assert slot.id is not None
    return await take_seat(ctx, slot.id, author_id, focus=focus)


async def take_seat(ctx: Context, group_id: int, author_id: int, *, focus: str | None = None) -> Session:
    focus = v.text("focus", focus, max_len=1000)
    try:
        seat = await ctx.retrying(lambda: _take_once(ctx, group_id, author_id, focus))
    except SlotConflict:  # the database guard refused the seat: the last one went to someone else
        raise GroupFull() from None
    log.info("group.seat_taken", session_id=seat.id, group_id=group_id, seat=seat.seat)
    if seat.status is SessionStatus.HELD:
        return await bookings.open_checkout(ctx, seat)
    return seat if seat.meeting_url else await attach_meeting(ctx, seat)


async def _take_once(ctx: Context, group_id: int, author_id: int, focus: str | None) -> Session:
    async with ctx.uow() as uow:
        found = await uow.groups.get(group_id)
        if found is None:
            raise NotFound("group session", group_id)
        coach, author = await bookings.open_for_booking(uow, found.coach_id, author_id)
        slot = await _locked_slot(uow, group_id)
        if not slot.is_open:
            raise SlotUnavailable("this group session was cancelled")
        if slot.starts_at <= ctx.now():
            raise SlotUnavailable("this group session has already started")
        taken = await _live_seats(ctx, uow, slot)
        if any(s.author_id == author_id for s in taken):
            raise NotAllowed(f"{author.name} already has a seat in this group session")
        numbers = {s.seat for s in taken}
        free = [n for n in range(1, slot.seats + 1) if n not in numbers]
        if not free:
            raise GroupFull()
        seat, change = await _new_seat(ctx, coach, author, slot, free[0], focus)
        events = [] if seat.status is SessionStatus.HELD else bookings.confirmation(ctx, seat, author)
        messages = await ctx.pushable(uow, slot.coach_id, [to_message(event, None, due) for event, due in events])
        await uow.sessions.add_booking(seat, change, messages)
        if seat.meeting_url and not slot.meeting_url:
            slot.meeting_url = seat.meeting_url
            await uow.groups.save(slot)
        await uow.commit()
    return seat


async def _locked_slot(uow: UnitOfWork, group_id: int) -> GroupSlot:
    slot = await uow.groups.get(group_id, for_update=True)
    if slot is None:
        raise NotFound("group session", group_id)
    return slot


async def _live_seats(ctx: Context, uow: UnitOfWork, slot: GroupSlot) -> list[Session]:
    """The seats counting against the slot; lapsed holds give way at once (not at the next sweep)."""
    assert slot.id is not None
    live = []
    for seat in await uow.groups.seats(slot.id):
        if not seat.is_active:
            continue
        held = seat.status is SessionStatus.HELD
        if held and seat.hold_expires_at is not None and seat.hold_expires_at <= ctx.now():
            assert seat.id is not None
            await release_lapsed(ctx, uow, [seat.id])
            continue
        live.append(seat)
    return live


async def _new_seat(
    ctx: Context, coach: Coach, author: Author, slot: GroupSlot, number: int, focus: str | None
) -> tuple[Session, StatusChange]:
    assert coach.id is not None and author.id is not None
    now = ctx.now()
    held = ctx.payments.enabled and slot.price_amount > 0
    seat = Session(
        coach_id=coach.id,
        author_id=author.id,
        starts_at=slot.starts_at,
        ends_at=slot.ends_at,
        blocked_from=slot.blocked_from,
        blocked_until=slot.blocked_until,
        duration_minutes=slot.duration_minutes,
        status=SessionStatus.HELD if held else SessionStatus.SCHEDULED,
        price_amount=slot.price_amount,
        currency=slot.currency,
        hold_expires_at=now + timedelta(minutes=ctx.settings.hold_minutes) if held else None,
        focus=focus,
        group_slot_id=slot.id,
        seat=number,
        meeting_url=None if held else slot.meeting_url,  # the room's link is for seats paid for
        created_at=now,
        updated_at=now,
    )
    if not held and seat.meeting_url is None and ctx.video.creates_locally:
        seat.meeting_url = await ctx.video.create(seat)
    return seat, StatusChange(0, None, seat.status, Actor.AUTHOR, now, "took a seat")


async def free_seat(uow: UnitOfWork, seat: Session) -> int | None:
    """For a released seat paid late: a seat number it can have again (its own if still free),
    or None when its slot is cancelled or full, or its author has another seat there (the payment
    is then given back). Under the coach's lock."""
    assert seat.group_slot_id is not None
    slot = await uow.groups.get(seat.group_slot_id, for_update=True)
    if slot is None or not slot.is_open:
        return None
    others = [s for s in await uow.groups.seats(seat.group_slot_id) if s.is_active and s.id != seat.id]
    if any(s.author_id == seat.author_id for s in others):  # they took a seat again meanwhile
        return None
    taken = {s.seat for s in others}
    free = [n for n in range(1, slot.seats + 1) if n not in taken]
    return (seat.seat if seat.seat in free else free[0]) if free else None


# ---- reading ------------------------------------------------------------------------------------


async def group(ctx: Context, group_id: int) -> GroupOffer:
    async with ctx.uow() as uow:
        slot = await uow.groups.get(group_id)
        if slot is None:
            raise NotFound("group session", group_id)
        assert slot.id is not None
        return GroupOffer(slot, (await uow.groups.taken([slot.id], ctx.now())).get(slot.id, 0))


async def upcoming(ctx: Context, coach_id: int, *, limit: int = 50) -> list[GroupOffer]:
    """The coach's open group slots still to start, soonest first, with their seats taken."""
    async with ctx.uow() as uow:
        await coach_of(uow, coach_id)
        found = await uow.groups.upcoming(coach_id, ctx.now(), limit=limit)
        taken = await uow.groups.taken([s.id for s in found if s.id is not None], ctx.now())
    return [GroupOffer(s, taken.get(s.id or 0, 0)) for s in found]


async def roster(ctx: Context, group_id: int, *, coach_id: int | None = None) -> Roster:
    """Every seat not cancelled (lapsed holds left out), with its attendee; `coach_id`: only that
    coach's slot (the coach sees the roster, nobody else but admins)."""
    async with ctx.uow() as uow:
        slot = await uow.groups.get(group_id)
        if slot is None or (coach_id is not None and slot.coach_id != coach_id):
            raise NotFound("group session", group_id)
        now = ctx.now()
        seats = []
        for seat in await uow.groups.seats(group_id):
            lapsed = (
                seat.status is SessionStatus.HELD and seat.hold_expires_at is not None and seat.hold_expires_at <= now
            )
            if seat.status is SessionStatus.CANCELLED or lapsed:
                continue
            author = await uow.authors.get(seat.author_id)
            if author is not None:
                seats.append((seat, author))
    return Roster(slot, seats)


async def rosters(ctx: Context, coach_id: int, *, limit: int = 20) -> list[Roster]:
    """The roster of each of the coach's upcoming group slots, soonest first."""
    found = []
    for offer in await upcoming(ctx, coach_id, limit=limit):
        assert offer.slot.id is not None
        found.append(await roster(ctx, offer.slot.id, coach_id=coach_id))
    return found


# ---- the coach cancels the whole slot -------------------------------------------------------------


async def cancel_group(
    ctx: Context,
    group_id: int,
    *,
    reason: str | None = None,
    coach_id: int | None = None,
    settle_now: bool = True,
) -> tuple[GroupSlot, list[Session]]:
    """Cancel the slot and every seat still on, each paid seat refunded in full, in one
    transaction; then (`settle_group`, here unless `settle_now` is False: a chat that must answer
    within seconds runs it after answering) the refunds are paid and the shared room deleted."""
    reason = v.text("reason", reason, max_len=500)
    async with ctx.uow() as uow:
        found = await uow.groups.get(group_id)
        if found is None or (coach_id is not None and found.coach_id != coach_id):
            raise NotFound("group session", group_id)
        await uow.lock_coach(found.coach_id)
        slot = await _locked_slot(uow, group_id)
        if not slot.is_open:
            raise InvalidTransition(f"group session {group_id} is already cancelled")
        if slot.starts_at <= ctx.now():
            raise InvalidTransition(f"group session {group_id} has already started")
        targets = []
        for seat in await uow.groups.seats(group_id):
            if seat.status in (SessionStatus.HELD, SessionStatus.SCHEDULED) and seat.id is not None:
                locked = await uow.sessions.get(seat.id, for_update=True)
                if locked is not None:
                    targets.append(locked)
        stamp = ctx.now()  # the seats carry the group's instant: settle_group finds them by it
        for seat in targets:
            await cancel_locked(ctx, uow, seat, Actor.COACH, reason, full_refund=True, at=stamp)
        slot.status, slot.cancelled_at = GroupStatus.CANCELLED, stamp
        await uow.groups.save(slot)
        await uow.commit()
    log.info("group.cancelled", group_id=group_id, seats=len(targets))
    return (slot, await settle_group(ctx, group_id)) if settle_now else (slot, targets)


async def settle_group(ctx: Context, group_id: int) -> list[Session]:
    """What follows a committed group cancellation, outside its transaction: the checkouts of
    unpaid seats closed, the refunds paid (or left owed for the scheduler), the shared room
    deleted. The seats cancelled with the group, as they are now. Safe to run again."""
    async with ctx.uow() as uow:
        slot = await uow.groups.get(group_id)
        if slot is None or slot.is_open:
            return []
        assert slot.cancelled_at is not None
        since = slot.cancelled_at  # the seats cancelled with the group, not those cancelled before it
        seats = [s for s in await uow.groups.seats(group_id) if s.cancelled_at is not None and s.cancelled_at >= since]
    done = []
    for seat in seats:
        assert seat.id is not None
        if seat.amount_paid == 0 and seat.checkout_url and seat.checkout_ref and ctx.payments.enabled:
            await close_checkout(ctx, seat.checkout_ref)
        try:
            done.append(await settle(ctx, seat.id))
        except PaymentError:  # stays owed; the scheduler retries it
            done.append(seat)
    if slot.meeting_url:
        await ctx.drop_meeting(slot.meeting_url)
    return done
