"""Group sessions (booking/groups.py) against the fakes and a fixed clock.

The clock starts on Monday 2030-01-07 08:00 UTC; the coach works Mon-Fri 09:00-17:00 UTC with
60-minute sessions and 24 h notice. Group slots need no weekly rule: SAT_10 lies outside them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from booking import bookings, cancellation, catalog, groups, payments, queries, rescheduling, slots
from booking.context import BookingSettings, Context
from booking.errors import GroupFull, InvalidInput, InvalidTransition, NotAllowed, NotFound, SlotUnavailable
from booking.model import Actor, Author, Coach, SessionStatus
from booking.payments import PaymentEvent, PaymentKind
from booking.policy import CancellationPolicy
from tests.fakes import FakeClock, FakePayments, FakeVideo, Store, make_context

SAT_10 = datetime(2030, 1, 12, 10, tzinfo=UTC)
TUE_10 = datetime(2030, 1, 8, 10, tzinfo=UTC)


@dataclass
class World:
    ctx: Context
    store: Store
    clock: FakeClock
    payments: FakePayments
    video: FakeVideo
    coach: Coach
    authors: list[Author]


async def world(*, pay: bool = False, settings: BookingSettings | None = None, **coach_fields) -> World:
    ctx, store, clock, fake_payments, video = make_context(payments_enabled=pay, settings=settings)
    fields = {"name": "Ada", "timezone": "UTC", "rate": 6000, "durations": [60], **coach_fields}
    coach = await catalog.add_coach(ctx, **fields)
    for day in ("mon", "tue", "wed", "thu", "fri"):
        await catalog.add_rule(ctx, coach.id, weekday=day, start="09:00", end="17:00")
    authors = [await catalog.add_author(ctx, name=n, timezone="UTC", telegram_id=i) for i, n in enumerate("ABCD")]
    return World(ctx, store, clock, fake_payments, video, coach, authors)


async def add(w: World, start: datetime = SAT_10, *, seats: int = 2, price: int = 2500, duration: int = 90):
    return await groups.add_group(w.ctx, w.coach.id, start=start, duration=duration, seats=seats, price=price)


def paid(seat) -> PaymentEvent:
    return PaymentEvent(
        id=f"evt_{seat.id}",
        kind=PaymentKind.PAID,
        provider_type="checkout.session.completed",
        session_id=seat.id,
        checkout_ref=seat.checkout_ref,
        payment_ref=f"pi_{seat.id}",
        amount=seat.price_amount,
    )


# ---- offering a group slot ------------------------------------------------------------------------


async def test_a_group_slot_needs_no_weekly_rule_and_takes_a_seat_without_a_duration():
    w = await world()
    slot = await add(w)
    seat = await groups.book(w.ctx, w.coach.id, w.authors[0].id, SAT_10)
    assert (seat.group_slot_id, seat.seat, seat.duration_minutes) == (slot.id, 1, 90)
    assert (seat.starts_at, seat.ends_at, seat.price_amount) == (SAT_10, SAT_10 + timedelta(minutes=90), 2500)
    assert seat.status is SessionStatus.SCHEDULED


async def test_the_one_to_one_slot_engine_treats_a_group_slot_as_busy():
    w = await world()
    await add(w, TUE_10, duration=120)
    free = await slots.slots(w.ctx, w.coach.id, TUE_10.replace(hour=0), TUE_10.replace(hour=23))
    starts = {s.start.hour for s in free}
    assert starts == {9, 12, 13, 14, 15, 16}
    with pytest.raises(SlotUnavailable):
        await bookings.book(w.ctx, w.coach.id, w.authors[0].id, TUE_10 + timedelta(hours=1))


async def test_a_group_slot_keeps_off_one_to_one_sessions_and_other_group_slots():
    w = await world()
    await bookings.book(w.ctx, w.coach.id, w.authors[0].id, TUE_10)
    with pytest.raises(SlotUnavailable):
        await add(w, TUE_10 - timedelta(minutes=30))
    await add(w, SAT_10)
    with pytest.raises(SlotUnavailable):
        await add(w, SAT_10 + timedelta(minutes=60))
    await add(w, SAT_10 + timedelta(minutes=90))  # touching is fine


@pytest.mark.parametrize(
    ("field", "kwargs"),
    [
        ("seats", {"seats": 1}),
        ("seats", {"seats": 101}),
        ("duration", {"duration": 5}),
        ("price", {"price": -1}),
        ("start", {"start": datetime(2030, 1, 7, 7, tzinfo=UTC)}),
    ],
)
async def test_bad_input_names_the_field(field, kwargs):
    w = await world()
    with pytest.raises(InvalidInput) as err:
        await add(w, **kwargs)
    assert err.value.field == field


async def test_a_duration_that_is_not_the_group_slots_is_refused_by_name():
    w = await world()
    await add(w)
    with pytest.raises(InvalidInput) as err:
        await groups.book(w.ctx, w.coach.id, w.authors[0].id, SAT_10, duration=60)
    assert err.value.field == "duration"


# ---- seats ----------------------------------------------------------------------------------------


async def test_seats_are_not_sold_past_the_count_and_one_author_takes_one_seat():
    w = await world()
    slot = await add(w, seats=2)
    a, b, c = w.authors[:3]
    await groups.take_seat(w.ctx, slot.id, a.id)
    with pytest.raises(NotAllowed):
        await groups.take_seat(w.ctx, slot.id, a.id)
    await groups.take_seat(w.ctx, slot.id, b.id)
    with pytest.raises(GroupFull):
        await groups.take_seat(w.ctx, slot.id, c.id)
    assert (await groups.group(w.ctx, slot.id)).seats_left == 0


async def test_an_unpaid_seat_counts_until_its_hold_lapses():
    w = await world(pay=True)
    slot = await add(w, seats=2)
    a, b, c = w.authors[:3]
    held = await groups.take_seat(w.ctx, slot.id, a.id)
    assert held.status is SessionStatus.HELD and held.checkout_url
    w.clock.advance(minutes=20)
    await groups.take_seat(w.ctx, slot.id, b.id)
    with pytest.raises(GroupFull):
        await groups.take_seat(w.ctx, slot.id, c.id)
    w.clock.advance(minutes=11)  # the first hold's 30 minutes are over, not the second's
    assert (await groups.group(w.ctx, slot.id)).seats_left == 1
    taken = await groups.take_seat(w.ctx, slot.id, c.id)
    assert taken.seat == held.seat
    assert w.store.sessions[held.id].status is SessionStatus.CANCELLED


async def test_each_seat_is_paid_on_its_own_and_the_room_is_made_once_and_shared():
    w = await world(pay=True)
    slot = await add(w, seats=3)
    seats = [await groups.take_seat(w.ctx, slot.id, a.id) for a in w.authors[:2]]
    assert [amount for _id, amount in w.payments.checkouts] == [2500, 2500]
    for seat in seats:
        await payments.handle(w.ctx, paid(seat))
    stored = [w.store.sessions[s.id] for s in seats]
    assert all(s.status is SessionStatus.SCHEDULED and s.amount_paid == 2500 for s in stored)
    assert len(w.video.created) == 1
    assert {s.meeting_url for s in stored} == {w.video.created[0]}
    assert w.store.data.group_slots[slot.id].meeting_url == w.video.created[0]


async def test_one_seats_cancellation_never_touches_another_and_keeps_the_shared_room():
    w = await world(pay=True, settings=BookingSettings(policy=CancellationPolicy(author_refund_percent=50)))
    slot = await add(w, seats=3)
    first, second = [await groups.take_seat(w.ctx, slot.id, a.id) for a in w.authors[:2]]
    for seat in (first, second):
        await payments.handle(w.ctx, paid(seat))
    done = await cancellation.cancel(w.ctx, first.id, by=Actor.AUTHOR, author_id=w.authors[0].id)
    assert (done.status, done.amount_refunded) == (SessionStatus.CANCELLED, 1250)
    other = w.store.sessions[second.id]
    assert (other.status, other.amount_paid, other.amount_refunded) == (SessionStatus.SCHEDULED, 2500, 0)
    assert w.video.deleted == []
    assert [r[:2] for r in w.payments.refunds] == [(first.id, 1250)]
    # the freed seat can be taken again
    again = await groups.take_seat(w.ctx, slot.id, w.authors[2].id)
    assert again.seat == first.seat


async def test_an_author_cannot_cancel_another_authors_seat():
    w = await world()
    slot = await add(w)
    seat = await groups.take_seat(w.ctx, slot.id, w.authors[0].id)
    with pytest.raises(NotAllowed):
        await cancellation.cancel(w.ctx, seat.id, by=Actor.AUTHOR, author_id=w.authors[1].id)


async def test_a_seat_cannot_be_moved():
    w = await world()
    slot = await add(w)
    seat = await groups.take_seat(w.ctx, slot.id, w.authors[0].id)
    with pytest.raises(InvalidTransition):
        await rescheduling.reschedule(w.ctx, seat.id, TUE_10, by=Actor.COACH)


async def test_a_seat_paid_after_its_hold_lapsed_is_kept_while_a_seat_is_free():
    w = await world(pay=True)
    slot = await add(w, seats=2)
    late = await groups.take_seat(w.ctx, slot.id, w.authors[0].id)
    w.clock.advance(minutes=31)
    await groups.take_seat(w.ctx, slot.id, w.authors[1].id)  # releases the lapsed hold; seat 1 is free again
    assert w.store.sessions[late.id].status is SessionStatus.CANCELLED
    await payments.handle(w.ctx, paid(late))
    kept = w.store.sessions[late.id]
    assert (kept.status, kept.amount_paid, kept.refund_due + kept.amount_refunded) == (SessionStatus.SCHEDULED, 2500, 0)


async def test_a_seat_paid_after_its_hold_lapsed_is_refunded_when_the_group_filled():
    w = await world(pay=True)
    slot = await add(w, seats=2)
    late = await groups.take_seat(w.ctx, slot.id, w.authors[0].id)
    w.clock.advance(minutes=31)
    for author in w.authors[1:3]:
        await groups.take_seat(w.ctx, slot.id, author.id)
    await payments.handle(w.ctx, paid(late))
    refunded = w.store.sessions[late.id]
    assert refunded.status is SessionStatus.CANCELLED
    assert refunded.amount_refunded + refunded.refund_due == 2500


# ---- what each side sees ---------------------------------------------------------------------------


async def test_each_attendee_sees_only_their_own_seat_and_the_coach_sees_the_roster():
    w = await world()
    slot = await add(w, seats=3)
    a, b = w.authors[:2]
    mine = await groups.take_seat(w.ctx, slot.id, a.id)
    await groups.take_seat(w.ctx, slot.id, b.id)
    assert [s.id for s in await queries.sessions(w.ctx, author_id=a.id)] == [mine.id]
    roster = await groups.roster(w.ctx, slot.id, coach_id=w.coach.id)
    assert [(seat.seat, author.name) for seat, author in roster.seats] == [(1, "A"), (2, "B")]
    assert roster.seats_left == 1
    with pytest.raises(NotFound):
        await groups.roster(w.ctx, slot.id, coach_id=w.coach.id + 1000)


async def test_upcoming_lists_open_slots_with_seats_left():
    w = await world()
    first = await add(w, SAT_10, seats=2)
    second = await add(w, SAT_10 + timedelta(days=7), seats=4)
    await groups.take_seat(w.ctx, first.id, w.authors[0].id)
    offers = await groups.upcoming(w.ctx, w.coach.id)
    assert [(o.slot.id, o.seats_left) for o in offers] == [(first.id, 1), (second.id, 4)]


# ---- the coach calls off the whole slot ------------------------------------------------------------


async def test_cancelling_a_group_refunds_every_paid_seat_in_full_and_deletes_the_room():
    policy = CancellationPolicy(coach_refund_percent=50)  # a group called off refunds in full regardless
    w = await world(pay=True, settings=BookingSettings(policy=policy))
    slot = await add(w, seats=3)
    seats = [await groups.take_seat(w.ctx, slot.id, a.id) for a in w.authors[:3]]
    for seat in seats[:2]:
        await payments.handle(w.ctx, paid(seat))
    cancelled, done = await groups.cancel_group(w.ctx, slot.id, coach_id=w.coach.id)
    assert not cancelled.is_open
    assert {s.status for s in done} == {SessionStatus.CANCELLED}
    assert sorted(r[:2] for r in w.payments.refunds) == sorted((s.id, 2500) for s in seats[:2])
    assert w.video.deleted == [w.video.created[0]]
    assert seats[2].checkout_ref in w.payments.expired
    # the time is free again for 1:1 bookings and new groups
    await add(w, SAT_10)
    with pytest.raises(SlotUnavailable):
        await groups.take_seat(w.ctx, slot.id, w.authors[3].id)
