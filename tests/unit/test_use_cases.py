"""The use cases (booking/*.py over a Context) against the in-memory fakes and a fixed clock.

The clock starts on Monday 2030-01-07 08:00 UTC; the default coach works Mon-Fri 09:00-17:00
UTC with 60-minute sessions, 24 h minimum notice and a 60-day horizon.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from booking import bookings, cancellation, catalog, holds, lifecycle, queries, refunds, rescheduling, slots
from booking.context import Context
from booking.errors import (
    InvalidInput,
    InvalidTransition,
    NotAllowed,
    NotFound,
    PolicyViolation,
    SlotTaken,
    SlotUnavailable,
)
from booking.model import Actor, Author, Coach, OverrideKind, Session, SessionStatus
from tests.fakes import DEFAULT_NOW, FakeClock, FakePayments, FakeVideo, Store, make_context

MON = datetime(2030, 1, 7, tzinfo=UTC)
TUE_10 = datetime(2030, 1, 8, 10, tzinfo=UTC)
WED_10 = datetime(2030, 1, 9, 10, tzinfo=UTC)
THU_10 = datetime(2030, 1, 10, 10, tzinfo=UTC)
H = timedelta(hours=1)


@dataclass
class World:
    ctx: Context
    store: Store
    clock: FakeClock
    payments: FakePayments
    video: FakeVideo
    coach: Coach
    author: Author
    other: Author


async def world(*, payments: bool = False, **coach_fields) -> World:
    ctx, store, clock, pay, video = make_context(payments_enabled=payments)
    fields = {"name": "Ada", "timezone": "UTC", "rate": 6000, "durations": [60], **coach_fields}
    coach = await catalog.add_coach(ctx, **fields)
    for day in ("mon", "tue", "wed", "thu", "fri"):
        await catalog.add_rule(ctx, coach.id, weekday=day, start="09:00", end="17:00")
    author = await catalog.add_author(ctx, name="Ann", timezone="UTC", telegram_id=1)
    other = await catalog.add_author(ctx, name="Bob", timezone="UTC", telegram_id=2)
    return World(ctx, store, clock, pay, video, coach, author, other)


async def paid(w: World, start: datetime = WED_10, author: Author | None = None) -> Session:
    """A scheduled session paid in full."""
    held = await bookings.book(w.ctx, w.coach.id, (author or w.author).id, start)
    assert held.status is SessionStatus.HELD
    return await bookings.confirm_payment(w.ctx, held.id, amount=held.price_amount, payment_ref="pi_1")


def outbox_kinds(store: Store, session_id: int | None = None, to: str = "author") -> list[str]:
    return [m.kind for m in store.outbox if (session_id is None or m.session_id == session_id) and m.recipient == to]


def starts(alternatives) -> list[datetime]:
    return [a for a, _ in alternatives]


# ---- booking ---------------------------------------------------------------------------


async def test_book_valid_slot_with_payments_off():
    w = await world(
        rate=4999, durations=[45, 60], slot_step_minutes=30, buffer_before_minutes=10, buffer_after_minutes=15
    )

    s = await bookings.book(w.ctx, w.coach.id, w.author.id, WED_10, duration=45, focus="  chapter 3  ")

    assert s.status is SessionStatus.SCHEDULED
    assert (s.starts_at, s.ends_at) == (WED_10, WED_10 + timedelta(minutes=45))
    assert s.price_amount == 3749  # 4999 * 45 / 60 = 3749.25
    assert s.currency == "usd"
    assert s.blocked_from == WED_10 - timedelta(minutes=10)
    assert s.blocked_until == WED_10 + timedelta(minutes=45 + 15)
    assert s.hold_expires_at is None
    assert s.focus == "chapter 3"
    stored = w.store.sessions[s.id]
    assert stored == s
    assert outbox_kinds(w.store, s.id) == ["session_confirmed", "reminder", "reminder", "starting_now"]
    assert outbox_kinds(w.store, s.id, to="coach") == ["session_confirmed", "reminder", "reminder"]
    assert outbox_kinds(w.store, s.id, to="admin") == ["session_confirmed"]
    due = [
        (m.kind, m.payload.get("minutes_before"), m.due_at)
        for m in w.store.outbox
        if m.session_id == s.id and m.recipient == "author"
    ]
    assert due[1:] == [
        ("reminder", 1440, s.starts_at - timedelta(days=1)),
        ("reminder", 60, s.starts_at - timedelta(hours=1)),
        ("starting_now", None, s.starts_at),
    ]
    [change] = w.store.changes
    assert (change.session_id, change.from_status, change.to_status, change.actor) == (
        s.id,
        None,
        SessionStatus.SCHEDULED,
        Actor.AUTHOR,
    )
    assert w.payments.checkouts == []


async def test_price_rounds_half_up():
    w = await world(rate=1001, durations=[30])
    s = await bookings.book(w.ctx, w.coach.id, w.author.id, WED_10)
    assert s.price_amount == 501  # 500.5


async def test_meeting_url_attached_after_booking():
    w = await world()
    s = await bookings.book(w.ctx, w.coach.id, w.author.id, WED_10)
    assert w.video.created == [s.meeting_url]
    assert w.store.sessions[s.id].meeting_url == s.meeting_url


async def test_booking_survives_a_video_failure():
    w = await world()
    w.video.fail = True
    s = await bookings.book(w.ctx, w.coach.id, w.author.id, WED_10)
    assert s.status is SessionStatus.SCHEDULED
    assert s.meeting_url is None
    assert w.store.sessions[s.id].status is SessionStatus.SCHEDULED


async def test_booking_accepts_any_offset_and_stores_utc():
    w = await world()
    local = WED_10.astimezone(ZoneInfo("America/New_York"))
    s = await bookings.book(w.ctx, w.coach.id, w.author.id, local)
    assert s.starts_at == WED_10
    assert s.starts_at.utcoffset() == timedelta(0)


async def test_rules_are_in_the_coach_time_zone():
    w = await world(timezone="Europe/Berlin")  # UTC+1 in January
    with pytest.raises(SlotUnavailable):
        await bookings.book(w.ctx, w.coach.id, w.author.id, datetime(2030, 1, 9, 16, tzinfo=UTC))  # 17:00 Berlin
    s = await bookings.book(w.ctx, w.coach.id, w.author.id, datetime(2030, 1, 9, 8, tzinfo=UTC))  # 09:00 Berlin
    assert s.starts_at == datetime(2030, 1, 9, 8, tzinfo=UTC)


@pytest.mark.parametrize(
    ("start", "message", "expected"),
    [
        # Wednesday 20:00: outside the weekly hours; nearest are that afternoon's slots.
        (
            datetime(2030, 1, 9, 20, tzinfo=UTC),
            "Ada is not available at that time",
            [datetime(2030, 1, 9, h, tzinfo=UTC) for h in (14, 15, 16)],
        ),
        # Monday 10:00, two hours from now: inside the 24 h notice; first free is Tuesday 09:00.
        (
            datetime(2030, 1, 7, 10, tzinfo=UTC),
            "Ada needs at least 24 h notice",
            [datetime(2030, 1, 8, h, tzinfo=UTC) for h in (9, 10, 11)],
        ),
        # Friday 2030-03-08 10:00: past the 60-day horizon (which ends that day at 08:00).
        (
            datetime(2030, 3, 8, 10, tzinfo=UTC),
            "Ada takes bookings at most 60 days ahead",
            [datetime(2030, 3, 7, h, tzinfo=UTC) for h in (14, 15, 16)],
        ),
        # Last Wednesday: in the past; the nearest free slots are the first bookable ones.
        (
            datetime(2030, 1, 2, 10, tzinfo=UTC),
            "that time is in the past",
            [datetime(2030, 1, 8, h, tzinfo=UTC) for h in (9, 10, 11)],
        ),
    ],
    ids=["outside-hours", "min-notice", "horizon", "past"],
)
async def test_unbookable_times_are_refused_with_alternatives(start, message, expected):
    w = await world()
    with pytest.raises(SlotUnavailable) as info:
        await bookings.book(w.ctx, w.coach.id, w.author.id, start)
    assert type(info.value) is SlotUnavailable
    assert info.value.message == message
    assert starts(info.value.alternatives) == expected
    assert all(end - begin == H for begin, end in info.value.alternatives)
    assert w.store.sessions == {}


async def test_off_grid_start_is_unavailable():
    w = await world()
    with pytest.raises(SlotUnavailable) as info:
        await bookings.book(w.ctx, w.coach.id, w.author.id, WED_10 + timedelta(minutes=30))
    assert info.value.message == "Ada is not available at that time"
    assert starts(info.value.alternatives) == [WED_10 - H, WED_10, WED_10 + H]


async def test_time_off_override_blocks_the_slot():
    w = await world()
    await catalog.add_override(w.ctx, w.coach.id, kind=OverrideKind.BLOCK, start=WED_10, end=WED_10 + 2 * H)
    with pytest.raises(SlotUnavailable) as info:
        await bookings.book(w.ctx, w.coach.id, w.author.id, WED_10)
    assert not isinstance(info.value, SlotTaken)
    assert WED_10 not in starts(info.value.alternatives)


async def test_extra_hours_override_opens_a_slot():
    w = await world()
    saturday = datetime(2030, 1, 12, 10, tzinfo=UTC)
    with pytest.raises(SlotUnavailable):
        await bookings.book(w.ctx, w.coach.id, w.author.id, saturday)
    await catalog.add_override(w.ctx, w.coach.id, kind=OverrideKind.EXTRA, start=saturday, end=saturday + 2 * H)
    s = await bookings.book(w.ctx, w.coach.id, w.author.id, saturday)
    assert s.starts_at == saturday


async def test_taken_slot_raises_slot_taken_with_alternatives():
    w = await world()
    first = await bookings.book(w.ctx, w.coach.id, w.author.id, WED_10)
    with pytest.raises(SlotTaken) as info:
        await bookings.book(w.ctx, w.coach.id, w.other.id, WED_10)
    assert info.value.message == "that slot was just taken"
    assert starts(info.value.alternatives) == [WED_10 - H, WED_10 + H, WED_10 + 2 * H]
    assert list(w.store.sessions) == [first.id]


async def test_buffers_keep_the_neighbouring_slot_clear():
    w = await world(buffer_after_minutes=30)
    await bookings.book(w.ctx, w.coach.id, w.author.id, WED_10)  # blocks 10:00-11:30
    with pytest.raises(SlotTaken):
        await bookings.book(w.ctx, w.coach.id, w.other.id, WED_10 + H)
    s = await bookings.book(w.ctx, w.coach.id, w.other.id, WED_10 + 2 * H)
    assert s.starts_at == WED_10 + 2 * H


async def test_slots_leave_out_booked_times():
    w = await world()
    await bookings.book(w.ctx, w.coach.id, w.author.id, WED_10)
    day = await slots.slots(w.ctx, w.coach.id, datetime(2030, 1, 9, tzinfo=UTC), datetime(2030, 1, 10, tzinfo=UTC))
    assert [s.start.hour for s in day] == [9, 11, 12, 13, 14, 15, 16]


async def test_duration_not_offered():
    w = await world(durations=[30, 60])
    with pytest.raises(InvalidInput) as info:
        await bookings.book(w.ctx, w.coach.id, w.author.id, WED_10, duration=45)
    assert info.value.field == "duration"
    assert w.store.sessions == {}


async def test_unknown_coach_or_author():
    w = await world()
    with pytest.raises(NotFound):
        await bookings.book(w.ctx, 999, w.author.id, WED_10)
    with pytest.raises(NotFound):
        await bookings.book(w.ctx, w.coach.id, 999, WED_10)
    assert w.store.sessions == {}


async def test_inactive_coach_is_refused():
    w = await world()
    await catalog.update_coach(w.ctx, w.coach.id, is_active=False)
    with pytest.raises(NotAllowed):
        await bookings.book(w.ctx, w.coach.id, w.author.id, WED_10)
    assert w.store.sessions == {}
    assert await slots.slots(w.ctx, w.coach.id, MON, MON + timedelta(days=7)) == []


async def test_naive_datetime_is_refused():
    w = await world()
    with pytest.raises(InvalidInput) as info:
        await bookings.book(w.ctx, w.coach.id, w.author.id, datetime(2030, 1, 9, 10))
    assert info.value.field == "start"


# ---- payments and holds ----------------------------------------------------------------


async def test_booking_with_payments_holds_the_slot_and_opens_a_checkout():
    w = await world(payments=True)
    s = await bookings.book(w.ctx, w.coach.id, w.author.id, WED_10)

    assert s.status is SessionStatus.HELD
    assert s.hold_expires_at == DEFAULT_NOW + timedelta(minutes=30)
    assert w.payments.checkouts == [(s.id, 6000)]
    assert s.checkout_ref == "cs_1" and s.checkout_url == "https://pay.test/checkout/cs_1"
    stored = w.store.sessions[s.id]
    assert (stored.status, stored.checkout_ref, stored.checkout_url) == (
        SessionStatus.HELD,
        s.checkout_ref,
        s.checkout_url,
    )
    assert outbox_kinds(w.store) == []  # nothing confirmed yet
    assert s.meeting_url is None and w.video.created == []


async def test_free_session_is_scheduled_even_with_payments_on():
    w = await world(payments=True, rate=0)
    s = await bookings.book(w.ctx, w.coach.id, w.author.id, WED_10)
    assert s.status is SessionStatus.SCHEDULED
    assert w.payments.checkouts == []


async def test_checkout_failure_leaves_the_session_held():
    w = await world(payments=True)
    w.payments.fail_checkout = True
    s = await bookings.book(w.ctx, w.coach.id, w.author.id, WED_10)
    stored = w.store.sessions[s.id]
    assert stored.status is SessionStatus.HELD
    assert stored.checkout_url is None and stored.checkout_ref is None
    assert stored.hold_expires_at == DEFAULT_NOW + timedelta(minutes=30)


async def test_confirm_payment_schedules_the_session():
    w = await world(payments=True)
    held = await bookings.book(w.ctx, w.coach.id, w.author.id, WED_10)
    w.clock.advance(minutes=5)

    s = await bookings.confirm_payment(w.ctx, held.id, amount=6000, payment_ref="pi_42")

    stored = w.store.sessions[s.id]
    assert stored.status is SessionStatus.SCHEDULED
    assert (stored.amount_paid, stored.payment_ref, stored.hold_expires_at) == (6000, "pi_42", None)
    assert stored.meeting_url == s.meeting_url == w.video.created[0]
    assert outbox_kinds(w.store, s.id) == ["session_confirmed", "reminder", "reminder", "starting_now"]
    assert outbox_kinds(w.store, s.id, to="coach") == ["session_confirmed", "reminder", "reminder"]
    assert outbox_kinds(w.store, s.id, to="admin") == ["session_confirmed"]
    due = [
        (m.kind, m.payload.get("minutes_before"), m.due_at)
        for m in w.store.outbox
        if m.session_id == s.id and m.recipient == "author"
    ]
    assert due[1:] == [
        ("reminder", 1440, s.starts_at - timedelta(days=1)),
        ("reminder", 60, s.starts_at - timedelta(hours=1)),
        ("starting_now", None, s.starts_at),
    ]
    last = w.store.changes[-1]
    assert (last.from_status, last.to_status, last.actor) == (SessionStatus.HELD, SessionStatus.SCHEDULED, Actor.SYSTEM)


async def test_confirm_payment_twice_is_refused():
    w = await world(payments=True)
    s = await paid(w)
    with pytest.raises(InvalidTransition):
        await bookings.confirm_payment(w.ctx, s.id, amount=6000, payment_ref="pi_2")
    assert w.store.sessions[s.id].amount_paid == 6000


async def test_hold_is_kept_until_it_expires():
    w = await world(payments=True)
    s = await bookings.book(w.ctx, w.coach.id, w.author.id, WED_10)
    w.clock.advance(minutes=29)
    assert await holds.expire_holds(w.ctx) == 0
    assert w.store.sessions[s.id].status is SessionStatus.HELD
    with pytest.raises(SlotTaken):
        await bookings.book(w.ctx, w.coach.id, w.other.id, WED_10)


async def test_expire_holds_releases_an_expired_hold():
    w = await world(payments=True)
    s = await bookings.book(w.ctx, w.coach.id, w.author.id, WED_10)
    w.clock.advance(minutes=30)  # expiry is inclusive

    assert await holds.expire_holds(w.ctx) == 1

    stored = w.store.sessions[s.id]
    assert stored.status is SessionStatus.CANCELLED
    assert stored.cancelled_by is Actor.SYSTEM
    assert stored.cancelled_at == w.clock.now()
    assert outbox_kinds(w.store, s.id) == ["hold_expired"]
    assert await holds.expire_holds(w.ctx) == 0
    again = await bookings.book(w.ctx, w.coach.id, w.other.id, WED_10)
    assert again.id != s.id and again.status is SessionStatus.HELD


async def test_booking_lazily_releases_an_expired_hold_on_the_same_slot():
    w = await world(payments=True)
    first = await bookings.book(w.ctx, w.coach.id, w.author.id, WED_10)
    w.clock.advance(minutes=31)

    second = await bookings.book(w.ctx, w.coach.id, w.other.id, WED_10)

    assert second.status is SessionStatus.HELD
    released = w.store.sessions[first.id]
    assert released.status is SessionStatus.CANCELLED and released.cancelled_by is Actor.SYSTEM
    with pytest.raises(InvalidTransition):
        await bookings.confirm_payment(w.ctx, first.id, amount=6000, payment_ref="late")


# ---- cancel and refund -----------------------------------------------------------------


async def test_author_cancelling_early_gets_a_full_refund():
    w = await world(payments=True)
    s = await paid(w)
    url = s.meeting_url

    out = await cancellation.cancel(w.ctx, s.id, by=Actor.AUTHOR, reason="sick")

    [(session_id, amount, key)] = w.payments.refunds
    assert (session_id, amount) == (s.id, 6000)
    assert key and str(s.id) in key
    stored = w.store.sessions[s.id]
    assert out.status is stored.status is SessionStatus.CANCELLED
    assert (stored.amount_refunded, stored.cancelled_by, stored.cancel_reason) == (6000, Actor.AUTHOR, "sick")
    assert stored.refundable == 0
    cancelled = [m for m in w.store.outbox if m.kind == "session_cancelled"]
    assert cancelled[0].payload == {"by": "author", "refund": 6000}
    assert w.video.deleted == [url]


async def test_author_may_cancel_exactly_at_the_cutoff():
    w = await world(payments=True)
    s = await paid(w)
    w.clock.set(WED_10 - timedelta(hours=24))
    await cancellation.cancel(w.ctx, s.id, by=Actor.AUTHOR)
    assert w.store.sessions[s.id].status is SessionStatus.CANCELLED
    assert w.payments.refunds[0][1] == 6000


async def test_author_cancelling_late_is_refused_and_nothing_changes():
    w = await world(payments=True)
    s = await paid(w)
    w.clock.set(WED_10 - timedelta(hours=24) + timedelta(seconds=1))
    before, commits = w.store.snapshot(), w.store.commits

    with pytest.raises(PolicyViolation):
        await cancellation.cancel(w.ctx, s.id, by=Actor.AUTHOR)

    assert w.payments.refunds == []
    assert w.store.snapshot() == before
    assert w.store.commits == commits
    assert w.video.deleted == []


@pytest.mark.parametrize("by", [Actor.COACH, Actor.ADMIN])
async def test_coach_or_admin_may_cancel_any_time_with_full_refund(by):
    w = await world(payments=True)
    s = await paid(w)
    w.clock.set(WED_10 - timedelta(minutes=5))
    await cancellation.cancel(w.ctx, s.id, by=by)
    stored = w.store.sessions[s.id]
    assert stored.status is SessionStatus.CANCELLED and stored.cancelled_by is by
    assert stored.amount_refunded == 6000
    assert [r[1] for r in w.payments.refunds] == [6000]


async def test_cancelling_an_unpaid_session_refunds_nothing():
    w = await world()
    s = await bookings.book(w.ctx, w.coach.id, w.author.id, WED_10)
    await cancellation.cancel(w.ctx, s.id, by=Actor.AUTHOR)
    assert w.payments.refunds == []
    assert w.store.sessions[s.id].status is SessionStatus.CANCELLED
    # the slot is free again
    await bookings.book(w.ctx, w.coach.id, w.other.id, WED_10)


async def test_cancelling_a_cancelled_session():
    w = await world()
    s = await bookings.book(w.ctx, w.coach.id, w.author.id, WED_10)
    await cancellation.cancel(w.ctx, s.id, by=Actor.COACH)
    with pytest.raises(InvalidTransition):
        await cancellation.cancel(w.ctx, s.id, by=Actor.COACH)


async def test_refund_is_recorded_only_when_the_gateway_accepts_it():
    w = await world(payments=True)
    s = await paid(w)
    w.payments.fail_refund = True
    out = await cancellation.cancel(w.ctx, s.id, by=Actor.COACH)
    stored = w.store.sessions[s.id]
    assert out.status is stored.status is SessionStatus.CANCELLED  # the cancellation itself stands
    assert (stored.amount_refunded, stored.refund_due) == (0, 6000)
    assert await refunds.settle_refunds(w.ctx) == 0  # still refused: still owed
    assert outbox_kinds(w.store, s.id, to="admin").count("refund_owed") == 1  # the admins hear once

    w.payments.fail_refund = False
    assert await refunds.settle_refunds(w.ctx) == 0  # just granted: a retry would race the change's own
    w.clock.advance(minutes=3)
    assert await refunds.settle_refunds(w.ctx) == 1
    stored = w.store.sessions[s.id]
    assert (stored.amount_refunded, stored.refund_due) == (6000, 0)
    # a retry of the same refund carries the same idempotency key
    assert w.payments.refunds[0][2] == f"refund-{s.id}-0-6000-0"


async def test_refund_amount_is_bounded_by_what_is_left():
    w = await world(payments=True)
    s = await paid(w)
    await refunds.refund(w.ctx, s.id, 1000, reason="goodwill")
    for amount in (0, -1, 5001):
        with pytest.raises(InvalidInput) as info:
            await refunds.refund(w.ctx, s.id, amount, reason="x")
        assert info.value.field == "amount"
    await refunds.refund(w.ctx, s.id, 5000, reason="rest")
    assert w.store.sessions[s.id].amount_refunded == 6000
    assert len({key for _, _, key in w.payments.refunds}) == 2


# ---- reschedule ------------------------------------------------------------------------


async def test_reschedule_moves_the_session_in_place():
    w = await world(buffer_before_minutes=5, buffer_after_minutes=10)
    s = await bookings.book(w.ctx, w.coach.id, w.author.id, WED_10)
    old_url = s.meeting_url

    moved = await rescheduling.reschedule(w.ctx, s.id, THU_10)

    assert moved.id == s.id
    stored = w.store.sessions[s.id]
    assert (stored.starts_at, stored.ends_at) == (THU_10, THU_10 + H)
    assert (stored.blocked_from, stored.blocked_until) == (
        THU_10 - timedelta(minutes=5),
        THU_10 + H + timedelta(minutes=10),
    )
    assert stored.status is SessionStatus.SCHEDULED
    assert len(w.store.sessions) == 1
    # meeting link replaced
    assert w.video.deleted == [old_url]
    assert stored.meeting_url == moved.meeting_url == w.video.created[-1] != old_url
    rescheduled = [m for m in w.store.outbox if m.kind == "session_rescheduled"]
    assert rescheduled[0].payload == {"by": "author", "previous": WED_10.isoformat()}
    # the old slot is free again
    other = await bookings.book(w.ctx, w.coach.id, w.other.id, WED_10)
    assert other.id != s.id


async def test_reschedule_to_an_invalid_time_is_refused_with_alternatives():
    w = await world()
    s = await bookings.book(w.ctx, w.coach.id, w.author.id, WED_10)
    before = w.store.snapshot()
    saturday = datetime(2030, 1, 12, 10, tzinfo=UTC)
    with pytest.raises(SlotUnavailable) as info:
        await rescheduling.reschedule(w.ctx, s.id, saturday)
    assert not isinstance(info.value, SlotTaken)
    assert info.value.alternatives
    assert w.store.snapshot() == before


async def test_author_may_not_reschedule_within_24h_but_the_coach_may():
    w = await world()
    s = await bookings.book(w.ctx, w.coach.id, w.author.id, WED_10)
    w.clock.set(WED_10 - timedelta(hours=23))
    before = w.store.snapshot()
    with pytest.raises(PolicyViolation):
        await rescheduling.reschedule(w.ctx, s.id, THU_10, by=Actor.AUTHOR)
    assert w.store.snapshot() == before

    moved = await rescheduling.reschedule(w.ctx, s.id, THU_10, by=Actor.COACH)
    assert moved.starts_at == THU_10


async def test_reschedule_may_overlap_its_own_old_time():
    w = await world(slot_step_minutes=30, buffer_after_minutes=15)
    s = await bookings.book(w.ctx, w.coach.id, w.author.id, WED_10)
    moved = await rescheduling.reschedule(w.ctx, s.id, WED_10 + timedelta(minutes=30))
    assert moved.id == s.id
    assert w.store.sessions[s.id].starts_at == WED_10 + timedelta(minutes=30)


async def test_reschedule_onto_another_session_is_taken_and_changes_nothing():
    w = await world()
    s = await bookings.book(w.ctx, w.coach.id, w.author.id, WED_10)
    await bookings.book(w.ctx, w.coach.id, w.other.id, THU_10)
    before = w.store.snapshot()
    with pytest.raises(SlotTaken) as info:
        await rescheduling.reschedule(w.ctx, s.id, THU_10)
    assert THU_10 not in starts(info.value.alternatives)
    assert w.store.snapshot() == before
    assert w.video.deleted == []


async def test_only_scheduled_sessions_can_move():
    w = await world()
    s = await bookings.book(w.ctx, w.coach.id, w.author.id, WED_10)
    await cancellation.cancel(w.ctx, s.id, by=Actor.COACH)
    with pytest.raises(InvalidTransition):
        await rescheduling.reschedule(w.ctx, s.id, THU_10)


# ---- complete, no-show, rate -----------------------------------------------------------


async def test_complete_only_after_the_start():
    w = await world()
    s = await bookings.book(w.ctx, w.coach.id, w.author.id, WED_10)
    with pytest.raises(InvalidTransition):
        await lifecycle.complete(w.ctx, s.id)
    w.clock.set(WED_10 + timedelta(minutes=55))
    done = await lifecycle.complete(w.ctx, s.id)
    assert done.status is w.store.sessions[s.id].status is SessionStatus.COMPLETED
    assert w.store.coaches[w.coach.id].total_sessions == 1
    assert outbox_kinds(w.store, s.id)[-1] == "rating_prompt"
    with pytest.raises(InvalidTransition):
        await lifecycle.complete(w.ctx, s.id)
    assert w.store.coaches[w.coach.id].total_sessions == 1


async def test_author_no_show_is_not_refunded():
    w = await world(payments=True)
    s = await paid(w)
    w.clock.set(WED_10 + timedelta(minutes=15))
    out = await lifecycle.no_show(w.ctx, s.id, who=Actor.AUTHOR)
    assert out.status is w.store.sessions[s.id].status is SessionStatus.NO_SHOW
    assert w.payments.refunds == []
    assert w.store.sessions[s.id].amount_refunded == 0


async def test_coach_no_show_is_refunded_in_full():
    w = await world(payments=True)
    s = await paid(w)
    w.clock.set(WED_10 + timedelta(minutes=15))
    await lifecycle.no_show(w.ctx, s.id, who=Actor.COACH)
    assert [r[1] for r in w.payments.refunds] == [6000]
    stored = w.store.sessions[s.id]
    assert (stored.status, stored.amount_refunded) == (SessionStatus.NO_SHOW, 6000)


async def test_no_show_needs_a_started_session_and_a_person():
    w = await world()
    s = await bookings.book(w.ctx, w.coach.id, w.author.id, WED_10)
    with pytest.raises(InvalidTransition):
        await lifecycle.no_show(w.ctx, s.id)
    with pytest.raises(InvalidInput) as info:
        await lifecycle.no_show(w.ctx, s.id, who=Actor.ADMIN)
    assert info.value.field == "who"


async def completed(w: World, start: datetime = WED_10, author: Author | None = None) -> Session:
    s = await bookings.book(w.ctx, w.coach.id, (author or w.author).id, start)
    w.clock.set(start + H)
    await lifecycle.complete(w.ctx, s.id)
    w.clock.set(DEFAULT_NOW)
    return s


@pytest.mark.parametrize("stars", [0, 6, -1, True, 4.5])
async def test_rating_must_be_one_to_five(stars):
    w = await world()
    s = await completed(w)
    with pytest.raises(InvalidInput) as info:
        await lifecycle.rate(w.ctx, s.id, author_id=w.author.id, stars=stars)
    assert info.value.field == "stars"
    assert w.store.sessions[s.id].rating is None


async def test_only_the_author_may_rate():
    w = await world()
    s = await completed(w)
    with pytest.raises(NotAllowed):
        await lifecycle.rate(w.ctx, s.id, author_id=w.other.id, stars=5)
    assert w.store.coaches[w.coach.id].rating_count == 0


async def test_only_completed_sessions_can_be_rated_and_only_once():
    w = await world()
    s = await bookings.book(w.ctx, w.coach.id, w.author.id, WED_10)
    with pytest.raises(InvalidTransition):
        await lifecycle.rate(w.ctx, s.id, author_id=w.author.id, stars=5)
    w.clock.set(WED_10 + H)
    await lifecycle.complete(w.ctx, s.id)
    await lifecycle.rate(w.ctx, s.id, author_id=w.author.id, stars=5, feedback=" great ")
    with pytest.raises(InvalidTransition):
        await lifecycle.rate(w.ctx, s.id, author_id=w.author.id, stars=1)
    stored = w.store.sessions[s.id]
    assert (stored.rating, stored.feedback, stored.rated_at) == (5, "great", WED_10 + H)
    coach = w.store.coaches[w.coach.id]
    assert (coach.rating_total, coach.rating_count) == (5, 1)


async def test_coach_rating_is_the_rounded_mean():
    w = await world()
    sessions = [await completed(w, start) for start in (TUE_10, WED_10, THU_10)]
    for s, stars in zip(sessions, (5, 5, 4), strict=True):
        await lifecycle.rate(w.ctx, s.id, author_id=w.author.id, stars=stars)
    coach = w.store.coaches[w.coach.id]
    assert (coach.rating_total, coach.rating_count) == (14, 3)
    assert coach.rating == Decimal("4.67")
    assert outbox_kinds(w.store, to="coach").count("session_rated") == 3


# ---- listing ---------------------------------------------------------------------------


async def test_sessions_upcoming_and_past():
    w = await world()
    a = await bookings.book(w.ctx, w.coach.id, w.author.id, TUE_10)
    b = await bookings.book(w.ctx, w.coach.id, w.author.id, THU_10)
    c = await bookings.book(w.ctx, w.coach.id, w.other.id, WED_10)
    await cancellation.cancel(w.ctx, c.id, by=Actor.COACH)
    w.clock.set(WED_10)
    assert [s.id for s in await queries.sessions(w.ctx, author_id=w.author.id, when="upcoming")] == [b.id]
    assert [s.id for s in await queries.sessions(w.ctx, coach_id=w.coach.id, when="past")] == [a.id]
    assert [s.id for s in await queries.sessions(w.ctx, coach_id=w.coach.id)] == [a.id, c.id, b.id]
    with pytest.raises(NotFound):
        await queries.sessions(w.ctx, author_id=999)


# ---- availability rules ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("weekday", "start", "end", "field"),
    [
        ("funday", "09:00", "17:00", "weekday"),
        ("", "09:00", "17:00", "weekday"),
        ("mo", "09:00", "17:00", "weekday"),
        ("sunny", "09:00", "17:00", "weekday"),
        ("friend", "09:00", "17:00", "weekday"),
        ("mondays", "09:00", "17:00", "weekday"),
        ("3", "09:00", "17:00", "weekday"),
        ("mon", "9am", "17:00", "start"),
        ("mon", "24:00", "17:00", "start"),
        ("mon", "09:60", "17:00", "start"),
        ("mon", "09:00", "25:00", "end"),
        ("mon", "09:00", "5pm", "end"),
        ("mon", "17:00", "09:00", "end"),
        ("mon", "09:00", "09:00", "end"),
    ],
)
async def test_add_rule_validation(weekday, start, end, field):
    ctx, store, *_ = make_context()
    coach = await catalog.add_coach(ctx, name="Ada", timezone="UTC", rate=6000)
    before, commits = store.snapshot(), store.commits
    with pytest.raises(InvalidInput) as info:
        await catalog.add_rule(ctx, coach.id, weekday=weekday, start=start, end=end)
    assert info.value.field == field
    assert store.snapshot() == before and store.commits == commits


async def test_add_rule_refuses_overlaps_but_allows_touching_rules():
    ctx, store, *_ = make_context()
    coach = await catalog.add_coach(ctx, name="Ada", timezone="UTC", rate=6000)
    first = await catalog.add_rule(ctx, coach.id, weekday="Monday", start="09:00", end="12:00")
    before = store.snapshot()
    with pytest.raises(InvalidInput) as info:
        await catalog.add_rule(ctx, coach.id, weekday="mon", start="11:00", end="13:00")
    assert info.value.field == "start"
    assert str(first.id) in info.value.message
    assert store.snapshot() == before
    await catalog.add_rule(ctx, coach.id, weekday="mon", start="12:00", end="24:00")
    await catalog.add_rule(ctx, coach.id, weekday="tue", start="10:00", end="11:00")
    rules = await catalog.rules(ctx, coach.id)
    assert [(r.weekday, r.start_minute, r.end_minute) for r in rules] == [(0, 540, 720), (0, 720, 1440), (1, 600, 660)]


@pytest.mark.parametrize(
    ("spelling", "index"),
    [("mon", 0), ("Monday", 0), (" TUE ", 1), ("wednesday", 2), ("Thurs", 3), ("fri", 4), ("Sat", 5), ("sunday", 6)],
)
async def test_add_rule_weekday_spellings(spelling, index):
    ctx, store, *_ = make_context()
    coach = await catalog.add_coach(ctx, name="Ada", timezone="UTC", rate=6000)
    rule = await catalog.add_rule(ctx, coach.id, weekday=spelling, start="09:00", end="17:00")
    assert store.rules[rule.id].weekday == index


async def test_add_rule_for_unknown_coach():
    ctx, store, *_ = make_context()
    with pytest.raises(NotFound):
        await catalog.add_rule(ctx, 42, weekday="mon", start="09:00", end="17:00")
    assert store.rules == {} and store.commits == 0


async def test_remove_rule():
    w = await world()
    rule = (await catalog.rules(w.ctx, w.coach.id))[0]
    await catalog.remove_rule(w.ctx, w.coach.id, rule.id)
    assert rule.id not in w.store.rules
    with pytest.raises(NotFound):
        await catalog.remove_rule(w.ctx, w.coach.id, rule.id)
    with pytest.raises(SlotUnavailable):  # Monday's hours are gone
        await bookings.book(w.ctx, w.coach.id, w.author.id, datetime(2030, 1, 14, 10, tzinfo=UTC))


# ---- coaches and authors ---------------------------------------------------------------


VALID_COACH = {"name": "Ada", "timezone": "UTC", "rate": 6000}


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"timezone": "Mars/Olympus_Mons"}, "timezone"),
        ({"timezone": ""}, "timezone"),
        ({"rate": -1}, "rate"),
        ({"rate": 10_000_001}, "rate"),
        ({"rate": 60.5}, "rate"),
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"currency": "dollars"}, "currency"),
        ({"currency": "u$d"}, "currency"),
        ({"durations": []}, "durations"),
        ({"durations": [3]}, "durations"),
        ({"durations": [60, 60]}, "durations"),
        ({"durations": [60, 600]}, "durations"),
        ({"min_notice_minutes": -1}, "min_notice"),
        ({"horizon_days": 0}, "horizon_days"),
        ({"buffer_after_minutes": 24 * 60 + 1}, "buffer_after"),
        ({"slot_step_minutes": 1}, "slot_step"),
    ],
)
async def test_add_coach_validation(changes, field):
    ctx, store, *_ = make_context()
    with pytest.raises(InvalidInput) as info:
        await catalog.add_coach(ctx, **{**VALID_COACH, **changes})
    assert info.value.field == field
    assert store.coaches == {} and store.commits == 0


async def test_add_coach_normalises_its_input():
    ctx, store, *_ = make_context()
    coach = await catalog.add_coach(
        ctx,
        name="  Ada  ",
        timezone="europe/berlin",
        rate=0,
        currency="EUR",
        durations=[90, 30],
        specialties=["Plot", "plot"],
    )
    stored = store.coaches[coach.id]
    assert (stored.name, stored.timezone, stored.currency) == ("Ada", "Europe/Berlin", "eur")
    assert stored.durations == [30, 90]
    assert stored.specialties == ["plot"]


async def test_update_coach_validates_and_writes_nothing_on_failure():
    w = await world()
    before = w.store.snapshot()
    for changes, field in (
        ({"rate": -5}, "rate"),
        ({"timezone": "Nowhere"}, "timezone"),
        ({"colour": "red"}, "colour"),
    ):
        with pytest.raises(InvalidInput) as info:
            await catalog.update_coach(w.ctx, w.coach.id, **changes)
        assert info.value.field == field
    assert w.store.snapshot() == before
    updated = await catalog.update_coach(w.ctx, w.coach.id, rate=7000, currency="EUR")
    assert (updated.rate, updated.currency) == (7000, "eur")
    assert (w.store.coaches[w.coach.id].rate, w.store.coaches[w.coach.id].currency) == (7000, "eur")


async def test_update_coach_cannot_change_the_id():
    w = await world()
    before = w.store.snapshot()
    with pytest.raises(InvalidInput) as info:
        await catalog.update_coach(w.ctx, w.coach.id, id=w.coach.id + 100)
    assert info.value.field == "id"
    assert w.store.snapshot() == before


async def test_add_author_validation():
    ctx, store, *_ = make_context()
    with pytest.raises(InvalidInput) as info:
        await catalog.add_author(ctx, name="Ann", timezone="Atlantis/Capital")
    assert info.value.field == "timezone"
    with pytest.raises(InvalidInput) as info:
        await catalog.add_author(ctx, name="", timezone="UTC")
    assert info.value.field == "name"
    await catalog.add_author(ctx, name="Ann", timezone="UTC", telegram_id=7)
    before = store.snapshot()
    with pytest.raises(InvalidInput) as info:
        await catalog.add_author(ctx, name="Bob", timezone="UTC", telegram_id=7)
    assert info.value.field == "telegram_id"
    assert store.snapshot() == before


# ---- the fakes themselves --------------------------------------------------------------


async def test_unit_of_work_rolls_back_without_commit():
    ctx, store, *_ = make_context()
    async with ctx.uow() as uow:
        await uow.authors.add(Author(name="Ann", timezone="UTC"))
    assert store.authors == {} and store.commits == 0
    async with ctx.uow() as uow:
        author = await uow.authors.add(Author(name="Ann", timezone="UTC"))
        await uow.commit()
        assert uow.commits == 1
    async with ctx.uow() as uow:
        loaded = await uow.authors.get(author.id)
        loaded.name = "changed"
    assert store.authors[author.id].name == "Ann"
