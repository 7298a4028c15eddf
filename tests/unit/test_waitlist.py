"""Waiting lists (booking/waitlist.py) against the fakes and a fixed clock: Monday 2030-01-07
08:00 UTC; the coach works Mon-Fri 09:00-17:00 UTC in 60-minute sessions with 24 h notice, so
Tuesday 2030-01-08 has eight slots, all booked by `fill`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest

from booking import bookings, cancellation, catalog, packages, waitlist, waitlist_offers
from booking.context import Context
from booking.errors import InvalidInput, InvalidTransition, NotAllowed
from booking.events import WaitlistOffer
from booking.model import Actor, Author, Coach, Session, SessionStatus
from booking.waitlist_model import EntryStatus, WantKind
from tests.fakes import FakeClock, FakePayments, Store, make_context

TUE = date(2030, 1, 8)
TUE_10 = datetime(2030, 1, 8, 10, tzinfo=UTC)
TUE_13 = datetime(2030, 1, 8, 13, tzinfo=UTC)
SAT = date(2030, 1, 12)
H = timedelta(hours=1)


@dataclass
class World:
    ctx: Context
    store: Store
    clock: FakeClock
    payments: FakePayments
    coach: Coach
    ann: Author
    bob: Author
    tuesday: dict[datetime, Session]  # the filler's sessions by start


async def world(*, pay: bool = False) -> World:
    ctx, store, clock, fake_payments, _video = make_context(payments_enabled=pay)
    coach = await catalog.add_coach(ctx, name="Ada", timezone="UTC", rate=6000, durations=[60])
    for day in ("mon", "tue", "wed", "thu", "fri"):
        await catalog.add_rule(ctx, coach.id, weekday=day, start="09:00", end="17:00")
    ann = await catalog.add_author(ctx, name="Ann", timezone="UTC", telegram_id=1)
    bob = await catalog.add_author(ctx, name="Bob", timezone="UTC", telegram_id=2)
    filler = await catalog.add_author(ctx, name="Fay", timezone="UTC", telegram_id=3)
    tuesday = {}
    for hour in range(9, 17):
        start = datetime(2030, 1, 8, hour, tzinfo=UTC)
        session = await bookings.book(ctx, coach.id, filler.id, start)
        if session.status is SessionStatus.HELD:  # payments on: pay it, so it stays
            session = await bookings.confirm_payment(
                ctx, session.id, amount=session.price_amount, payment_ref=f"pi_{hour}"
            )
        tuesday[start] = session
    return World(ctx, store, clock, fake_payments, coach, ann, bob, tuesday)


async def free_up(w: World, start: datetime) -> None:
    await cancellation.cancel(w.ctx, w.tuesday[start].id, by=Actor.COACH, reason="ill")


def offers(w: World) -> list[tuple[int, int]]:
    """(entry id, session id) of every waiting-list offer in the outbox."""
    return [(m.payload["entry_id"], m.session_id) for m in w.store.outbox if m.kind == WaitlistOffer.kind]


def entry(w: World, entry_id: int):
    return w.store.data.waitlist[entry_id]


# ---- joining -------------------------------------------------------------------------------------


async def test_an_author_joins_a_full_day_and_a_second_join_changes_nothing():
    w = await world()
    first = await waitlist.join(w.ctx, w.coach.id, w.ann.id, WantKind.DAY, day=TUE)
    again = await waitlist.join(w.ctx, w.coach.id, w.ann.id, WantKind.DAY, day=TUE)
    bob = await waitlist.join(w.ctx, w.coach.id, w.bob.id, WantKind.DAY, day=TUE)
    assert (first.created, first.position) == (True, 1)
    assert (again.created, again.entry.id, again.position) == (False, first.entry.id, 1)
    assert (bob.created, bob.position) == (True, 2)
    assert first.entry.starts_at == datetime(2030, 1, 8, tzinfo=UTC)
    assert first.entry.ends_at == datetime(2030, 1, 9, tzinfo=UTC)
    assert [line.author.name for line in await waitlist.waiting(w.ctx, w.coach.id)] == ["Ann", "Bob"]


async def test_a_day_is_read_in_the_authors_zone():
    w = await world()
    tokyo = await catalog.add_author(w.ctx, name="Kei", timezone="Asia/Tokyo", telegram_id=9)
    # Tokyo's Wednesday 2030-01-09 is 2030-01-08 15:00 to 2030-01-09 15:00 UTC: Tuesday afternoon
    # is full but Wednesday morning (UTC) is free, so that day is not full.
    with pytest.raises(NotAllowed, match="free times"):
        await waitlist.join(w.ctx, w.coach.id, tokyo.id, WantKind.DAY, day=date(2030, 1, 9))
    joined = await waitlist.join(w.ctx, w.coach.id, tokyo.id, WantKind.DAY, day=TUE)  # Tokyo's Tuesday
    assert joined.entry.starts_at == datetime(2030, 1, 7, 15, tzinfo=UTC)
    assert joined.entry.zone == "Asia/Tokyo"


async def test_joining_is_refused_where_there_is_a_free_slot_or_no_hours_at_all():
    w = await world()
    with pytest.raises(NotAllowed, match="book one"):
        await waitlist.join(w.ctx, w.coach.id, w.ann.id, WantKind.DAY, day=date(2030, 1, 9))
    with pytest.raises(NotAllowed, match="free"):
        await waitlist.join(w.ctx, w.coach.id, w.ann.id, WantKind.SLOT, start=datetime(2030, 1, 9, 10, tzinfo=UTC))
    with pytest.raises(NotAllowed, match="no hours"):
        await waitlist.join(w.ctx, w.coach.id, w.ann.id, WantKind.DAY, day=SAT)
    with pytest.raises(NotAllowed, match="not available"):
        await waitlist.join(w.ctx, w.coach.id, w.ann.id, WantKind.SLOT, start=datetime(2030, 1, 8, 20, tzinfo=UTC))
    with pytest.raises(InvalidInput, match="^day: that time is in the past"):
        await waitlist.join(w.ctx, w.coach.id, w.ann.id, WantKind.DAY, day=date(2030, 1, 6))
    with pytest.raises(InvalidInput, match="^day: .*60 days ahead"):
        await waitlist.join(w.ctx, w.coach.id, w.ann.id, WantKind.DAY, day=date(2030, 6, 4))
    with pytest.raises(InvalidInput, match="^duration"):
        await waitlist.join(w.ctx, w.coach.id, w.ann.id, WantKind.DAY, day=TUE, duration=45)
    assert w.store.data.waitlist == {}


async def test_a_week_want_is_monday_to_monday_and_full_only_when_every_day_is():
    w = await world()
    with pytest.raises(NotAllowed, match="free times that week"):
        await waitlist.join(w.ctx, w.coach.id, w.ann.id, WantKind.WEEK, day=date(2030, 1, 10))
    for day in (9, 10, 11):  # fill Wednesday to Friday too
        for hour in range(9, 17):
            await bookings.book(w.ctx, w.coach.id, w.bob.id, datetime(2030, 1, day, hour, tzinfo=UTC))
    joined = await waitlist.join(w.ctx, w.coach.id, w.ann.id, WantKind.WEEK, day=date(2030, 1, 10))
    assert (joined.entry.starts_at, joined.entry.ends_at) == (
        datetime(2030, 1, 7, tzinfo=UTC),
        datetime(2030, 1, 14, tzinfo=UTC),
    )


# ---- offers --------------------------------------------------------------------------------------


async def test_a_freed_slot_is_offered_to_the_first_in_line_as_a_hold():
    w = await world()
    ann = await waitlist.join(w.ctx, w.coach.id, w.ann.id, WantKind.DAY, day=TUE)
    bob = await waitlist.join(w.ctx, w.coach.id, w.bob.id, WantKind.DAY, day=TUE)
    assert await waitlist_offers.offer_freed(w.ctx) == {"offered": 0, "booked": 0, "passed": 0, "expired": 0}
    await free_up(w, TUE_13)
    assert (await waitlist_offers.offer_freed(w.ctx))["offered"] == 1
    first = entry(w, ann.entry.id)
    held = w.store.sessions[first.session_id]
    assert (first.status, entry(w, bob.entry.id).status) == (EntryStatus.OFFERED, EntryStatus.WAITING)
    assert (held.author_id, held.starts_at, held.status) == (w.ann.id, TUE_13, SessionStatus.HELD)
    assert held.hold_expires_at == w.clock.now() + timedelta(minutes=30)
    assert offers(w) == [(ann.entry.id, held.id)]
    assert (await waitlist_offers.offer_freed(w.ctx))["offered"] == 0  # one open offer per entry


async def test_an_offer_that_lapses_passes_on_to_the_next_in_line():
    w = await world()
    ann = await waitlist.join(w.ctx, w.coach.id, w.ann.id, WantKind.SLOT, start=TUE_13)
    bob = await waitlist.join(w.ctx, w.coach.id, w.bob.id, WantKind.SLOT, start=TUE_13)
    await free_up(w, TUE_13)
    await waitlist_offers.offer_freed(w.ctx)
    w.clock.advance(minutes=29)
    assert (await waitlist_offers.offer_freed(w.ctx))["offered"] == 0
    w.clock.advance(minutes=1)
    assert await waitlist_offers.offer_freed(w.ctx) == {"offered": 1, "booked": 0, "passed": 1, "expired": 0}
    lapsed = w.store.sessions[entry(w, ann.entry.id).session_id]
    second = entry(w, bob.entry.id)
    assert (entry(w, ann.entry.id).status, lapsed.status) == (EntryStatus.PASSED, SessionStatus.CANCELLED)
    assert second.status is EntryStatus.OFFERED
    assert w.store.sessions[second.session_id].starts_at == TUE_13
    assert [e for e, _ in offers(w)] == [ann.entry.id, bob.entry.id]


async def test_no_thanks_gives_the_slot_to_the_next_at_once():
    w = await world()
    ann = await waitlist.join(w.ctx, w.coach.id, w.ann.id, WantKind.DAY, day=TUE)
    bob = await waitlist.join(w.ctx, w.coach.id, w.bob.id, WantKind.DAY, day=TUE)
    await free_up(w, TUE_10)
    await waitlist_offers.offer_freed(w.ctx)
    with pytest.raises(NotAllowed):
        await waitlist_offers.decline(w.ctx, ann.entry.id, author_id=w.bob.id)
    await waitlist_offers.decline(w.ctx, ann.entry.id, author_id=w.ann.id)
    assert entry(w, ann.entry.id).status is EntryStatus.PASSED
    assert entry(w, bob.entry.id).status is EntryStatus.OFFERED
    assert w.store.sessions[entry(w, bob.entry.id).session_id].starts_at == TUE_10
    with pytest.raises(InvalidTransition, match="lapsed"):
        await waitlist_offers.accept(w.ctx, ann.entry.id, author_id=w.ann.id)


async def test_book_it_books_at_once_when_there_is_nothing_to_pay():
    w = await world()
    ann = await waitlist.join(w.ctx, w.coach.id, w.ann.id, WantKind.DAY, day=TUE)
    await free_up(w, TUE_10)
    await waitlist_offers.offer_freed(w.ctx)
    session = await waitlist_offers.accept(w.ctx, ann.entry.id, author_id=w.ann.id)
    assert session.status is SessionStatus.SCHEDULED
    assert session.meeting_url is not None
    assert entry(w, ann.entry.id).status is EntryStatus.BOOKED
    assert {m.kind for m in w.store.outbox if m.session_id == session.id} >= {"session_confirmed", "reminder"}
    again = await waitlist_offers.accept(w.ctx, ann.entry.id, author_id=w.ann.id)
    assert again.id == session.id  # a second tap shows the booking


async def test_book_it_comes_back_with_the_payment_link_and_payment_books_it():
    w = await world(pay=True)
    ann = await waitlist.join(w.ctx, w.coach.id, w.ann.id, WantKind.DAY, day=TUE)
    await free_up(w, TUE_10)
    await waitlist_offers.offer_freed(w.ctx)
    held = w.store.sessions[entry(w, ann.entry.id).session_id]
    assert held.checkout_url is not None  # made right after the offer
    session = await waitlist_offers.accept(w.ctx, ann.entry.id, author_id=w.ann.id)
    assert (session.status, session.checkout_url) == (SessionStatus.HELD, held.checkout_url)
    await bookings.confirm_payment(w.ctx, session.id, amount=session.price_amount, payment_ref="pi_w")
    assert (await waitlist_offers.offer_freed(w.ctx))["booked"] == 1
    assert entry(w, ann.entry.id).status is EntryStatus.BOOKED


async def test_book_it_spends_a_matching_credit_instead_of_a_checkout():
    w = await world(pay=True)
    package = await packages.add_package(w.ctx, w.coach.id, sessions=2, duration=60, price=10000, valid_days=30)
    await packages.grant(w.ctx, w.ann.id, package.id)
    ann = await waitlist.join(w.ctx, w.coach.id, w.ann.id, WantKind.DAY, day=TUE)
    await free_up(w, TUE_10)
    await waitlist_offers.offer_freed(w.ctx)
    session = await waitlist_offers.accept(w.ctx, ann.entry.id, author_id=w.ann.id)
    assert (session.status, session.price_amount) == (SessionStatus.SCHEDULED, 0)
    assert [(e.kind.value, e.session_id) for e in w.store.data.credit_entries.values()][-1] == ("debit", session.id)


async def test_an_author_is_never_offered_a_slot_overlapping_their_own_session():
    w = await world()
    other = await catalog.add_coach(w.ctx, name="Bea", timezone="UTC", rate=6000, durations=[60])
    await catalog.add_rule(w.ctx, other.id, weekday="tue", start="09:00", end="17:00")
    await bookings.book(w.ctx, other.id, w.ann.id, TUE_10)  # Ann is with Bea at 10:00
    ann = await waitlist.join(w.ctx, w.coach.id, w.ann.id, WantKind.DAY, day=TUE)
    bob = await waitlist.join(w.ctx, w.coach.id, w.bob.id, WantKind.DAY, day=TUE)
    await free_up(w, TUE_10)
    await waitlist_offers.offer_freed(w.ctx)
    assert entry(w, ann.entry.id).status is EntryStatus.WAITING
    assert entry(w, bob.entry.id).status is EntryStatus.OFFERED


async def test_two_freed_slots_go_to_two_authors_in_line_order():
    w = await world()
    ann = await waitlist.join(w.ctx, w.coach.id, w.ann.id, WantKind.DAY, day=TUE)
    bob = await waitlist.join(w.ctx, w.coach.id, w.bob.id, WantKind.DAY, day=TUE)
    await free_up(w, TUE_13)
    await free_up(w, TUE_10)
    assert (await waitlist_offers.offer_freed(w.ctx))["offered"] == 2
    starts = [w.store.sessions[entry(w, e.entry.id).session_id].starts_at for e in (ann, bob)]
    assert starts == [TUE_10, TUE_13]  # the first in line gets the earliest


async def test_an_entry_whose_window_passed_expires():
    w = await world()
    ann = await waitlist.join(w.ctx, w.coach.id, w.ann.id, WantKind.DAY, day=TUE)
    w.clock.set(datetime(2030, 1, 9, tzinfo=UTC))
    assert (await waitlist_offers.offer_freed(w.ctx))["expired"] == 1
    assert entry(w, ann.entry.id).status is EntryStatus.EXPIRED
    assert await waitlist.of_author(w.ctx, w.ann.id) == []


async def test_leaving_with_an_open_offer_passes_it_on_and_leaving_twice_is_harmless():
    w = await world()
    ann = await waitlist.join(w.ctx, w.coach.id, w.ann.id, WantKind.DAY, day=TUE)
    bob = await waitlist.join(w.ctx, w.coach.id, w.bob.id, WantKind.DAY, day=TUE)
    await free_up(w, TUE_10)
    await waitlist_offers.offer_freed(w.ctx)
    held_id = entry(w, ann.entry.id).session_id
    await waitlist.leave(w.ctx, ann.entry.id, author_id=w.ann.id)
    left = await waitlist.leave(w.ctx, ann.entry.id, author_id=w.ann.id)
    assert left.status is EntryStatus.LEFT
    assert w.store.sessions[held_id].status is SessionStatus.CANCELLED
    assert entry(w, bob.entry.id).status is EntryStatus.OFFERED
    rejoined = await waitlist.join(w.ctx, w.coach.id, w.ann.id, WantKind.DAY, day=TUE)
    assert (rejoined.created, rejoined.position) == (True, 2)  # at the back of the line
