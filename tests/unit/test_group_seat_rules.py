"""Group seats after review: a seat not paid for never carries the shared room's link, a late
payment never gives one author a second seat, and a far-off start is refused by name."""

from datetime import UTC, datetime

import pytest

from booking import groups, payments
from booking.errors import InvalidInput
from booking.model import SessionStatus
from tests.unit.test_groups import add, paid, world


async def test_an_unpaid_seat_never_carries_the_shared_rooms_link():
    w = await world(pay=True)
    slot = await add(w, seats=3)
    first = await groups.take_seat(w.ctx, slot.id, w.authors[0].id)
    await payments.handle(w.ctx, paid(first))
    assert w.store.data.group_slots[slot.id].meeting_url

    held = await groups.take_seat(w.ctx, slot.id, w.authors[1].id)
    assert held.status is SessionStatus.HELD
    assert held.meeting_url is None

    w.clock.advance(minutes=31)
    await groups.take_seat(w.ctx, slot.id, w.authors[2].id)  # the lapsed hold gives way
    lapsed = w.store.sessions[held.id]
    assert lapsed.status is SessionStatus.CANCELLED and lapsed.meeting_url is None


async def test_a_cancelled_seat_forgets_the_shared_rooms_link_and_the_room_stays():
    w = await world(pay=True)
    slot = await add(w, seats=3)
    seats = [await groups.take_seat(w.ctx, slot.id, a.id) for a in w.authors[:2]]
    for seat in seats:
        await payments.handle(w.ctx, paid(seat))
    room = w.store.data.group_slots[slot.id].meeting_url

    from booking import cancellation
    from booking.model import Actor

    await cancellation.cancel(w.ctx, seats[0].id, by=Actor.AUTHOR, author_id=w.authors[0].id)

    assert w.store.sessions[seats[0].id].meeting_url is None
    assert w.store.sessions[seats[1].id].meeting_url == room
    assert w.store.data.group_slots[slot.id].meeting_url == room


async def test_a_late_payment_never_gives_one_author_a_second_seat():
    w = await world(pay=True)
    slot = await add(w, seats=3)
    ann = w.authors[0]
    old = await groups.take_seat(w.ctx, slot.id, ann.id)
    w.clock.advance(minutes=31)
    new = await groups.take_seat(w.ctx, slot.id, ann.id)  # the old hold lapsed; she takes a seat again
    await payments.handle(w.ctx, paid(new))
    await payments.handle(w.ctx, paid(old))  # then pays the old checkout too

    mine = [s for s in w.store.sessions.values() if s.group_slot_id == slot.id and s.author_id == ann.id]
    assert [s.id for s in mine if s.status is SessionStatus.SCHEDULED] == [new.id]
    assert sum(s.kept for s in mine) == 2500


async def test_a_start_beyond_any_horizon_is_refused_by_name():
    w = await world()
    with pytest.raises(InvalidInput) as refused:
        await add(w, datetime(9999, 12, 31, 23, tzinfo=UTC), duration=480)
    assert refused.value.field == "start"
