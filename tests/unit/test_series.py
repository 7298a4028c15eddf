"""Recurring series (booking/series.py, booking/recurrence.py) against the fakes and a fixed clock.

The clock starts on Monday 2030-01-07 08:00 UTC unless a test sets it; coaches work Mon-Fri
09:00-17:00 in their zone with 60-minute sessions, 24 h notice and a 60-day horizon.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from booking import bookings, catalog, payments, queries, recurrence, rescheduling, series
from booking.context import BookingSettings, Context
from booking.errors import InvalidInput, PolicyViolation
from booking.model import ACTIVE_STATUSES, Actor, Author, Coach, OverrideKind
from booking.payments import PaymentEvent, PaymentKind
from booking.policy import CancellationPolicy
from booking.recurrence import SeriesUnavailable
from booking.series_model import Conflicts, Repeat, SeriesPayment
from tests.fakes import DEFAULT_NOW, FakePayments, Store, make_context

TUE_10 = datetime(2030, 1, 8, 10, tzinfo=UTC)
WEEK = timedelta(weeks=1)
NY = ZoneInfo("America/New_York")


@dataclass
class World:
    ctx: Context
    store: Store
    payments: FakePayments
    coach: Coach
    author: Author
    other: Author


async def world(
    *, now: datetime = DEFAULT_NOW, pay: bool = False, settings: BookingSettings | None = None, **coach_fields
) -> World:
    ctx, store, _clock, fake_payments, _video = make_context(now=now, payments_enabled=pay, settings=settings)
    fields = {"name": "Ada", "timezone": "UTC", "rate": 6000, "durations": [60], **coach_fields}
    coach = await catalog.add_coach(ctx, **fields)
    for day in ("mon", "tue", "wed", "thu", "fri"):
        await catalog.add_rule(ctx, coach.id, weekday=day, start="09:00", end="17:00")
    author = await catalog.add_author(ctx, name="Ann", timezone="UTC", telegram_id=1)
    other = await catalog.add_author(ctx, name="Bob", timezone="UTC", telegram_id=2)
    return World(ctx, store, fake_payments, coach, author, other)


def active(w: World) -> list:
    return sorted((s for s in w.store.sessions.values() if s.status in ACTIVE_STATUSES), key=lambda s: s.starts_at)


# ---- where occurrences fall ---------------------------------------------------------------------


def test_weekly_occurrences_keep_the_wall_time_across_a_dst_change():
    # New York springs forward on Sunday 2030-03-10: 10:00 EST is 15:00 UTC, 10:00 EDT is 14:00 UTC.
    first = datetime(2030, 3, 4, 10, tzinfo=NY)
    steps = recurrence.occurrences(first, "America/New_York", Repeat.WEEKLY)
    found = [next(steps) for _ in range(3)]
    assert [s.astimezone(UTC).hour for s in found] == [15, 14, 14]
    assert [s.astimezone(NY).strftime("%a %H:%M") for s in found] == ["Mon 10:00"] * 3
    assert found[1] - found[0] == WEEK - timedelta(hours=1)


def test_fortnightly_occurrences_step_two_weeks():
    steps = recurrence.occurrences(TUE_10, "UTC", Repeat.FORTNIGHTLY)
    assert [next(steps) for _ in range(3)] == [TUE_10, TUE_10 + 2 * WEEK, TUE_10 + 4 * WEEK]


def test_an_occurrence_in_a_spring_forward_gap_is_not_shifted_to_a_free_hour():
    # 02:30 does not exist in New York on 2030-03-10; it maps to the transition, never to 03:30.
    first = datetime(2030, 3, 3, 2, 30, tzinfo=NY)
    steps = recurrence.occurrences(first, "America/New_York", Repeat.WEEKLY)
    next(steps)
    assert next(steps) == datetime(2030, 3, 10, 7, tzinfo=UTC)


# ---- booking a series -----------------------------------------------------------------------------


async def test_a_series_books_every_occurrence_linked_by_one_series_id():
    w = await world()
    booked = await series.book_series(w.ctx, w.coach.id, w.author.id, TUE_10, repeat=Repeat.WEEKLY, count=4)
    assert [s.starts_at for s in booked.sessions] == [TUE_10 + k * WEEK for k in range(4)]
    assert {s.series_id for s in booked.sessions} == {booked.series.id}
    assert all(s.meeting_url for s in booked.sessions)
    assert [s.id for s in active(w)] == [s.id for s in booked.sessions]
    assert w.store.snapshot().series[booked.series.id].count == 4


async def test_a_series_in_a_dst_zone_keeps_the_coachs_wall_time():
    w = await world(now=datetime(2030, 2, 25, 8, tzinfo=UTC), timezone="America/New_York")
    first = datetime(2030, 3, 5, 10, tzinfo=NY)  # Tuesday before the change
    booked = await series.book_series(w.ctx, w.coach.id, w.author.id, first, repeat=Repeat.WEEKLY, count=3)
    assert [s.starts_at.astimezone(NY).strftime("%a %H:%M %Z") for s in booked.sessions] == [
        "Tue 10:00 EST",
        "Tue 10:00 EDT",
        "Tue 10:00 EDT",
    ]


async def test_refuse_books_nothing_when_one_occurrence_is_taken():
    w = await world()
    taken = await bookings.book(w.ctx, w.coach.id, w.other.id, TUE_10 + 2 * WEEK)
    with pytest.raises(SeriesUnavailable) as refused:
        await series.book_series(w.ctx, w.coach.id, w.author.id, TUE_10, repeat=Repeat.WEEKLY, count=4)
    assert refused.value.not_free == [TUE_10 + 2 * WEEK]
    assert "Tue 2030-01-22 10:00 UTC" in refused.value.message
    assert [s.id for s in active(w)] == [taken.id]
    assert w.store.snapshot().series == {}


async def test_refuse_names_a_series_that_runs_past_the_horizon():
    w = await world(horizon_days=20)
    with pytest.raises(SeriesUnavailable, match="how far ahead"):
        await series.book_series(w.ctx, w.coach.id, w.author.id, TUE_10, repeat=Repeat.WEEKLY, count=4)
    assert active(w) == []


async def test_skip_books_the_free_occurrences():
    w = await world()
    await catalog.add_override(
        w.ctx, w.coach.id, kind=OverrideKind.BLOCK, start=TUE_10 + WEEK, end=TUE_10 + WEEK + timedelta(hours=1)
    )
    booked = await series.book_series(
        w.ctx, w.coach.id, w.author.id, TUE_10, repeat=Repeat.WEEKLY, count=4, conflicts=Conflicts.SKIP
    )
    assert [s.starts_at for s in booked.sessions] == [TUE_10, TUE_10 + 2 * WEEK, TUE_10 + 3 * WEEK]
    assert booked.not_free == [TUE_10 + WEEK]


async def test_append_keeps_stepping_until_the_count_is_booked():
    w = await world()
    await bookings.book(w.ctx, w.coach.id, w.other.id, TUE_10 + WEEK)
    booked = await series.book_series(
        w.ctx, w.coach.id, w.author.id, TUE_10, repeat=Repeat.WEEKLY, count=4, conflicts=Conflicts.APPEND
    )
    assert [s.starts_at for s in booked.sessions] == [TUE_10 + k * WEEK for k in (0, 2, 3, 4)]


async def test_append_stops_at_the_horizon():
    w = await world(horizon_days=22)  # occurrences on Jan 8, 15, 22 and 29: the last is past the horizon
    await bookings.book(w.ctx, w.coach.id, w.other.id, TUE_10 + WEEK)
    booked = await series.book_series(
        w.ctx, w.coach.id, w.author.id, TUE_10, repeat=Repeat.WEEKLY, count=3, conflicts=Conflicts.APPEND
    )
    assert [s.starts_at for s in booked.sessions] == [TUE_10, TUE_10 + 2 * WEEK]


@pytest.mark.parametrize("count", [1, 13])
async def test_the_count_is_two_to_twelve(count):
    w = await world()
    with pytest.raises(InvalidInput, match="count"):
        await series.book_series(w.ctx, w.coach.id, w.author.id, TUE_10, repeat=Repeat.WEEKLY, count=count)


# ---- changing one occurrence or the rest ------------------------------------------------------------


async def test_cancel_following_cancels_this_and_every_later_occurrence():
    # Cal.com #6281 / #16203: "cancel all remaining" cancelled one.
    w = await world()
    booked = await series.book_series(w.ctx, w.coach.id, w.author.id, TUE_10, repeat=Repeat.WEEKLY, count=4)
    ids = [s.id for s in booked.sessions]
    done = await series.cancel(w.ctx, ids[1], by=Actor.AUTHOR, scope=series.Scope.FOLLOWING)
    assert [s.id for s in done] == ids[1:]
    assert [s.id for s in active(w)] == ids[:1]


async def test_cancel_one_cancels_only_that_occurrence():
    w = await world()
    booked = await series.book_series(w.ctx, w.coach.id, w.author.id, TUE_10, repeat=Repeat.WEEKLY, count=3)
    ids = [s.id for s in booked.sessions]
    await series.cancel(w.ctx, ids[1], by=Actor.AUTHOR, scope=series.Scope.ONE)
    assert [s.id for s in active(w)] == [ids[0], ids[2]]


async def test_cancel_following_inside_the_cut_off_cancels_nothing():
    w = await world(min_notice_minutes=0)
    booked = await series.book_series(
        w.ctx, w.coach.id, w.author.id, datetime(2030, 1, 7, 10, tzinfo=UTC), repeat=Repeat.WEEKLY, count=3
    )
    with pytest.raises(PolicyViolation):
        await series.cancel(w.ctx, booked.sessions[0].id, by=Actor.AUTHOR, scope=series.Scope.FOLLOWING)
    assert len(active(w)) == 3


async def test_cancel_following_of_a_single_session_is_refused():
    w = await world()
    single = await bookings.book(w.ctx, w.coach.id, w.author.id, TUE_10)
    with pytest.raises(InvalidInput, match="not part of a series"):
        await series.cancel(w.ctx, single.id, by=Actor.AUTHOR, scope=series.Scope.FOLLOWING)


async def test_rescheduling_one_occurrence_moves_it_and_books_nothing_else():
    # Cal.com #12461 / #10524: rescheduling one occurrence created extra bookings.
    w = await world()
    booked = await series.book_series(w.ctx, w.coach.id, w.author.id, TUE_10, repeat=Repeat.WEEKLY, count=4)
    ids = [s.id for s in booked.sessions]
    moved = await rescheduling.reschedule(w.ctx, ids[1], TUE_10 + WEEK + timedelta(hours=3))
    assert moved.id == ids[1] and moved.series_id == booked.series.id
    assert len(w.store.sessions) == 4
    assert [s.id for s in active(w)] == ids
    _, occurrences = await series.series_of(w.ctx, booked.series.id)
    assert [s.starts_at for s in occurrences] == [
        TUE_10,
        TUE_10 + WEEK + timedelta(hours=3),
        *(TUE_10 + k * WEEK for k in (2, 3)),
    ]


async def test_reschedule_following_moves_this_and_every_later_occurrence_in_place():
    w = await world()
    booked = await series.book_series(w.ctx, w.coach.id, w.author.id, TUE_10, repeat=Repeat.WEEKLY, count=4)
    ids = [s.id for s in booked.sessions]
    wed_11 = TUE_10 + WEEK + timedelta(days=1, hours=1)
    moved = await series.reschedule(w.ctx, ids[1], wed_11, scope=series.Scope.FOLLOWING)
    assert [s.id for s in moved] == ids[1:]
    assert [s.starts_at for s in active(w)] == [TUE_10, *(wed_11 + k * WEEK for k in range(3))]
    assert [s.id for s in active(w)] == ids and len(w.store.sessions) == 4


async def test_reschedule_following_moves_nothing_when_one_new_time_is_taken():
    w = await world()
    booked = await series.book_series(w.ctx, w.coach.id, w.author.id, TUE_10, repeat=Repeat.WEEKLY, count=3)
    taken = await bookings.book(w.ctx, w.coach.id, w.other.id, TUE_10 + 2 * WEEK + timedelta(hours=2))
    with pytest.raises(SeriesUnavailable, match="at the new time"):
        await series.reschedule(w.ctx, booked.sessions[0].id, TUE_10 + timedelta(hours=2), scope=series.Scope.FOLLOWING)
    assert [s.starts_at for s in active(w) if s.id != taken.id] == [TUE_10 + k * WEEK for k in range(3)]


async def test_reschedule_following_an_hour_later_over_its_own_old_times():
    # Each occurrence's new time overlaps its own old time: the series' old times count as free.
    w = await world(buffer_after_minutes=30, slot_step_minutes=30)
    booked = await series.book_series(w.ctx, w.coach.id, w.author.id, TUE_10, repeat=Repeat.WEEKLY, count=3)
    later = TUE_10 + timedelta(minutes=30)
    await series.reschedule(w.ctx, booked.sessions[0].id, later, scope=series.Scope.FOLLOWING, by=Actor.COACH)
    assert [s.starts_at for s in active(w)] == [later + k * WEEK for k in range(3)]


# ---- payment and refunds ------------------------------------------------------------------------------


def _settings(payment: SeriesPayment, refund_percent: int = 100) -> BookingSettings:
    return BookingSettings(series_payment=payment, policy=CancellationPolicy(author_refund_percent=refund_percent))


def paid_event(session_id: int, checkout_ref: str, amount: int) -> PaymentEvent:
    return PaymentEvent(
        id=f"evt_{checkout_ref}",
        kind=PaymentKind.PAID,
        provider_type="checkout.session.completed",
        session_id=session_id,
        checkout_ref=checkout_ref,
        payment_ref="pi_series",
        amount=amount,
    )


async def test_per_session_payment_opens_a_checkout_for_each_occurrence():
    w = await world(pay=True, settings=_settings(SeriesPayment.PER_SESSION))
    booked = await series.book_series(w.ctx, w.coach.id, w.author.id, TUE_10, repeat=Repeat.WEEKLY, count=3)
    assert w.payments.checkouts == [(s.id, 6000) for s in booked.sessions]
    assert all(s.checkout_url for s in booked.sessions)


async def test_per_series_payment_is_one_checkout_that_pays_every_occurrence():
    w = await world(pay=True, settings=_settings(SeriesPayment.PER_SERIES), rate=4999)
    booked = await series.book_series(w.ctx, w.coach.id, w.author.id, TUE_10, repeat=Repeat.WEEKLY, count=3)
    lead = booked.sessions[0]
    assert w.payments.checkouts == [(lead.id, 3 * 4999)]
    outcome = await payments.handle(w.ctx, paid_event(lead.id, lead.checkout_ref, 3 * 4999))
    assert outcome is payments.Outcome.CONFIRMED
    for s in booked.sessions:
        fresh = await queries.session(w.ctx, s.id)
        assert (fresh.status.value, fresh.amount_paid) == ("scheduled", 4999)
        assert [(p.ref, p.amount) for p in w.store.snapshot().payments.values() if p.session_id == s.id] == [
            ("pi_series", 4999)
        ]


async def test_a_series_payment_of_the_wrong_amount_confirms_nothing():
    w = await world(pay=True, settings=_settings(SeriesPayment.PER_SERIES))
    booked = await series.book_series(w.ctx, w.coach.id, w.author.id, TUE_10, repeat=Repeat.WEEKLY, count=3)
    lead = booked.sessions[0]
    outcome = await payments.handle(w.ctx, paid_event(lead.id, lead.checkout_ref, 2 * 6000))
    assert outcome is payments.Outcome.REFUND_DUE
    assert [s.status.value for s in active(w)] == ["held", "held", "held"]


async def test_a_cancelled_occurrence_of_a_series_paid_at_once_refunds_exactly_its_share():
    w = await world(pay=True, settings=_settings(SeriesPayment.PER_SERIES, refund_percent=50), rate=4999)
    booked = await series.book_series(w.ctx, w.coach.id, w.author.id, TUE_10, repeat=Repeat.WEEKLY, count=4)
    lead = booked.sessions[0]
    await payments.handle(w.ctx, paid_event(lead.id, lead.checkout_ref, 4 * 4999))
    done = await series.cancel(w.ctx, booked.sessions[2].id, by=Actor.AUTHOR, scope=series.Scope.FOLLOWING)
    assert [(s.amount_refunded, s.refund_due) for s in done] == [(2500, 0), (2500, 0)]  # 49.99 * 50 %, half up
    assert w.payments.refunded_payments == [("pi_series", 2500), ("pi_series", 2500)]
    assert [s.id for s in active(w)] == [s.id for s in booked.sessions[:2]]


async def test_the_providers_refund_total_of_a_shared_payment_is_not_booked_to_one_occurrence():
    w = await world(pay=True, settings=_settings(SeriesPayment.PER_SERIES))
    booked = await series.book_series(w.ctx, w.coach.id, w.author.id, TUE_10, repeat=Repeat.WEEKLY, count=2)
    lead = booked.sessions[0]
    await payments.handle(w.ctx, paid_event(lead.id, lead.checkout_ref, 2 * 6000))
    await series.cancel(w.ctx, booked.sessions[1].id, by=Actor.AUTHOR)
    refunded = PaymentEvent(
        id="evt_refund",
        kind=PaymentKind.REFUNDED,
        provider_type="charge.refunded",
        session_id=lead.id,  # the charge carries the lead's id; its total is the other occurrence's refund
        payment_ref="pi_series",
        amount=6000,
    )
    assert await payments.handle(w.ctx, refunded) is payments.Outcome.IGNORED
    assert (await queries.session(w.ctx, lead.id)).amount_refunded == 0


async def test_per_session_refunds_follow_the_policy_per_occurrence():
    w = await world(pay=True, settings=_settings(SeriesPayment.PER_SESSION, refund_percent=50), rate=4999)
    booked = await series.book_series(w.ctx, w.coach.id, w.author.id, TUE_10, repeat=Repeat.WEEKLY, count=2)
    for k, s in enumerate(booked.sessions):
        await bookings.confirm_payment(w.ctx, s.id, amount=4999, payment_ref=f"pi_{k}")
    done = await series.cancel(w.ctx, booked.sessions[0].id, by=Actor.AUTHOR, scope=series.Scope.FOLLOWING)
    assert [s.amount_refunded for s in done] == [2500, 2500]
    assert sorted(w.payments.refunded_payments) == [("pi_0", 2500), ("pi_1", 2500)]
