"""Waiting-list offers (booking/waitlist_model.py): the round that offers freed slots to the first
in line, and taking ("Book it") or declining ("No thanks") an offer.

The offers of one coach are made in one transaction of the one write pattern (the coach's lock
first), entries in line order, so two instances never offer one slot twice: the second waits for
the coach's lock and then sees the first's held session as busy (and the database guard refuses
an overlapping hold in any case). A round looks first without the lock; only a coach with
something to do is locked and looked at again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

import structlog

from booking import credits, slots
from booking.bookings import confirmation, open_checkout, queue, retry_checkout
from booking.cancellation import close_checkout
from booking.context import Context, author_of
from booking.errors import InvalidTransition, NotAllowed, NotFound
from booking.events import WaitlistOffer, to_message
from booking.holds import release_hold, release_lapsed
from booking.meetings import attach_meeting
from booking.model import ACTIVE_STATUSES, Actor, Coach, Interval, Session, SessionStatus, StatusChange
from booking.ports import UnitOfWork
from booking.waitlist_model import EntryStatus, WaitlistEntry, bookable_part

log = structlog.get_logger(__name__)

DAY = timedelta(days=1)
OFFERED_REASON = "offered from the waiting list"
DECLINED_REASON = "waiting-list offer declined"


@dataclass
class Round:
    """What one offer round did for one coach."""

    offered: list[int] = field(default_factory=list)  # the held sessions offered
    booked: int = 0
    passed: int = 0
    expired: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.offered or self.booked or self.passed or self.expired)


# ---- offers --------------------------------------------------------------------------------------


async def offer_freed(ctx: Context) -> dict[str, int]:
    """The scheduler's round over every coach with an open waiting list: lapsed offers passed on,
    taken ones marked booked, passed windows expired, and each slot that has freed up offered to
    the first in line. Each coach is first looked at without the lock; only a coach with
    something to do is locked and looked at again."""
    async with ctx.uow() as uow:
        coach_ids = await uow.waitlist.coaches_waiting()
    counts = {"offered": 0, "booked": 0, "passed": 0, "expired": 0}
    for coach_id in coach_ids:
        try:
            done = await offer_for_coach(ctx, coach_id)
        except Exception:  # one coach's failure never starves the others
            log.exception("waitlist.round_failed", coach_id=coach_id)
            continue
        counts["offered"] += len(done.offered)
        counts["booked"] += done.booked
        counts["passed"] += done.passed
        counts["expired"] += done.expired
    return counts


async def offer_for_coach(ctx: Context, coach_id: int) -> Round:
    async with ctx.uow() as uow:
        planned = await _round(ctx, uow, coach_id, write=False)
    if not planned.changed:
        return planned
    done = await ctx.retrying(lambda: _locked_round(ctx, coach_id))
    for session_id in done.offered:  # the payment link, outside the lock (the offer shows it once made)
        await _open_checkout(ctx, session_id)
    if done.offered:
        log.info("waitlist.offered", coach_id=coach_id, sessions=done.offered)
    return done


async def _locked_round(ctx: Context, coach_id: int) -> Round:
    async with ctx.uow() as uow:
        await uow.lock_coach(coach_id)
        done = await _round(ctx, uow, coach_id, write=True)
        if done.changed:
            await uow.commit()
    return done


async def _round(ctx: Context, uow: UnitOfWork, coach_id: int, *, write: bool) -> Round:
    """One coach's round. With `write` False it only finds out whether there is anything to do
    (nothing is written and no lock is needed); with `write` True the caller holds the lock."""
    done = Round()
    coach = await uow.coaches.get(coach_id)
    if coach is None:
        return done
    now = ctx.now()
    entries = await uow.waitlist.open_of_coach(coach_id)
    waiting: list[WaitlistEntry] = []
    for entry in entries:
        if entry.status is EntryStatus.OFFERED:
            await _settle_offer(ctx, uow, entry, done, write=write)
        elif entry.ends_at <= now:
            done.expired += 1
            if write:
                entry.close(EntryStatus.EXPIRED, now)
                await uow.waitlist.save(entry)
        elif await _booked_meanwhile(uow, entry):
            done.booked += 1
            if write:
                entry.close(EntryStatus.BOOKED, now)
                await uow.waitlist.save(entry)
        else:
            waiting.append(entry)
    if not coach.is_active:
        return done
    wanted = [(e, live) for e in waiting if (live := bookable_part(coach, ctx.now(), Interval(e.starts_at, e.ends_at)))]
    if not wanted:
        return done
    span = Interval(min(live.start for _, live in wanted), max(live.end for _, live in wanted))
    longest = max(e.duration_minutes for e, _ in wanted)
    cal = await slots.calendar(ctx, uow, coach, span.start, span.end, longest)
    if write:
        await release_lapsed(ctx, uow, cal.expired_holds)  # as for a booking
    busy = list(cal.busy)
    taken: dict[int, list[Interval]] = {}  # each author's own active sessions
    for entry, live in wanted:
        if entry.author_id not in taken:
            taken[entry.author_id] = await _own_sessions(uow, entry.author_id, coach_id, span)
        free = slots.compute(ctx, coach, cal, live.start, live.end, entry.duration_minutes, busy=busy)
        slot = next((s for s in free if not any(s.overlaps(mine) for mine in taken[entry.author_id])), None)
        if slot is None:
            continue
        held = _held(ctx, coach, entry, slot)
        busy.append(held.blocked)
        taken[entry.author_id].append(Interval(held.starts_at, held.ends_at))
        if not write:
            done.offered.append(0)
            continue
        await _offer(ctx, uow, entry, held)
        assert held.id is not None
        done.offered.append(held.id)
    return done


async def _settle_offer(ctx: Context, uow: UnitOfWork, entry: WaitlistEntry, done: Round, *, write: bool) -> None:
    """An open offer whose session has moved on: paid (booked), or cancelled or lapsed (passed:
    the slot goes to the next in line in this same round)."""
    now = ctx.now()
    assert entry.session_id is not None  # an offered entry has its session
    session = await uow.sessions.get(entry.session_id, for_update=write)
    if session is None:
        return
    lapsed = session.status is SessionStatus.HELD and (session.hold_expires_at or now) <= now
    if session.status is SessionStatus.HELD and not lapsed:
        return
    outcome = EntryStatus.PASSED if lapsed or session.status is SessionStatus.CANCELLED else EntryStatus.BOOKED
    if outcome is EntryStatus.BOOKED:
        done.booked += 1
    else:
        done.passed += 1
    if not write:
        return
    if lapsed:
        await release_hold(ctx, uow, session, "hold expired")
    entry.close(outcome, now)
    await uow.waitlist.save(entry)


async def _own_sessions(uow: UnitOfWork, author_id: int, coach_id: int, span: Interval) -> list[Interval]:
    """The times the author cannot be offered: their own active sessions, and this coach's offers
    they let go (declined or lapsed), so a slot they passed on goes to the next in line rather than
    back to them through another of their entries."""
    after, before = span.start - DAY, span.end + DAY
    mine = await uow.sessions.find(author_id=author_id, after=after, before=before, statuses=ACTIVE_STATUSES)
    gone = await uow.sessions.find(
        author_id=author_id,
        coach_id=coach_id,
        after=after,
        before=before,
        statuses=frozenset({SessionStatus.CANCELLED}),
    )
    passed = [s for s in gone if s.id is not None and await _was_offer(uow, s.id)]
    return [Interval(s.starts_at, s.ends_at) for s in [*mine, *passed]]


async def _booked_meanwhile(uow: UnitOfWork, entry: WaitlistEntry) -> bool:
    """Whether the author booked, since joining, a session with this coach inside what they wait
    for (they saw it free and took it): the entry has what it waited for."""
    booked = await uow.sessions.find(
        author_id=entry.author_id,
        coach_id=entry.coach_id,
        after=entry.starts_at,
        before=entry.ends_at,
        statuses=frozenset({SessionStatus.SCHEDULED}),
    )
    joined = entry.created_at
    return any(
        s.group_slot_id is None  # a seat in a group is not the 1:1 session they wait for
        and s.starts_at >= entry.starts_at
        and joined is not None
        and s.created_at is not None
        and s.created_at > joined
        for s in booked
    )


def _held(ctx: Context, coach: Coach, entry: WaitlistEntry, slot: Interval) -> Session:
    now = ctx.now()
    price = coach.price_for(entry.duration_minutes)
    return Session(
        coach_id=entry.coach_id,
        author_id=entry.author_id,
        starts_at=slot.start,
        ends_at=slot.end,
        blocked_from=slot.start - coach.buffer_before,
        blocked_until=slot.end + coach.buffer_after,
        duration_minutes=entry.duration_minutes,
        status=SessionStatus.HELD,
        price_amount=price.amount,
        currency=price.currency,
        hold_expires_at=now + timedelta(minutes=ctx.settings.waitlist_hold_minutes),
        created_at=now,
        updated_at=now,
    )


async def _offer(ctx: Context, uow: UnitOfWork, entry: WaitlistEntry, held: Session) -> None:
    assert entry.id is not None and held.hold_expires_at is not None
    now = ctx.now()
    change = StatusChange(0, None, SessionStatus.HELD, Actor.SYSTEM, now, OFFERED_REASON)
    await uow.sessions.add_booking(held, change, [to_message(WaitlistOffer(entry.id, held.hold_expires_at), None, now)])
    assert held.id is not None
    entry.offer(held.id, now)
    await uow.waitlist.save(entry)


async def was_offered(ctx: Context, session_id: int) -> bool:
    """Whether the session was held as a waiting-list offer (its first change says so)."""
    async with ctx.uow() as uow:
        return await _was_offer(uow, session_id)


async def _was_offer(uow: UnitOfWork, session_id: int) -> bool:
    history = await uow.sessions.history(session_id)
    return bool(history) and history[0].reason == OFFERED_REASON


async def _open_checkout(ctx: Context, session_id: int) -> None:
    async with ctx.uow() as uow:
        session = await uow.sessions.get(session_id)
    if session is None or session.status is not SessionStatus.HELD or not _needs_payment(ctx, session):
        return
    if await credits.covered(ctx, session.author_id, session.coach_id, session.duration_minutes, [session.starts_at]):
        return  # "Book it" spends the author's credit: no payment page that would bypass it
    await open_checkout(ctx, session)


def _needs_payment(ctx: Context, session: Session) -> bool:
    return ctx.payments.enabled and session.price_amount > 0


# ---- taking an offer -----------------------------------------------------------------------------


async def accept(ctx: Context, entry_id: int, *, author_id: int | None = None) -> Session:
    """ "Book it": the offered session is booked with a matching credit if the author has one, or at
    once when there is nothing to pay; otherwise it stays held and comes back with its payment link.
    Tapping it again after booking shows the booking."""
    async with ctx.uow() as uow:
        entry = await entry_locked(uow, entry_id, author_id)
        if entry.session_id is None:
            raise InvalidTransition("there is no offer on this waiting-list entry yet")
        session = await uow.sessions.get(entry.session_id, for_update=True)
        if session is None:
            raise NotFound("session", entry.session_id)
        if session.status is not SessionStatus.HELD:
            if session.status is SessionStatus.CANCELLED:
                raise InvalidTransition("this offer has lapsed and went to the next in line")
            return session  # booked already
        if entry.status is not EntryStatus.OFFERED or (session.hold_expires_at or ctx.now()) <= ctx.now():
            raise InvalidTransition("this offer has lapsed and went to the next in line")
        coach = await uow.coaches.get(session.coach_id)
        if coach is None:
            raise NotFound("coach", session.coach_id)
        if not coach.is_active:
            raise NotAllowed(f"coach {coach.name} is not taking bookings")
        unpaid_checkout = session.checkout_ref
        lot = await credits.credit_for(
            ctx, uow, session.author_id, session.coach_id, session.duration_minutes, session.starts_at
        )
        if lot is None and _needs_payment(ctx, session):
            pay_later = True
        else:
            pay_later = False
            if lot is not None:
                session.price_amount = 0
                await credits.spend(ctx, uow, lot, session)
            session.pay(0, None, ctx.now())
            await ctx.record_change(uow, session, SessionStatus.HELD, Actor.AUTHOR, "booked from the waiting list")
            await uow.sessions.save(session)
            entry.close(EntryStatus.BOOKED, ctx.now())
            await uow.waitlist.save(entry)
            await queue(ctx, uow, session, confirmation(ctx, session, await author_of(uow, session.author_id)))
            await uow.commit()
    assert session.id is not None
    if pay_later:
        return await retry_checkout(ctx, session.id)
    if unpaid_checkout and ctx.payments.enabled:  # paid by credit: its payment page must not take money too
        await close_checkout(ctx, unpaid_checkout)
    return session if session.meeting_url else await attach_meeting(ctx, session)


# ---- declining, and letting an offer go ---------------------------------------------------------


async def decline(ctx: Context, entry_id: int, *, author_id: int | None = None) -> WaitlistEntry:
    """ "No thanks" to an offer: the held slot goes to the next in line at once."""
    released: Session | None = None
    async with ctx.uow() as uow:
        entry = await entry_locked(uow, entry_id, author_id)
        if entry.status is EntryStatus.OFFERED:
            released = await let_go(ctx, uow, entry, EntryStatus.PASSED, DECLINED_REASON)
            await uow.commit()
        elif entry.status is EntryStatus.BOOKED:
            raise InvalidTransition("you booked this time already; cancel it from your sessions")
    await after_let_go(ctx, released, entry.coach_id)
    return entry


async def entry_locked(uow: UnitOfWork, entry_id: int, author_id: int | None) -> WaitlistEntry:
    found = await uow.waitlist.get(entry_id)
    if found is None:
        raise NotFound("waiting-list entry", entry_id)
    if author_id is not None and found.author_id != author_id:
        raise NotAllowed("this waiting-list entry belongs to another author")
    await uow.lock_coach(found.coach_id)
    entry = await uow.waitlist.get(entry_id, for_update=True)
    assert entry is not None  # entries are never deleted
    return entry


async def let_go(
    ctx: Context, uow: UnitOfWork, entry: WaitlistEntry, status: EntryStatus, reason: str
) -> Session | None:
    """Close an open entry; its offer's hold, if still held, is cancelled (nothing was paid)."""
    released = None
    if entry.status is EntryStatus.OFFERED and entry.session_id is not None:
        session = await uow.sessions.get(entry.session_id, for_update=True)
        if session is not None and session.status is SessionStatus.HELD:
            session.cancel(Actor.AUTHOR, reason, 0, ctx.now())
            await ctx.record_change(uow, session, SessionStatus.HELD, Actor.AUTHOR, reason)
            await uow.sessions.save(session)
            released = session
        elif session is not None and session.status is not SessionStatus.CANCELLED:
            status = EntryStatus.BOOKED  # paid meanwhile: it is booked, whatever was tapped
    entry.close(status, ctx.now())
    await uow.waitlist.save(entry)
    return released


async def after_let_go(ctx: Context, released: Session | None, coach_id: int) -> None:
    if released is None:
        return
    if released.checkout_ref and ctx.payments.enabled:
        await close_checkout(ctx, released.checkout_ref)
    await offer_for_coach(ctx, coach_id)
