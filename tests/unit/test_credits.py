"""Packages and credits (booking/packages.py, booking/credits.py, booking/credit_model.py) against
the fakes and a fixed clock: Monday 2030-01-07 08:00 UTC; coaches work Mon-Fri 09:00-17:00 UTC
with 24 h notice."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from booking import bookings, cancellation, catalog, credits, lifecycle, packages, payments
from booking.context import Context
from booking.credit_model import EntryKind
from booking.errors import InvalidInput, NotFound, PaymentError, PolicyViolation
from booking.model import Actor, Author, Coach, SessionStatus
from booking.payments import Outcome, PaymentEvent, PaymentKind
from tests.fakes import FakeClock, FakePayments, Store, make_context

TUE_10 = datetime(2030, 1, 8, 10, tzinfo=UTC)
DAY = timedelta(days=1)


@dataclass
class World:
    ctx: Context
    store: Store
    clock: FakeClock
    payments: FakePayments
    coach: Coach
    other_coach: Coach
    author: Author


async def world(*, pay: bool = True) -> World:
    ctx, store, clock, fake_payments, _video = make_context(payments_enabled=pay)
    coaches = []
    for name in ("Ada", "Bea"):
        coach = await catalog.add_coach(ctx, name=name, timezone="UTC", rate=6000, durations=[30, 60])
        for day in ("mon", "tue", "wed", "thu", "fri"):
            await catalog.add_rule(ctx, coach.id, weekday=day, start="09:00", end="17:00")
        coaches.append(coach)
    author = await catalog.add_author(ctx, name="Ann", timezone="UTC", telegram_id=1)
    return World(ctx, store, clock, fake_payments, coaches[0], coaches[1], author)


async def grant(w: World, coach_id: int | None, *, sessions: int = 2, duration: int = 60, valid_days: int = 30):
    package = await packages.add_package(
        w.ctx, coach_id, sessions=sessions, duration=duration, price=20000, valid_days=valid_days
    )
    return await packages.grant(w.ctx, w.author.id, package.id)


def ledger(w: World) -> list[tuple[EntryKind, int]]:
    return [(e.kind, e.quantity) for e in w.store.data.credit_entries.values()]


# ---- packages -----------------------------------------------------------------------------------


async def test_a_coach_package_takes_the_coach_currency_and_a_length_they_offer():
    w = await world()
    package = await packages.add_package(w.ctx, w.coach.id, sessions=5, duration=60, price=25000, valid_days=90)
    assert (package.coach_id, package.currency, package.any_coach) == (w.coach.id, "usd", False)
    with pytest.raises(InvalidInput, match="duration"):
        await packages.add_package(w.ctx, w.coach.id, sessions=5, duration=45, price=25000, valid_days=90)
    with pytest.raises(NotFound):
        await packages.add_package(w.ctx, 999, sessions=5, duration=60, price=25000, valid_days=90)


async def test_a_marketplace_package_has_no_coach():
    w = await world()
    package = await packages.add_package(
        w.ctx, None, sessions=3, duration=30, price=9000, valid_days=60, currency="EUR"
    )
    assert (package.any_coach, package.currency) == (True, "eur")
    assert [p.id for p in await packages.packages(w.ctx, coach_id=w.other_coach.id)] == [package.id]


@pytest.mark.parametrize(
    ("sessions", "duration", "price", "days", "field"),
    [(0, 60, 1, 30, "sessions"), (2, 5, 1, 30, "duration"), (2, 60, -1, 30, "price"), (2, 60, 1, 0, "valid-days")],
)
async def test_a_package_out_of_range_is_refused(sessions, duration, price, days, field):
    w = await world()
    with pytest.raises(InvalidInput) as err:
        await packages.add_package(w.ctx, None, sessions=sessions, duration=duration, price=price, valid_days=days)
    assert err.value.field == field


async def test_a_grant_writes_a_lot_that_expires_after_the_package_days():
    w = await world()
    entry = await grant(w, w.coach.id, sessions=4, valid_days=10)
    assert (entry.kind, entry.quantity, entry.expires_at) == (EntryKind.GRANT, 4, w.clock.now() + 10 * DAY)
    found = await credits.statement(w.ctx, w.author.id)
    assert (found.balance, found.next_expiry) == (4, w.clock.now() + 10 * DAY)


# ---- booking with a credit ----------------------------------------------------------------------


async def test_a_booking_uses_a_matching_credit_and_is_scheduled_without_checkout():
    w = await world(pay=True)
    await grant(w, w.coach.id, sessions=2)
    session = await bookings.book(w.ctx, w.coach.id, w.author.id, TUE_10, duration=60)
    assert session.status is SessionStatus.SCHEDULED
    assert (session.price_amount, session.checkout_url, w.payments.checkouts) == (0, None, [])
    assert ledger(w) == [(EntryKind.GRANT, 2), (EntryKind.DEBIT, -1)]
    assert (await credits.statement(w.ctx, w.author.id)).balance == 1


async def test_no_matching_credit_means_a_normal_paid_booking():
    w = await world(pay=True)
    await grant(w, w.coach.id, duration=30)  # another length
    await grant(w, w.other_coach.id)  # another coach
    session = await bookings.book(w.ctx, w.coach.id, w.author.id, TUE_10, duration=60)
    assert session.status is SessionStatus.HELD and w.payments.checkouts == [(session.id, 6000)]
    assert (await credits.statement(w.ctx, w.author.id)).balance == 4


async def test_a_marketplace_credit_pays_for_any_coach():
    w = await world()
    await grant(w, None, sessions=1)
    session = await bookings.book(w.ctx, w.other_coach.id, w.author.id, TUE_10, duration=60)
    assert (session.status, session.price_amount) == (SessionStatus.SCHEDULED, 0)
    assert (await credits.statement(w.ctx, w.author.id)).balance == 0


async def test_the_credit_that_expires_first_is_used():
    w = await world()
    later = await grant(w, None, valid_days=60)
    sooner = await grant(w, w.coach.id, valid_days=20)
    session = await bookings.book(w.ctx, w.coach.id, w.author.id, TUE_10, duration=60)
    debit = next(e for e in w.store.data.credit_entries.values() if e.kind is EntryKind.DEBIT)
    assert (debit.lot_id, debit.session_id) == (sooner.id, session.id)
    assert debit.lot_id != later.id


async def test_a_credit_never_pays_for_a_session_after_it_expires():
    w = await world(pay=True)
    await grant(w, w.coach.id, valid_days=1)  # lapses Tuesday 08:00, before the 10:00 session
    session = await bookings.book(w.ctx, w.coach.id, w.author.id, TUE_10, duration=60)
    assert session.status is SessionStatus.HELD
    assert ledger(w) == [(EntryKind.GRANT, 2)]


async def test_credits_run_out_and_the_next_booking_is_paid():
    w = await world(pay=True)
    await grant(w, w.coach.id, sessions=1)
    first = await bookings.book(w.ctx, w.coach.id, w.author.id, TUE_10, duration=60)
    second = await bookings.book(w.ctx, w.coach.id, w.author.id, TUE_10 + 2 * timedelta(hours=1), duration=60)
    assert (first.status, second.status) == (SessionStatus.SCHEDULED, SessionStatus.HELD)


# ---- giving back, consuming, expiring -----------------------------------------------------------


async def test_a_cancellation_in_time_gives_the_credit_back():
    w = await world()
    await grant(w, w.coach.id, sessions=1)
    session = await bookings.book(w.ctx, w.coach.id, w.author.id, TUE_10, duration=60)
    await cancellation.cancel(w.ctx, session.id, by=Actor.AUTHOR, author_id=w.author.id)
    assert ledger(w) == [(EntryKind.GRANT, 1), (EntryKind.DEBIT, -1), (EntryKind.REFUND, 1)]
    assert (await credits.statement(w.ctx, w.author.id)).balance == 1
    assert w.payments.refunds == []


async def test_a_late_cancellation_is_refused_and_the_credit_stays_spent():
    w = await world()
    await grant(w, w.coach.id, sessions=1)
    session = await bookings.book(w.ctx, w.coach.id, w.author.id, TUE_10, duration=60)
    w.clock.set(TUE_10 - timedelta(hours=2))
    with pytest.raises(PolicyViolation):
        await cancellation.cancel(w.ctx, session.id, by=Actor.AUTHOR, author_id=w.author.id)
    assert (await credits.statement(w.ctx, w.author.id)).balance == 0


async def test_a_coach_cancelling_late_gives_the_credit_back():
    w = await world()
    await grant(w, w.coach.id, sessions=1)
    session = await bookings.book(w.ctx, w.coach.id, w.author.id, TUE_10, duration=60)
    w.clock.set(TUE_10 - timedelta(hours=1))
    await cancellation.cancel(w.ctx, session.id, by=Actor.COACH)
    assert (await credits.statement(w.ctx, w.author.id)).balance == 1


@pytest.mark.parametrize(("who", "balance"), [(Actor.AUTHOR, 0), (Actor.COACH, 1)])
async def test_an_author_no_show_consumes_the_credit_a_coach_no_show_returns_it(who, balance):
    w = await world()
    await grant(w, w.coach.id, sessions=1)
    session = await bookings.book(w.ctx, w.coach.id, w.author.id, TUE_10, duration=60)
    w.clock.set(TUE_10 + timedelta(minutes=10))
    await lifecycle.no_show(w.ctx, session.id, who=who)
    assert (await credits.statement(w.ctx, w.author.id)).balance == balance


async def test_a_credit_is_given_back_once():
    w = await world()
    await grant(w, w.coach.id, sessions=1)
    session = await bookings.book(w.ctx, w.coach.id, w.author.id, TUE_10, duration=60)
    await cancellation.cancel(w.ctx, session.id, by=Actor.AUTHOR, author_id=w.author.id)
    async with w.ctx.uow() as uow:
        again = await credits.give_back(w.ctx, uow, w.store.data.sessions[session.id])
    assert again is False


async def test_lapsed_credits_leave_the_balance_and_are_closed_in_the_ledger():
    w = await world()
    await grant(w, w.coach.id, sessions=3, valid_days=5)
    await bookings.book(w.ctx, w.coach.id, w.author.id, TUE_10, duration=60)
    w.clock.set(w.clock.now() + 5 * DAY)
    assert (await credits.statement(w.ctx, w.author.id)).balance == 0  # before the sweep too
    assert await credits.expire_due(w.ctx) == 1
    assert ledger(w)[-1] == (EntryKind.EXPIRY, -2)
    assert await credits.expire_due(w.ctx) == 0  # nothing left to close


# ---- buying through checkout --------------------------------------------------------------------


def paid(event_id: str, package_id: int, author_id: int, amount: int, ref: str = "pi_1") -> PaymentEvent:
    return PaymentEvent(
        id=event_id,
        kind=PaymentKind.PAID,
        provider_type="checkout.session.completed",
        package_id=package_id,
        author_id=author_id,
        checkout_ref="cs_1",
        payment_ref=ref,
        amount=amount,
    )


async def test_buying_opens_a_checkout_and_its_payment_grants_once():
    w = await world(pay=True)
    package = await packages.add_package(w.ctx, w.coach.id, sessions=2, duration=60, price=11000, valid_days=30)
    await packages.buy(w.ctx, w.author.id, package.id)
    assert w.payments.package_checkouts == [(package.id, w.author.id, 11000)]
    assert await payments.handle(w.ctx, paid("evt_1", package.id, w.author.id, 11000)) is Outcome.CONFIRMED
    assert await payments.handle(w.ctx, paid("evt_2", package.id, w.author.id, 11000)) is Outcome.ALREADY_RECORDED
    assert ledger(w) == [(EntryKind.GRANT, 2)]


async def test_a_package_payment_that_falls_short_grants_nothing():
    w = await world(pay=True)
    package = await packages.add_package(w.ctx, None, sessions=2, duration=60, price=11000, valid_days=30)
    assert await payments.handle(w.ctx, paid("evt_1", package.id, w.author.id, 10999)) is Outcome.ALREADY_RECORDED
    assert ledger(w) == []


async def test_buying_needs_payments_on():
    w = await world(pay=False)
    package = await packages.add_package(w.ctx, None, sessions=2, duration=60, price=11000, valid_days=30)
    with pytest.raises(PaymentError, match="grant"):
        await packages.buy(w.ctx, w.author.id, package.id)
