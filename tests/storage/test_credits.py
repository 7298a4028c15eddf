"""Packages and the credit ledger on every engine: stored and read back, expiry found by the
database, and racing bookings never spending one credit twice (under the author's lock, with
the coaches' locks not serialising them)."""

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy.exc import IntegrityError

from booking import bookings, cancellation, catalog, credits, packages
from booking.credit_model import CreditEntry, EntryKind
from booking.model import Actor, SessionStatus
from tests.fakes import FakeClock, FakePayments
from tests.storage.helpers import NOW, context_for, open_coach

TUE_9 = NOW.replace(hour=9) + timedelta(days=1)
CREDITS = 3
RACERS = 50


async def test_packages_and_a_grant_are_stored_and_read_back(database):
    ctx = context_for(database)
    coach = await open_coach(ctx)
    author = await catalog.add_author(ctx, name="A", timezone="UTC")
    own = await packages.add_package(ctx, coach.id, sessions=5, duration=60, price=25000, valid_days=30)
    wide = await packages.add_package(ctx, None, sessions=2, duration=60, price=9000, valid_days=10, currency="eur")
    assert [p.id for p in await packages.packages(ctx, coach_id=coach.id)] == [own.id, wide.id]
    assert (await packages.package(ctx, wide.id)).coach_id is None
    await packages.grant(ctx, author.id, own.id)
    await packages.grant(ctx, author.id, wide.id)
    found = await credits.statement(ctx, author.id)
    assert (found.balance, found.next_expiry) == (7, NOW + timedelta(days=10))
    assert [lot.grant.coach_id for lot in found.lots] == [None, coach.id]


async def test_booking_spends_and_cancelling_gives_back(database):
    ctx = context_for(database, payments=FakePayments(enabled=True))
    coach = await open_coach(ctx)
    author = await catalog.add_author(ctx, name="A", timezone="UTC")
    package = await packages.add_package(ctx, coach.id, sessions=1, duration=60, price=6000, valid_days=30)
    await packages.grant(ctx, author.id, package.id)
    session = await bookings.book(ctx, coach.id, author.id, TUE_9)
    assert (session.status, session.price_amount) == (SessionStatus.SCHEDULED, 0)
    await cancellation.cancel(ctx, session.id, by=Actor.AUTHOR, author_id=author.id)
    found = await credits.statement(ctx, author.id)
    assert [e.kind for e in found.entries] == [EntryKind.GRANT, EntryKind.DEBIT, EntryKind.REFUND]
    assert found.balance == 1


async def test_lapsed_lots_are_found_and_closed(database):
    clock = FakeClock(NOW)
    ctx = context_for(database, clock=clock)
    coach = await open_coach(ctx)
    author, other = [await catalog.add_author(ctx, name=n, timezone="UTC") for n in ("A", "B")]
    short = await packages.add_package(ctx, coach.id, sessions=2, duration=60, price=1, valid_days=1)
    long = await packages.add_package(ctx, coach.id, sessions=2, duration=60, price=1, valid_days=9)
    await packages.grant(ctx, author.id, short.id)
    await packages.grant(ctx, other.id, long.id)
    clock.set(NOW + timedelta(days=2))
    async with database.uow() as uow:
        assert await uow.credits.lapsed(clock.now()) == [author.id]
    assert await credits.expire_due(ctx) == 1
    async with database.uow() as uow:
        assert await uow.credits.lapsed(clock.now()) == []
    assert (await credits.statement(ctx, author.id)).entries[-1].quantity == -2


async def test_the_database_refuses_a_second_debit_of_one_session(database):
    ctx = context_for(database)
    coach = await open_coach(ctx)
    author = await catalog.add_author(ctx, name="A", timezone="UTC")
    package = await packages.add_package(ctx, coach.id, sessions=2, duration=60, price=1, valid_days=9)
    lot = await packages.grant(ctx, author.id, package.id)
    session = await bookings.book(ctx, coach.id, author.id, TUE_9)
    with pytest.raises(IntegrityError):
        async with database.uow() as uow:
            await uow.credits.add(
                CreditEntry(author.id, EntryKind.DEBIT, -1, NOW, lot_id=lot.id, session_id=session.id)
            )
            await uow.commit()


async def test_racing_bookings_with_many_coaches_spend_each_credit_once(database):
    """50 bookings at once, spread over 10 coaches (so the coaches' locks do not serialise them),
    on a marketplace-wide balance of 3: exactly 3 are paid by credit; the rest wait for checkout."""
    ctx = context_for(database, payments=FakePayments(enabled=True))
    coaches = [await open_coach(ctx) for _ in range(10)]
    author = await catalog.add_author(ctx, name="A", timezone="UTC")
    package = await packages.add_package(ctx, None, sessions=CREDITS, duration=60, price=1, valid_days=30)
    await packages.grant(ctx, author.id, package.id)

    def start(i: int):
        return TUE_9 + timedelta(hours=i // 10)

    results = await asyncio.gather(
        *(bookings.book(ctx, coaches[i % 10].id, author.id, start(i)) for i in range(RACERS)),
        return_exceptions=True,
    )
    assert all(not isinstance(r, BaseException) for r in results), results
    by_credit = [r for r in results if r.status is SessionStatus.SCHEDULED]
    assert len(by_credit) == CREDITS
    assert all(r.status is SessionStatus.HELD for r in results if r not in by_credit)
    found = await credits.statement(ctx, author.id)
    debits = [e for e in found.entries if e.kind is EntryKind.DEBIT]
    assert sorted(e.session_id for e in debits) == sorted(r.id for r in by_credit)
    assert found.balance == 0
