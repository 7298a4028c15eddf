"""Series with credits and the one confirmation a series gets (booking/series.py,
booking/series_news.py, booking/credit_model.plan), against the fakes and a fixed clock: Monday
2030-01-07 08:00 UTC; Ada works Mon-Fri 09:00-17:00 UTC, 60-minute sessions at 60.00."""

from __future__ import annotations

from datetime import timedelta

from booking import bookings, credits, holds, packages, payments, queries, series
from booking.context import BookingSettings
from booking.model import Actor, SessionStatus
from booking.series_model import Conflicts, Repeat, SeriesPayment
from tests.unit.test_series import TUE_10, WEEK, World, paid_event, world


def _settings(payment: SeriesPayment) -> BookingSettings:
    return BookingSettings(series_payment=payment)


def told(w: World, kind: str) -> list[tuple[int | None, str | None]]:
    return [(m.session_id, m.recipient) for m in w.store.data.outbox.values() if m.kind == kind]


async def grant(w: World, *, sessions: int, valid_days: int, coach: bool = True) -> None:
    package = await packages.add_package(
        w.ctx, w.coach.id if coach else None, sessions=sessions, duration=60, price=1, valid_days=valid_days
    )
    await packages.grant(w.ctx, w.author.id, package.id)


async def test_a_series_spends_the_credits_that_expire_first_and_checks_out_the_rest():
    w = await world(pay=True, settings=_settings(SeriesPayment.PER_SERIES), rate=4999)
    await grant(w, sessions=1, valid_days=60, coach=False)  # marketplace-wide, expires later
    await grant(w, sessions=1, valid_days=10)  # expires first: covers only the first week
    booked = await series.book_series(w.ctx, w.coach.id, w.author.id, TUE_10, repeat=Repeat.WEEKLY, count=4)

    assert [(s.status, s.price_amount) for s in booked.sessions] == [
        (SessionStatus.SCHEDULED, 0),
        (SessionStatus.SCHEDULED, 0),
        (SessionStatus.HELD, 4999),
        (SessionStatus.HELD, 4999),
    ]
    lots = {e.id: e.expires_at for e in w.store.data.credit_entries.values() if e.lot_id is None}
    debits = sorted(
        (e.session_id, lots[e.lot_id]) for e in w.store.data.credit_entries.values() if e.kind.value == "debit"
    )
    assert [d[0] for d in debits] == [booked.sessions[0].id, booked.sessions[1].id]
    assert debits[0][1] < debits[1][1]  # the first week took the credit that expires first
    third = booked.sessions[2]
    assert w.payments.checkouts == [(third.id, 2 * 4999)]  # one checkout for the two left
    assert all(s.meeting_url for s in booked.sessions[:2])
    assert (await credits.statement(w.ctx, w.author.id)).balance == 0

    await payments.handle(w.ctx, paid_event(third.id, third.checkout_ref, 2 * 4999))
    assert [(await queries.session(w.ctx, s.id)).amount_paid for s in booked.sessions] == [0, 0, 4999, 4999]


async def test_a_credit_paid_occurrence_cancelled_in_time_gives_the_credit_back_not_money():
    w = await world(pay=True, settings=_settings(SeriesPayment.PER_SERIES))
    await grant(w, sessions=2, valid_days=60)
    booked = await series.book_series(w.ctx, w.coach.id, w.author.id, TUE_10, repeat=Repeat.WEEKLY, count=2)
    assert all(s.status is SessionStatus.SCHEDULED for s in booked.sessions) and w.payments.checkouts == []

    done = await series.cancel(w.ctx, booked.sessions[0].id, by=Actor.AUTHOR, scope=series.Scope.FOLLOWING)

    assert [(s.status, s.amount_refunded, s.refund_due) for s in done] == [(SessionStatus.CANCELLED, 0, 0)] * 2
    assert w.payments.refunds == []
    assert (await credits.statement(w.ctx, w.author.id)).balance == 2


async def test_credits_are_planned_for_a_summary_as_the_booking_spends_them():
    w = await world(pay=True)
    await grant(w, sessions=2, valid_days=5)
    starts = [TUE_10 + k * WEEK for k in range(3)]  # the second week starts after the credits expire
    assert await credits.covered(w.ctx, w.author.id, w.coach.id, 60, starts) == 1
    assert await credits.covered(w.ctx, w.author.id, w.coach.id, 60, starts[:1]) == 1
    assert await credits.covered(w.ctx, w.author.id, w.coach.id, 90, starts[:1]) == 0


async def test_a_series_booked_without_payment_is_confirmed_in_one_message_each():
    w = await world()
    w.store.data.caldav_coaches.add(w.coach.id)  # so that each occurrence is pushed to a calendar too
    booked = await series.book_series(w.ctx, w.coach.id, w.author.id, TUE_10, repeat=Repeat.WEEKLY, count=3)
    lead = booked.sessions[0].id
    assert told(w, "session_confirmed") == []
    assert sorted(told(w, "series_confirmed"), key=str) == sorted(
        [(lead, "author"), (lead, "coach"), (lead, "admin")], key=str
    )
    assert len(told(w, "calendar_changed")) == 3  # each occurrence still reaches the coach's calendars


async def test_a_series_paid_per_occurrence_is_confirmed_once_the_last_is_paid():
    w = await world(pay=True, settings=_settings(SeriesPayment.PER_SESSION))
    booked = await series.book_series(w.ctx, w.coach.id, w.author.id, TUE_10, repeat=Repeat.WEEKLY, count=3)
    first, second, third = booked.sessions
    await bookings.confirm_payment(w.ctx, first.id, amount=6000, payment_ref="pi_1")
    await bookings.confirm_payment(w.ctx, second.id, amount=6000, payment_ref="pi_2")
    assert told(w, "series_confirmed") == [] and told(w, "session_confirmed") == []

    await bookings.confirm_payment(w.ctx, third.id, amount=6000, payment_ref="pi_3")
    assert [who for _, who in told(w, "series_confirmed")] == ["author", "coach", "admin"]
    assert {sid for sid, _ in told(w, "series_confirmed")} == {first.id}


async def test_a_series_whose_last_hold_lapses_is_confirmed_for_what_was_paid():
    w = await world(pay=True, settings=_settings(SeriesPayment.PER_SESSION))
    booked = await series.book_series(w.ctx, w.coach.id, w.author.id, TUE_10, repeat=Repeat.WEEKLY, count=2)
    first, second = booked.sessions
    await bookings.confirm_payment(w.ctx, second.id, amount=6000, payment_ref="pi_2")
    w.ctx.clock.set(w.ctx.now() + timedelta(hours=1))
    assert await holds.expire_holds(w.ctx) == 1
    assert {sid for sid, _ in told(w, "series_confirmed")} == {second.id}


async def test_one_series_payment_confirms_every_occurrence_in_one_message():
    w = await world(pay=True, settings=_settings(SeriesPayment.PER_SERIES))
    booked = await series.book_series(w.ctx, w.coach.id, w.author.id, TUE_10, repeat=Repeat.WEEKLY, count=3)
    lead = booked.sessions[0]
    await payments.handle(w.ctx, paid_event(lead.id, lead.checkout_ref, 3 * 6000))
    assert [who for _, who in told(w, "series_confirmed")] == ["author", "coach", "admin"]
    assert told(w, "session_confirmed") == []
    assert len([m for m in w.store.data.outbox.values() if m.kind == "reminder"]) >= 3


async def test_the_preview_names_the_weeks_not_free_and_what_append_would_add():
    w = await world()
    taken = TUE_10 + WEEK
    await bookings.book(w.ctx, w.coach.id, w.other.id, taken)
    found = await series.preview(w.ctx, w.coach.id, TUE_10, repeat=Repeat.WEEKLY, count=3)
    assert found.starts == [TUE_10, taken, TUE_10 + 2 * WEEK]
    assert found.not_free == [taken] and found.free == [TUE_10, TUE_10 + 2 * WEEK]
    assert found.appended == [TUE_10 + 3 * WEEK]
    clear = await series.preview(w.ctx, w.coach.id, TUE_10 + 2 * WEEK, repeat=Repeat.FORTNIGHTLY, count=2)
    assert clear.not_free == [] and clear.appended == []
    assert w.store.data.series == {}  # nothing booked by looking


async def test_skip_in_the_preview_matches_what_the_booking_skips():
    w = await world()
    await bookings.book(w.ctx, w.coach.id, w.other.id, TUE_10 + WEEK)
    found = await series.preview(w.ctx, w.coach.id, TUE_10, repeat=Repeat.WEEKLY, count=3)
    booked = await series.book_series(
        w.ctx, w.coach.id, w.author.id, TUE_10, repeat=Repeat.WEEKLY, count=3, conflicts=Conflicts.SKIP
    )
    assert [s.starts_at for s in booked.sessions] == found.free and booked.not_free == found.not_free


async def test_cancelling_a_date_of_a_series_not_yet_paid_remakes_its_one_checkout_for_the_rest():
    w = await world(pay=True, settings=_settings(SeriesPayment.PER_SERIES))
    booked = await series.book_series(w.ctx, w.coach.id, w.author.id, TUE_10, repeat=Repeat.WEEKLY, count=3)
    first, second, third = booked.sessions
    old_ref = first.checkout_ref

    await series.cancel(w.ctx, second.id, by=Actor.AUTHOR)

    lead = await queries.session(w.ctx, first.id)
    assert old_ref in w.payments.expired and lead.checkout_ref != old_ref
    assert w.payments.checkouts[-1] == (first.id, 2 * 6000)
    await payments.handle(w.ctx, paid_event(first.id, lead.checkout_ref, 2 * 6000))
    after = [await queries.session(w.ctx, s.id) for s in booked.sessions]
    assert [s.status for s in after] == [SessionStatus.SCHEDULED, SessionStatus.CANCELLED, SessionStatus.SCHEDULED]


async def test_cancelling_the_date_that_carries_the_series_checkout_moves_it_to_the_next():
    w = await world(pay=True, settings=_settings(SeriesPayment.PER_SERIES))
    booked = await series.book_series(w.ctx, w.coach.id, w.author.id, TUE_10, repeat=Repeat.WEEKLY, count=3)
    first, second, _third = booked.sessions

    await series.cancel(w.ctx, first.id, by=Actor.AUTHOR)

    assert first.checkout_ref in w.payments.expired
    assert w.payments.checkouts[-1] == (second.id, 2 * 6000)
    assert (await queries.session(w.ctx, second.id)).checkout_url
