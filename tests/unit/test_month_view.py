"""The chat front ends' day and time pickers (booking/slots.py: free_days, day_starts, fitting,
first_free_month) read one calendar for all lengths at once; they must find exactly what asking
`slots` once per length finds (the way they worked before), buffers, DST, overrides, holds and
the session being moved included."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from booking import bookings, catalog, slots
from booking.errors import InvalidInput
from booking.model import OverrideKind
from tests.fakes import make_context

NOW = datetime(2030, 2, 25, 13, 0, tzinfo=UTC)  # two weeks before New York springs forward
ZONE = "Asia/Kolkata"  # the author's zone: days and months cut at a half-hour offset


# ---- the previous implementation, one `slots` call per length, as the reference ---------------


async def reference_starts(ctx, coach, durations, start, end, exclude=None) -> list[datetime]:
    now = ctx.now()
    start, end = max(start, now), min(end, now + timedelta(days=coach.horizon_days))
    if end <= start:
        return []
    found: set[datetime] = set()
    for minutes in durations:
        found.update(s.start for s in await slots.slots(ctx, coach.id, start, end, minutes, exclude=exclude))
    return sorted(found)


async def reference_free_days(ctx, coach, durations, month, exclude=None) -> set[date]:
    found = await reference_starts(ctx, coach, durations, midnight(month), midnight(next_month(month)), exclude)
    return {s.astimezone(ZoneInfo(ZONE)).date() for s in found}


async def reference_fitting(ctx, coach, durations, start, exclude=None) -> list[int]:
    found = []
    for minutes in durations:
        free = await slots.slots(ctx, coach.id, start, start + timedelta(seconds=1), minutes, exclude=exclude)
        if free and free[0].start == start:
            found.append(minutes)
    return found


def midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(ZONE)).astimezone(UTC)


def next_month(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


# ---- a busy coach ------------------------------------------------------------------------------


async def busy_coach(*, blocked_first_month: bool = False):
    ctx, store, clock, _pay, _video = make_context(now=NOW)
    coach = await catalog.add_coach(
        ctx,
        name="Ada",
        timezone="America/New_York",
        rate=6000,
        durations=[30, 60, 90],
        buffer_before_minutes=15,
        buffer_after_minutes=10,
        min_notice_minutes=120,
        horizon_days=75,
    )
    for day in ("mon", "tue", "wed", "thu", "fri"):
        await catalog.add_rule(ctx, coach.id, weekday=day, start="01:00", end="04:00")  # across the DST gap
        await catalog.add_rule(ctx, coach.id, weekday=day, start="09:00", end="12:30")
    await catalog.add_rule(ctx, coach.id, weekday="sat", start="10:00", end="11:15")
    author = await catalog.add_author(ctx, name="Ann", timezone=ZONE)
    ny = ZoneInfo("America/New_York")
    booked = []
    # (days after Mon 25 Feb, hour, minute, length); Mon 4 Mar 10:30 keeps a 90-minute 09:00 out only
    # through its buffers: a calendar read too short for the longest length would miss it.
    spans = [
        (1, 9, 0, 60),
        (1, 11, 0, 30),
        (2, 9, 0, 90),
        (7, 10, 30, 30),
        (8, 9, 0, 30),
        (9, 2, 0, 60),
        (16, 10, 0, 60),
    ]
    for days, hour, minute, minutes in spans:
        start = datetime(2030, 2, 25, hour, minute, tzinfo=ny) + timedelta(days=days)
        booked.append(await bookings.book(ctx, coach.id, author.id, start.astimezone(UTC), duration=minutes))
    await catalog.add_override(
        ctx,
        coach.id,
        kind=OverrideKind.BLOCK,
        start=datetime(2030, 3, 12, tzinfo=ny).astimezone(UTC),
        end=datetime(2030, 3, 14, tzinfo=ny).astimezone(UTC),
    )
    await catalog.add_override(
        ctx,
        coach.id,
        kind=OverrideKind.EXTRA,
        start=datetime(2030, 3, 16, 14, tzinfo=ny).astimezone(UTC),
        end=datetime(2030, 3, 16, 17, tzinfo=ny).astimezone(UTC),
    )
    if blocked_first_month:
        await catalog.add_override(
            ctx, coach.id, kind=OverrideKind.BLOCK, start=NOW, end=datetime(2030, 3, 31, 23, tzinfo=UTC)
        )
    return ctx, (await catalog.coach(ctx, coach.id)), booked


LENGTHS = [[30], [60], [90], [30, 60, 90], [90, 30]]


@pytest.mark.parametrize("durations", LENGTHS)
async def test_free_days_and_first_free_month_match_one_read_per_length(durations):
    ctx, coach, booked = await busy_coach()
    first, last = slots.month_range(coach, ZONE, ctx.now())
    assert (first, last) == (date(2030, 2, 1), date(2030, 5, 1))
    for exclude in (None, booked[2].id):
        month = first
        while month <= last:
            expected = await reference_free_days(ctx, coach, durations, month, exclude)
            assert await slots.free_days(ctx, coach, durations, ZONE, month, exclude) == expected, (month, exclude)
            month = next_month(month)
        assert await slots.first_free_month(ctx, coach, durations, ZONE, exclude) == (
            first,
            await reference_free_days(ctx, coach, durations, first, exclude),
        )


async def test_first_free_month_skips_full_months_with_one_read():
    ctx, coach, _ = await busy_coach(blocked_first_month=True)
    month, days = await slots.first_free_month(ctx, coach, [60, 90], ZONE)
    assert month == date(2030, 4, 1)
    assert days == await reference_free_days(ctx, coach, [60, 90], month)
    assert not await slots.free_days(ctx, coach, [60, 90], ZONE, date(2030, 3, 1))


@pytest.mark.parametrize("durations", [[60], [30, 60, 90], [90, 30]])
async def test_day_starts_and_fitting_match_one_read_per_length(durations):
    ctx, coach, booked = await busy_coach()
    for exclude in (None, booked[2].id):
        day = date(2030, 2, 25)
        while day < date(2030, 3, 20):
            expected = await reference_starts(
                ctx, coach, durations, midnight(day), midnight(day + timedelta(days=1)), exclude
            )
            assert await slots.day_starts(ctx, coach, durations, ZONE, day, exclude) == expected, (day, exclude)
            for start in expected[:3] + [s + timedelta(minutes=15) for s in expected[:2]]:
                assert await slots.fitting(ctx, coach, durations, start, exclude) == await reference_fitting(
                    ctx, coach, durations, start, exclude
                ), (start, exclude)
            day += timedelta(days=1)


async def test_only_the_lengths_that_fit_before_the_next_session_are_offered():
    ctx, coach, _ = await busy_coach()
    nine = datetime(2030, 3, 4, 9, tzinfo=ZoneInfo("America/New_York")).astimezone(UTC)
    assert await slots.fitting(ctx, coach, [30, 60, 90], nine) == [30, 60]
    assert await reference_fitting(ctx, coach, [30, 60, 90], nine) == [30, 60]


async def test_a_length_the_coach_does_not_offer_is_refused_as_before():
    ctx, coach, _ = await busy_coach()
    with pytest.raises(InvalidInput):
        await slots.free_days(ctx, coach, [45], ZONE, date(2030, 3, 1))
    with pytest.raises(InvalidInput):
        await slots.fitting(ctx, coach, [60, 45], datetime(2030, 3, 4, 14, tzinfo=UTC))


async def test_an_inactive_coach_has_nothing_free():
    ctx, coach, _ = await busy_coach()
    coach.is_active = False
    assert await slots.first_free_month(ctx, coach, [60], ZONE) == (None, set())
    assert await slots.day_starts(ctx, coach, [60], ZONE, date(2030, 3, 4)) == []
    assert await slots.fitting(ctx, coach, [60], datetime(2030, 3, 4, 14, tzinfo=UTC)) == []


@pytest.mark.parametrize("durations", LENGTHS)
async def test_first_starts_are_the_earliest_free_times_up_to_the_horizon(durations):
    ctx, coach, booked = await busy_coach()
    everything = await reference_starts(ctx, coach, durations, NOW, NOW + timedelta(days=coach.horizon_days))
    for exclude in (None, booked[2].id):
        expected = await reference_starts(ctx, coach, durations, NOW, NOW + timedelta(days=coach.horizon_days), exclude)
        for limit in (1, 8, 200):
            assert await slots.first_starts(ctx, coach, durations, limit, exclude) == expected[:limit], (limit, exclude)
    assert len(everything) > 100  # the search crossed many of its week-long steps


async def test_first_starts_skip_full_weeks_and_read_the_calendar_once(monkeypatch):
    ctx, coach, _ = await busy_coach(blocked_first_month=True)
    expected = await reference_starts(ctx, coach, [60, 90], NOW, NOW + timedelta(days=coach.horizon_days))
    reads = []
    calendar = slots.calendar

    async def counted(*args, **kwargs):
        reads.append(args)
        return await calendar(*args, **kwargs)

    monkeypatch.setattr(slots, "calendar", counted)
    [first] = await slots.first_starts(ctx, coach, [60, 90], 1)
    assert first == expected[0]
    assert first.astimezone(ZoneInfo(ZONE)).date() >= date(2030, 4, 1)
    assert len(reads) == 1
    coach.is_active = False
    assert await slots.first_starts(ctx, coach, [60], 3) == []
