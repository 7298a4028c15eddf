"""What App Home shows a coach, from the domain (in-memory fakes, fixed clock): private notes on a
session (booking.notes), the month's completed sessions and earnings in the coach's own zone, and
the most recent written feedback (booking.queries)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from booking import bookings, cancellation, catalog, lifecycle, notes, queries
from booking.errors import InvalidInput, InvalidTransition, NotAllowed
from booking.model import Actor, Money, SessionStatus
from tests.fakes import make_context

MAR_5 = datetime(2030, 3, 5, 10, 0, tzinfo=UTC)
MAR_1_LOCAL_MIDNIGHT = datetime(2030, 2, 28, 23, 0, tzinfo=UTC)  # 00:00 on 1 March in Berlin
MAR_31_LATE = datetime(2030, 3, 31, 21, 0, tzinfo=UTC)  # 23:00 CEST, still March in Berlin
APR_1_LOCAL_MIDNIGHT = datetime(2030, 3, 31, 22, 0, tzinfo=UTC)  # 00:00 on 1 April in Berlin


async def setup(*, payments: bool = True):
    ctx, store, clock, *_ = make_context(now=datetime(2030, 2, 25, 9, 0, tzinfo=UTC), payments_enabled=payments)
    coach = await catalog.add_coach(ctx, name="Maya", timezone="Europe/Berlin", rate=6000, min_notice_minutes=0)
    other = await catalog.add_coach(ctx, name="Olu", timezone="UTC", rate=6000, min_notice_minutes=0)
    for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun"):
        await catalog.add_rule(ctx, coach.id, weekday=day, start="00:00", end="24:00")
    author = await catalog.add_author(ctx, name="Ann", timezone="UTC", telegram_id=1)
    return ctx, store, clock, coach, other, author


async def paid(ctx, coach, author, start):
    held = await bookings.book(ctx, coach.id, author.id, start)
    return await bookings.confirm_payment(ctx, held.id, amount=held.price_amount, payment_ref=f"pi_{held.id}")


async def held_and_completed(ctx, clock, session):
    clock.set(session.ends_at + timedelta(hours=1))
    await lifecycle.advance_statuses(ctx)
    return await queries.session(ctx, session.id)


# ---- private notes ----------------------------------------------------------------------------


async def test_the_coach_writes_and_clears_private_notes_and_nobody_is_told():
    ctx, store, clock, coach, other, author = await setup(payments=False)
    session = await bookings.book(ctx, coach.id, author.id, MAR_5)
    before = len(store.outbox)
    written = await notes.write_coach_notes(
        ctx, session.id, "  Push on chapter 3's pacing.  ", by=Actor.COACH, coach_id=coach.id
    )
    assert written.coach_notes == "Push on chapter 3's pacing."
    assert (await queries.session(ctx, session.id)).coach_notes == "Push on chapter 3's pacing."
    assert len(store.outbox) == before  # private: no message to anyone
    await notes.write_coach_notes(ctx, session.id, "   ", by=Actor.COACH, coach_id=coach.id)
    assert (await queries.session(ctx, session.id)).coach_notes is None


async def test_notes_are_refused_to_another_coach_and_the_author_and_allowed_to_an_admin():
    ctx, store, clock, coach, other, author = await setup(payments=False)
    session = await bookings.book(ctx, coach.id, author.id, MAR_5)
    with pytest.raises(NotAllowed, match="another coach"):
        await notes.write_coach_notes(ctx, session.id, "mine now", by=Actor.COACH, coach_id=other.id)
    with pytest.raises(NotAllowed):
        await notes.write_coach_notes(ctx, session.id, "hello", by=Actor.AUTHOR)
    with pytest.raises(InvalidInput):
        await notes.write_coach_notes(ctx, session.id, "who am I", by=Actor.COACH)  # a coach names themselves
    assert (await queries.session(ctx, session.id)).coach_notes is None
    await notes.write_coach_notes(ctx, session.id, "Checked by support", by=Actor.ADMIN)
    assert (await queries.session(ctx, session.id)).coach_notes == "Checked by support"


async def test_notes_have_a_limit_and_wait_for_the_booking():
    ctx, store, clock, coach, other, author = await setup(payments=True)
    held = await bookings.book(ctx, coach.id, author.id, MAR_5)
    with pytest.raises(InvalidTransition):
        await notes.write_coach_notes(ctx, held.id, "too soon", by=Actor.COACH, coach_id=coach.id)
    session = await bookings.confirm_payment(ctx, held.id, amount=held.price_amount, payment_ref="pi_1")
    with pytest.raises(InvalidInput, match="3000"):
        await notes.write_coach_notes(ctx, session.id, "x" * 3001, by=Actor.COACH, coach_id=coach.id)
    assert (await notes.write_coach_notes(ctx, session.id, "x" * 3000, by=Actor.COACH, coach_id=coach.id)).coach_notes


# ---- this month --------------------------------------------------------------------------------


async def test_the_month_counts_completed_sessions_in_the_coachs_zone_and_what_was_kept():
    ctx, store, clock, coach, other, author = await setup()
    first = await paid(ctx, coach, author, MAR_1_LOCAL_MIDNIGHT)  # 28 Feb in UTC, 1 March in Berlin
    middle = await paid(ctx, coach, author, MAR_5)
    last = await paid(ctx, coach, author, MAR_31_LATE)
    april = await paid(ctx, coach, author, APR_1_LOCAL_MIDNIGHT)  # 31 March in UTC, April in Berlin
    cancelled = await paid(ctx, coach, author, MAR_5 + timedelta(days=1))
    await cancellation.cancel(ctx, cancelled.id, by=Actor.COACH, coach_id=coach.id, reason="Ill")
    for s in (first, middle, last, april):
        await held_and_completed(ctx, clock, s)
    store.data.sessions[middle.id].amount_refunded = 1500  # part of it given back (as the ledger would)
    store.data.sessions[last.id].refund_due = 1000  # and part owed back, not kept either

    march = await queries.coach_month(ctx, coach.id, now=datetime(2030, 3, 15, 12, tzinfo=UTC))
    assert (march.month, march.completed) == (date(2030, 3, 1), 3)
    assert march.earned == [Money(6000 + 4500 + 5000, "usd")]
    apr = await queries.coach_month(ctx, coach.id, now=APR_1_LOCAL_MIDNIGHT + timedelta(minutes=30))
    assert (apr.month, apr.completed, apr.earned) == (date(2030, 4, 1), 1, [Money(6000, "usd")])
    empty = await queries.coach_month(ctx, other.id, now=datetime(2030, 3, 15, tzinfo=UTC))
    assert (empty.completed, empty.earned) == (0, [])


async def test_sessions_still_to_come_and_no_shows_do_not_count_as_earned():
    ctx, store, clock, coach, other, author = await setup()
    missed = await paid(ctx, coach, author, MAR_5)
    await paid(ctx, coach, author, MAR_5 + timedelta(days=3))
    clock.set(MAR_5 + timedelta(minutes=20))
    await lifecycle.no_show(ctx, missed.id, who=Actor.AUTHOR)
    month = await queries.coach_month(ctx, coach.id, now=MAR_5 + timedelta(hours=1))
    assert (month.completed, month.earned) == (0, [])


# ---- feedback -----------------------------------------------------------------------------------


async def test_the_three_most_recent_written_feedbacks_with_their_authors():
    ctx, store, clock, coach, other, author = await setup(payments=False)
    rated = []
    for n, words in enumerate(["First", None, "Third", "Fourth", "Fifth"]):
        session = await bookings.book(ctx, coach.id, author.id, MAR_5 + timedelta(days=n))
        rated.append((session, words))
    clock.set(datetime(2030, 3, 20, tzinfo=UTC))
    await lifecycle.advance_statuses(ctx)
    for n, (session, words) in enumerate(rated):
        clock.advance(hours=1)
        await lifecycle.rate(ctx, session.id, author_id=author.id, stars=5 - n % 2, feedback=words)
    found = await queries.recent_feedback(ctx, coach.id, limit=3)
    assert [f.session.feedback for f in found] == ["Fifth", "Fourth", "Third"]
    assert {f.author.name for f in found} == {"Ann"}
    assert await queries.recent_feedback(ctx, other.id) == []
    assert (await catalog.coach(ctx, coach.id)).rating_count == 5
    assert SessionStatus.COMPLETED is found[0].session.status
