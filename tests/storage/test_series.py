"""Recurring series on every engine: the whole series in one transaction (all or nothing), and
racing series and single bookings never leave a partial series or a double booking."""

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import text

from booking import bookings, catalog, queries, series
from booking.context import BookingSettings, Context
from booking.errors import SlotTaken
from booking.model import ACTIVE_STATUSES, Actor
from booking.recurrence import SeriesUnavailable
from booking.series_model import Repeat, SeriesPayment
from tests.conftest import in_thread
from tests.fakes import FakeClock, FakePayments, FakeVideo
from tests.storage.helpers import NOW, context_for, open_coach

TUE_10 = NOW.replace(hour=10) + timedelta(days=1)
WEEK = timedelta(weeks=1)
RACERS = 20


async def active(ctx, coach_id):
    return [s for s in await queries.sessions(ctx, coach_id=coach_id) if s.status in ACTIVE_STATUSES]


async def series_rows(database) -> int:
    from sqlalchemy import func, select

    from storage.tables import session_series

    async with database.engine.connect() as conn:
        return await conn.scalar(select(func.count()).select_from(session_series))


async def test_a_series_is_stored_with_its_occurrences(database):
    ctx = context_for(database)
    coach = await open_coach(ctx)
    author = await catalog.add_author(ctx, name="A", timezone="UTC")
    booked = await series.book_series(ctx, coach.id, author.id, TUE_10, repeat=Repeat.FORTNIGHTLY, count=3)
    found, occurrences = await series.series_of(ctx, booked.series.id)
    assert (found.repeat, found.count, found.coach_id) == (Repeat.FORTNIGHTLY, 3, coach.id)
    assert [s.starts_at for s in occurrences] == [TUE_10, TUE_10 + 2 * WEEK, TUE_10 + 4 * WEEK]
    assert {s.series_id for s in occurrences} == {found.id}


async def test_a_refused_series_writes_nothing(database):
    ctx = context_for(database)
    coach = await open_coach(ctx)
    author, other = [await catalog.add_author(ctx, name=n, timezone="UTC") for n in ("A", "B")]
    taken = await bookings.book(ctx, coach.id, other.id, TUE_10 + 3 * WEEK)
    with pytest.raises(SeriesUnavailable):
        await series.book_series(ctx, coach.id, author.id, TUE_10, repeat=Repeat.WEEKLY, count=4)
    assert [s.id for s in await active(ctx, coach.id)] == [taken.id]
    assert await series_rows(database) == 0


async def test_racing_series_for_the_same_weeks_give_one_whole_series(database):
    ctx = context_for(database)
    coach = await open_coach(ctx)
    authors = [await catalog.add_author(ctx, name=f"A{i}", timezone="UTC") for i in range(RACERS)]

    results = await asyncio.gather(
        # every racer's series shares at least the third week with every other's
        *(
            series.book_series(ctx, coach.id, a.id, TUE_10 + (i % 3) * WEEK, repeat=Repeat.WEEKLY, count=4)
            for i, a in enumerate(authors)
        ),
        return_exceptions=True,
    )

    won = [r for r in results if not isinstance(r, BaseException)]
    lost = [r for r in results if isinstance(r, BaseException)]
    assert len(won) == 1
    assert all(isinstance(e, (SeriesUnavailable, SlotTaken)) for e in lost), {type(e) for e in lost}
    assert sorted(s.id for s in await active(ctx, coach.id)) == sorted(s.id for s in won[0].sessions)
    assert await series_rows(database) == 1


async def test_a_series_racing_single_bookings_is_whole_or_absent(database):
    ctx = context_for(database)
    coach = await open_coach(ctx)
    author = await catalog.add_author(ctx, name="A", timezone="UTC")
    others = [await catalog.add_author(ctx, name=f"B{i}", timezone="UTC") for i in range(RACERS)]

    results = await asyncio.gather(
        series.book_series(ctx, coach.id, author.id, TUE_10, repeat=Repeat.WEEKLY, count=4),
        *(bookings.book(ctx, coach.id, o.id, TUE_10 + (i % 4) * WEEK) for i, o in enumerate(others)),
        return_exceptions=True,
    )

    booked = await active(ctx, coach.id)
    starts = sorted(s.starts_at for s in booked)
    assert len(starts) == len(set(starts))  # never two sessions at one time
    mine = [s for s in booked if s.author_id == author.id]
    assert len(mine) in (0, 4)
    assert isinstance(results[0], BaseException) == (not mine)


async def test_cancel_following_is_stored_for_every_later_occurrence(database):
    ctx = context_for(database)
    coach = await open_coach(ctx)
    author = await catalog.add_author(ctx, name="A", timezone="UTC")
    booked = await series.book_series(ctx, coach.id, author.id, TUE_10, repeat=Repeat.WEEKLY, count=4)
    ids = [s.id for s in booked.sessions]
    await series.cancel(ctx, ids[1], by=Actor.AUTHOR, scope=series.Scope.FOLLOWING)
    assert [s.id for s in await active(ctx, coach.id)] == ids[:1]
    assert [(await queries.session(ctx, i)).status.value for i in ids] == ["scheduled", *["cancelled"] * 3]


async def test_the_series_migration_downgrades_and_upgrades_again(database, database_url):
    from storage.migrate import downgrade, upgrade

    ctx = context_for(database)
    coach = await open_coach(ctx)
    author = await catalog.add_author(ctx, name="A", timezone="UTC")
    await series.book_series(ctx, coach.id, author.id, TUE_10, repeat=Repeat.WEEKLY, count=2)
    await database.engine.dispose()
    in_thread(downgrade, database_url, "0015")
    in_thread(upgrade, database_url)
    assert len(await active(ctx, coach.id)) == 2
    assert await series_rows(database) == 0


async def test_reschedule_following_a_week_later_lands_on_its_own_old_times(database):
    # Each occurrence moves onto the next one's old time: the database guard must see no overlap.
    ctx = context_for(database)
    coach = await open_coach(ctx)
    author = await catalog.add_author(ctx, name="A", timezone="UTC")
    booked = await series.book_series(ctx, coach.id, author.id, TUE_10, repeat=Repeat.WEEKLY, count=3)
    ids = [s.id for s in booked.sessions]
    await series.reschedule(ctx, ids[0], TUE_10 + WEEK, scope=series.Scope.FOLLOWING)
    moved = await active(ctx, coach.id)
    assert [(s.id, s.starts_at) for s in moved] == [(ids[k], TUE_10 + (k + 1) * WEEK) for k in range(3)]


async def _outbox_kinds(database, kind: str) -> list[tuple[int, str]]:
    async with database.engine.connect() as conn:
        rows = await conn.execute(text("SELECT session_id, recipient FROM outbox WHERE kind = :k"), {"k": kind})
        return sorted((r[0], r[1]) for r in rows)


async def test_occurrences_paid_at_the_same_time_confirm_their_series_once(database):
    """Each payment takes the coach's lock, so exactly one of them finds nothing left to pay."""
    ctx = Context(
        database.uow,
        FakeClock(NOW),
        FakePayments(enabled=True),
        FakeVideo(),
        BookingSettings(series_payment=SeriesPayment.PER_SESSION),
    )
    coach = await open_coach(ctx)
    author = await catalog.add_author(ctx, name="A", timezone="UTC")
    booked = await series.book_series(ctx, coach.id, author.id, TUE_10, repeat=Repeat.WEEKLY, count=4)

    await asyncio.gather(
        *(bookings.confirm_payment(ctx, s.id, amount=6000, payment_ref=f"pi_{s.id}") for s in booked.sessions)
    )

    lead = booked.sessions[0].id
    assert await _outbox_kinds(database, "series_confirmed") == sorted(
        [(lead, "admin"), (lead, "author"), (lead, "coach")]
    )
    assert await _outbox_kinds(database, "session_confirmed") == []
