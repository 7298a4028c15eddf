"""Where series, credits, group seats and waiting lists meet (found by review; each failed before
its fix): a series is confirmed once its last unpaid date is cancelled, a series date paid late is
confirmed on its own, a seat does not close a 1:1 waiting list, a series' late payment is refunded
as late, and a credit-paid session cannot move past its credit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from booking import bookings, groups, holds, payments, queries, series, waitlist, waitlist_offers
from booking.errors import PolicyViolation
from booking.model import Actor, SessionStatus
from booking.series_model import Repeat, SeriesPayment
from booking.waitlist_model import EntryStatus, WantKind
from tests.unit import test_waitlist as wl
from tests.unit.test_series import TUE_10, paid_event, world
from tests.unit.test_series_credits_and_news import _settings, grant, told


async def test_cancelling_the_last_unpaid_date_still_confirms_the_paid_rest_of_the_series():
    # Per-occurrence payment: the author pays the first date, then cancels the unpaid second one.
    w = await world(pay=True, settings=_settings(SeriesPayment.PER_SESSION))
    booked = await series.book_series(w.ctx, w.coach.id, w.author.id, TUE_10, repeat=Repeat.WEEKLY, count=2)
    first, second = booked.sessions
    await bookings.confirm_payment(w.ctx, first.id, amount=6000, payment_ref="pi_1")
    await series.cancel(w.ctx, second.id, by=Actor.AUTHOR, author_id=w.author.id)

    assert (await queries.session(w.ctx, first.id)).status is SessionStatus.SCHEDULED
    # The paid date is on, but neither the author nor the coach is ever told: an occurrence has
    # no SessionConfirmed of its own and the series' one message waits for a hold that is gone.
    assert [who for _, who in told(w, "series_confirmed")] == ["author", "coach", "admin"]


async def test_cancelling_the_unpaid_rest_after_credit_paid_dates_confirms_the_credit_paid_ones():
    w = await world(pay=True, settings=_settings(SeriesPayment.PER_SERIES))
    await grant(w, sessions=1, valid_days=60)
    booked = await series.book_series(w.ctx, w.coach.id, w.author.id, TUE_10, repeat=Repeat.WEEKLY, count=3)
    assert [s.status for s in booked.sessions] == [SessionStatus.SCHEDULED, SessionStatus.HELD, SessionStatus.HELD]
    await series.cancel(
        w.ctx, booked.sessions[1].id, by=Actor.AUTHOR, scope=series.Scope.FOLLOWING, author_id=w.author.id
    )
    assert [who for _, who in told(w, "series_confirmed")] == ["author", "coach", "admin"]


async def test_a_series_date_paid_after_its_hold_lapsed_is_confirmed_to_the_author_and_coach():
    w = await world(pay=True, settings=_settings(SeriesPayment.PER_SESSION))
    booked = await series.book_series(w.ctx, w.coach.id, w.author.id, TUE_10, repeat=Repeat.WEEKLY, count=2)
    first, second = booked.sessions
    await bookings.confirm_payment(w.ctx, first.id, amount=6000, payment_ref="pi_1")
    w.ctx.clock.set(w.ctx.now() + timedelta(hours=1))
    assert await holds.expire_holds(w.ctx) == 1  # the second date lapses; the series message goes out
    before = len(told(w, "series_confirmed")) + len(told(w, "session_confirmed"))

    second = await queries.session(w.ctx, second.id)
    outcome = await payments.handle(w.ctx, paid_event(second.id, second.checkout_ref, 6000))
    assert outcome is payments.Outcome.CONFIRMED
    assert (await queries.session(w.ctx, second.id)).status is SessionStatus.SCHEDULED
    # The author was told the hold expired, then paid: the date is booked again, but no
    # confirmation of any kind reaches the author or the coach.
    after = len(told(w, "series_confirmed")) + len(told(w, "session_confirmed"))
    assert after > before


async def test_taking_a_group_seat_does_not_close_a_waiting_list_for_a_one_to_one_session():
    w = await wl.world()
    ann = await waitlist.join(w.ctx, w.coach.id, w.ann.id, WantKind.DAY, day=wl.TUE)
    # The coach offers a group session on that Tuesday evening (outside the weekly hours); Ann takes a seat.
    slot = await groups.add_group(
        w.ctx, w.coach.id, start=datetime(2030, 1, 8, 18, tzinfo=UTC), duration=60, seats=5, price=0
    )
    w.clock.advance(minutes=5)
    await groups.take_seat(w.ctx, slot.id, w.ann.id)
    await waitlist_offers.offer_freed(w.ctx)
    # A seat in a group is not the 1:1 session Ann is waiting for: she stays in line ...
    assert wl.entry(w, ann.entry.id).status is EntryStatus.WAITING
    # ... and gets the 1:1 slot that frees up.
    await wl.free_up(w, wl.TUE_13)
    assert (await waitlist_offers.offer_freed(w.ctx))["offered"] == 1


async def test_a_lapsed_series_paid_in_full_is_refunded_as_lapsed_not_as_a_wrong_amount():
    w = await world(pay=True, settings=_settings(SeriesPayment.PER_SERIES))
    booked = await series.book_series(w.ctx, w.coach.id, w.author.id, TUE_10, repeat=Repeat.WEEKLY, count=2)
    lead = booked.sessions[0]
    w.ctx.clock.set(w.ctx.now() + timedelta(hours=1))
    assert await holds.expire_holds(w.ctx) == 2
    # The author pays exactly what the series' checkout asked (2 x 60.00) just after the hold ran out.
    outcome = await payments.handle(w.ctx, paid_event(lead.id, lead.checkout_ref, 2 * 6000))
    assert outcome is payments.Outcome.REFUND_DUE
    reasons = [m.payload.get("reason") for m in w.store.data.outbox.values() if m.kind == "payment_refunded"]
    # Told "your payment did not match the session's price": it was the exact price asked.
    assert reasons == ["lapsed", "lapsed"]  # the author's message and the admins' line


async def test_a_credit_paid_session_cannot_be_moved_past_its_credit_expiry_for_free():
    from booking import rescheduling

    w = await world(pay=True)
    await grant(w, sessions=1, valid_days=5)  # expires Saturday 2030-01-12
    booked = await bookings.book(w.ctx, w.coach.id, w.author.id, TUE_10)
    assert (booked.status, booked.price_amount) == (SessionStatus.SCHEDULED, 0)
    later = TUE_10 + timedelta(weeks=2)
    # The credit only pays for sessions that start before it expires (credit_model.Lot.covers).
    with pytest.raises(PolicyViolation, match="prepaid credit"):
        await rescheduling.reschedule(w.ctx, booked.id, later, author_id=w.author.id)
    assert (await queries.session(w.ctx, booked.id)).starts_at == TUE_10
    moved = await rescheduling.reschedule(w.ctx, booked.id, TUE_10 + timedelta(days=2), author_id=w.author.id)
    assert moved.starts_at == TUE_10 + timedelta(days=2)  # within the credit's life it moves as before
