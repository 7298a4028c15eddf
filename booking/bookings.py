"""Booking a slot, and what follows it: the checkout for a paid session, its confirmation when
the payment arrives, and the confirmation and reminders an author receives.

Booking follows the one write pattern (booking/context.py): the coach's lock, one read of both
parties, one calendar read, the slot engine's check, the insert.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import structlog

from booking import credits, series_news, slots
from booking import validation as v
from booking.context import Context, author_of, coach_of, session_of
from booking.errors import (
    InvalidTransition,
    NotAllowed,
    NotFound,
    PaymentError,
    SlotConflict,
    SlotTaken,
    SlotUnavailable,
)
from booking.events import CalendarChanged, Event, Recipient, Reminder, SessionConfirmed, StartingNow, to_message
from booking.holds import release_lapsed
from booking.meetings import attach_meeting
from booking.model import (
    DEFAULT_REMINDER_MINUTES,
    Actor,
    Author,
    Coach,
    Interval,
    Money,
    OutboxMessage,
    Session,
    SessionStatus,
    StatusChange,
)
from booking.ports import UnitOfWork
from booking.refunds import record_payment
from booking.series_model import SeriesPayment

log = structlog.get_logger(__name__)


async def book(
    ctx: Context,
    coach_id: int,
    author_id: int,
    start: datetime,
    *,
    duration: int | None = None,
    focus: str | None = None,
) -> Session:
    start = v.instant("start", start)
    focus = v.text("focus", focus, max_len=1000)
    try:
        session = await ctx.retrying(lambda: _book_once(ctx, coach_id, author_id, start, duration, focus))
    except SlotConflict:
        raise SlotTaken(await slots.alternatives(ctx, coach_id, start, duration)) from None
    except SlotUnavailable as exc:
        exc.alternatives = await slots.alternatives(ctx, coach_id, start, duration)
        raise
    log.info("session.booked", session_id=session.id, coach_id=coach_id, status=session.status.value)
    if session.status is SessionStatus.HELD:
        return await open_checkout(ctx, session)
    return session if session.meeting_url else await attach_meeting(ctx, session)


async def open_for_booking(uow: UnitOfWork, coach_id: int, author_id: int) -> tuple[Coach, Author]:
    """The first steps of every booking transaction: the coach's lock, then the coach (taking
    bookings) and the author."""
    await uow.lock_coach(coach_id)
    coach, author = await uow.open_booking(coach_id, author_id)
    if coach is None:
        raise NotFound("coach", coach_id)
    if author is None:
        raise NotFound("author", author_id)
    if not coach.is_active:
        raise NotAllowed(f"coach {coach.name} is not taking bookings")
    return coach, author


async def _book_once(
    ctx: Context, coach_id: int, author_id: int, start: datetime, duration: int | None, focus: str | None
) -> Session:
    async with ctx.uow() as uow:
        coach, author = await open_for_booking(uow, coach_id, author_id)
        minutes = slots.duration_of(coach, duration)
        slot = await check_bookable(ctx, uow, coach, start, minutes)
        lot = await credits.credit_for(ctx, uow, author_id, coach_id, minutes, slot.start)
        session, change, messages = await new_booking(ctx, coach, author, slot, minutes, focus, credit=lot is not None)
        await uow.sessions.add_booking(session, change, await ctx.pushable(uow, coach_id, messages))
        if lot is not None:
            await credits.spend(ctx, uow, lot, session)
        await uow.commit()
    return session


async def check_bookable(
    ctx: Context,
    uow: UnitOfWork,
    coach: Coach,
    start: datetime,
    minutes: int,
    *,
    exclude: int | None = None,
) -> Interval:
    """Re-validate the slot at booking time, under the coach's lock."""
    cal = await slots.calendar(ctx, uow, coach, start, start + slots.PROBE, minutes, exclude=exclude)
    await release_lapsed(ctx, uow, cal.expired_holds)
    return slots.judge(ctx, coach, cal, start, minutes)


async def new_booking(
    ctx: Context,
    coach: Coach,
    author: Author,
    slot: Interval,
    minutes: int,
    focus: str | None,
    *,
    credit: bool = False,
    series_id: int | None = None,
) -> tuple[Session, StatusChange, list[OutboxMessage]]:
    """The session for a validated slot, its first status change and its outbox messages. One
    paid by a `credit` costs nothing more and is scheduled at once. An occurrence of a series
    (`series_id`) is confirmed by the series' one message (booking/series_news.py)."""
    assert coach.id is not None and author.id is not None
    now = ctx.now()
    price = Money(0, coach.currency) if credit else coach.price_for(minutes)
    held = ctx.payments.enabled and price.amount > 0
    session = Session(
        coach_id=coach.id,
        author_id=author.id,
        starts_at=slot.start,
        ends_at=slot.end,
        blocked_from=slot.start - coach.buffer_before,
        blocked_until=slot.end + coach.buffer_after,
        duration_minutes=minutes,
        status=SessionStatus.HELD if held else SessionStatus.SCHEDULED,
        price_amount=price.amount,
        currency=price.currency,
        hold_expires_at=now + timedelta(minutes=ctx.settings.hold_minutes) if held else None,
        focus=focus,
        created_at=now,
        updated_at=now,
        series_id=series_id,
    )
    if not held and ctx.video.creates_locally:
        session.meeting_url = await ctx.video.create(session)
    change = StatusChange(0, None, session.status, Actor.AUTHOR, now, "booked")  # session id set on insert
    events = [] if held else confirmation(ctx, session, author)
    return session, change, [to_message(event, None, due) for event, due in events]


def confirmation(
    ctx: Context, session: Session, author: Author, *, alone: bool = False
) -> list[tuple[Event, datetime]]:
    """The confirmation now (to the author, the coach and the admins' feed), then reminders before
    the start and a "starting now", each with when it is due. An occurrence of a series has no
    confirmation of its own: the series has one (booking/series_news.py), unless it is confirmed
    `alone` (paid after its hold lapsed, when its series was announced without it)."""
    now = ctx.now()
    confirmed = SessionConfirmed()
    told: list[tuple[Event, datetime]] = []
    if session.series_id is None or alone:
        told = [(confirmed, now), (confirmed.for_(Recipient.COACH), now), (confirmed.for_(Recipient.ADMIN), now)]
    return [*told, (CalendarChanged(), now), *reminders(ctx, session, author)]


def reminders(ctx: Context, session: Session, author: Author) -> list[tuple[Event, datetime]]:
    """Each carries the start it was made for: one whose session has since moved or been
    cancelled is skipped at delivery."""
    now, start = ctx.now(), session.starts_at
    found: list[tuple[Event, datetime]] = []
    for minutes in sorted(set(author.reminder_minutes or []), reverse=True):
        due = start - timedelta(minutes=minutes)
        if due > now:
            found.append((Reminder(minutes, start), due))
    for minutes in DEFAULT_REMINDER_MINUTES:
        due = start - timedelta(minutes=minutes)
        if due > now:
            found.append((Reminder(minutes, start).for_(Recipient.COACH), due))
    if start > now:
        found.append((StartingNow(start), start))
    return found


async def queue(ctx: Context, uow: UnitOfWork, session: Session, events: list[tuple[Event, datetime]]) -> None:
    for event, due in events:
        await ctx.tell(uow, session, event, due=due)


async def open_checkout(ctx: Context, session: Session, *, quantity: int = 1) -> Session:
    """Make the payment link for a held session (outside the lock), then store it. `quantity`:
    the sessions of a series paid together with this one, at its price each."""
    assert session.id is not None
    async with ctx.uow() as uow:
        coach = await coach_of(uow, session.coach_id)
        author = await author_of(uow, session.author_id)
    try:
        checkout = await ctx.payments.create_checkout(session, coach, author, quantity=quantity)
    except PaymentError as exc:
        log.warning("checkout.failed", session_id=session.id, error=str(exc))
        return session  # stays held; the sweep releases it or the author retries
    async with ctx.uow() as uow:
        fresh = await ctx.lock_session(uow, session.id)
        fresh.checkout_ref, fresh.checkout_url = checkout.ref, checkout.url
        await uow.sessions.save(fresh)
        await uow.commit()
    return fresh


async def retry_checkout(ctx: Context, session_id: int) -> Session:
    """Make the payment link again for a held session whose checkout could not be created."""
    async with ctx.uow() as uow:
        session = await session_of(uow, session_id)
        quantity = await _paid_with(uow, session)
    if session.status is not SessionStatus.HELD:
        raise InvalidTransition(f"session {session_id} is {session.status.value}, not waiting for payment")
    if session.checkout_url:
        return session
    if not quantity:
        raise InvalidTransition(f"session {session_id} is paid with the first held session of its series")
    return await open_checkout(ctx, session, quantity=quantity)


async def _paid_with(uow: UnitOfWork, session: Session) -> int:
    """How many sessions a checkout for this one pays: 1, or for the first held occurrence of a
    series paid at once all its held occurrences (0 for the others: the first one's pays them)."""
    if session.series_id is None:
        return 1
    found = await uow.series.get(session.series_id)
    if found is None or found.payment is not SeriesPayment.PER_SERIES:
        return 1
    held = [s for s in await uow.series.sessions(session.series_id) if s.status is SessionStatus.HELD]
    return len(held) if held and held[0].id == session.id else 0


async def confirm_payment(ctx: Context, session_id: int, *, amount: int, payment_ref: str) -> Session:
    """Payment arrived for a held session: schedule it."""
    async with ctx.uow() as uow:
        session = await ctx.lock_session(uow, session_id)
        if session.status is not SessionStatus.HELD:
            raise InvalidTransition(f"session {session_id} is {session.status.value}, not held")
        await mark_paid(ctx, uow, session, amount=amount, payment_ref=payment_ref)
        await uow.commit()
    return await attach_meeting(ctx, session)


async def mark_paid(ctx: Context, uow: UnitOfWork, session: Session, *, amount: int, payment_ref: str | None) -> None:
    """A held session's payment arrived: schedule it and queue the confirmation and reminders."""
    session.pay(amount, payment_ref, ctx.now())
    await record_payment(uow, session, payment_ref, amount)
    await ctx.record_change(uow, session, SessionStatus.HELD, Actor.SYSTEM, "paid")
    await uow.sessions.save(session)
    await queue(ctx, uow, session, confirmation(ctx, session, await author_of(uow, session.author_id)))
    await series_news.announce_if_settled(ctx, uow, session)
