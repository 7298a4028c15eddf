"""A coach's own weekly hours and time off (booking.catalog.replace_week, take_time_off) against
the in-memory fakes and a fixed clock: everything is checked before anything is written, sessions
already booked are never touched, and windows stay on the coach's wall clock across DST."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from booking import bookings, catalog, queries, slots
from booking.catalog import WeeklyWindow as W
from booking.errors import InvalidInput
from booking.model import OverrideKind, SessionStatus
from tests.fakes import make_context

MON = datetime(2030, 1, 7, tzinfo=UTC)  # the fakes' clock starts on this Monday, 08:00 UTC


async def coach_world(zone: str = "UTC", *, now: datetime = MON + timedelta(hours=8), **fields):
    ctx, store, clock, *_ = make_context(now=now)
    coach = await catalog.add_coach(
        ctx, name="Ada", timezone=zone, rate=6000, min_notice_minutes=0, durations=[60], **fields
    )
    for day in ("mon", "tue", "wed", "thu", "fri"):
        await catalog.add_rule(ctx, coach.id, weekday=day, start="09:00", end="17:00")
    return ctx, store, clock, coach


def spans(store, coach_id) -> list[tuple[int, int, int]]:
    return sorted((r.weekday, r.start_minute, r.end_minute) for r in store.rules.values() if r.coach_id == coach_id)


# ---- replace_week -------------------------------------------------------------------------------


async def test_replace_week_replaces_every_day_and_the_settings_in_one_commit():
    ctx, store, _, coach = await coach_world()
    commits = store.commits

    week = await catalog.replace_week(
        ctx,
        coach.id,
        [W("mon", "08:00", "12:00"), W("mon", "13:00", "17:30"), W("sat", "10:00", "24:00")],
        buffer_before_minutes=10,
        buffer_after_minutes=15,
        min_notice_minutes=90,
        horizon_days=30,
        durations=[90, 30],
        slot_step_minutes=30,
    )

    assert store.commits == commits + 1
    assert spans(store, coach.id) == [(0, 480, 720), (0, 780, 1050), (5, 600, 1440)]  # Tue-Fri are days off now
    assert [(r.weekday, r.start_minute) for r in week.rules] == [(0, 480), (0, 780), (5, 600)]
    saved = store.coaches[coach.id]
    assert (saved.buffer_before_minutes, saved.buffer_after_minutes, saved.min_notice_minutes) == (10, 15, 90)
    assert (saved.horizon_days, saved.durations, saved.slot_step_minutes) == (30, [30, 90], 30)
    assert week.coach.durations == [30, 90]


async def test_days_not_listed_keep_their_windows():
    ctx, store, _, coach = await coach_world()
    await catalog.replace_week(ctx, coach.id, [W("tue", "10:00", "11:00")], days=["mon", "tue"])
    assert spans(store, coach.id) == [(1, 600, 660), (2, 540, 1020), (3, 540, 1020), (4, 540, 1020)]


@pytest.mark.parametrize(
    ("windows", "field", "problem"),
    [
        ([W("tue", "09:00", "08:00", field="tue.0")], "tue.0.end", "must be after the start (09:00)"),
        ([W("tue", "09:00", "09:00", field="tue.0")], "tue.0.end", "must be after the start"),
        ([W("tue", "9am", "10:00", field="tue.0")], "tue.0.start", "expected HH:MM"),
        ([W("tue", "09:00", "24:30", field="tue.0")], "tue.0.end", "not a time of day"),
        (
            [W("wed", "13:00", "17:00", field="wed.1"), W("wed", "09:00", "14:00", field="wed.0")],
            "wed.1.start",
            "overlaps 09:00-14:00",
        ),
        ([W("wed", "09:00", "17:00"), W("wed", "10:00", "11:00")], "windows[1].start", "overlaps 09:00-17:00"),
    ],
)
async def test_a_bad_window_names_its_field_and_writes_nothing(windows, field, problem):
    ctx, store, _, coach = await coach_world()
    before, commits = store.snapshot(), store.commits
    with pytest.raises(InvalidInput) as raised:
        await catalog.replace_week(ctx, coach.id, windows, horizon_days=10)
    assert raised.value.field == field and problem in raised.value.problem
    assert store.commits == commits and store.snapshot() == before


async def test_touching_windows_are_fine():
    ctx, store, _, coach = await coach_world()
    await catalog.replace_week(ctx, coach.id, [W("thu", "09:00", "12:00"), W("thu", "12:00", "15:00")])
    assert spans(store, coach.id) == [(3, 540, 720), (3, 720, 900)]


@pytest.mark.parametrize(
    ("settings", "field"),
    [
        ({"horizon_days": 0}, "horizon_days"),
        ({"horizon_days": 731}, "horizon_days"),
        ({"min_notice_minutes": 365 * 24 * 60 + 1}, "min_notice"),
        ({"buffer_before_minutes": -5}, "buffer_before"),
        ({"durations": []}, "durations"),
        ({"durations": [60, 60]}, "durations"),
        ({"durations": [3]}, "durations"),
        ({"slot_step_minutes": 2}, "slot_step"),
        ({"rate": 1}, "rate"),  # not a weekly-hours setting: the profile's
    ],
)
async def test_a_bad_setting_names_its_field_and_writes_no_window_either(settings, field):
    ctx, store, _, coach = await coach_world()
    before, commits = store.snapshot(), store.commits
    with pytest.raises(InvalidInput) as raised:
        await catalog.replace_week(ctx, coach.id, [W("sun", "10:00", "12:00")], **settings)
    assert raised.value.field == field
    assert store.commits == commits and store.snapshot() == before


async def test_booked_sessions_are_never_touched_by_new_hours():
    ctx, store, _, coach = await coach_world()
    author = await catalog.add_author(ctx, name="Ann", timezone="UTC", telegram_id=1)
    wed_10 = datetime(2030, 1, 9, 10, tzinfo=UTC)
    session = await bookings.book(ctx, coach.id, author.id, wed_10)
    before = store.sessions[session.id]

    await catalog.replace_week(ctx, coach.id, [], min_notice_minutes=7 * 24 * 60, durations=[30])

    assert spans(store, coach.id) == []
    assert store.sessions[session.id] == before and before.status is SessionStatus.SCHEDULED
    assert await slots.slots(ctx, coach.id, MON, MON + timedelta(days=14)) == []


# ---- DST: windows are wall-clock times in the coach's zone ------------------------------------


async def test_windows_keep_their_wall_clock_across_dst():
    # America/New_York: EST (-5) in January, EDT (-4) in July.
    ctx, _, clock, coach = await coach_world("America/New_York", now=datetime(2030, 1, 1, tzinfo=UTC))
    await catalog.replace_week(ctx, coach.id, [W("mon", "09:00", "11:00")], horizon_days=365)

    winter = await slots.slots(ctx, coach.id, datetime(2030, 1, 7, tzinfo=UTC), datetime(2030, 1, 8, tzinfo=UTC))
    summer = await slots.slots(ctx, coach.id, datetime(2030, 7, 1, tzinfo=UTC), datetime(2030, 7, 2, tzinfo=UTC))
    assert [s.start.hour for s in winter] == [14, 15]
    assert [s.start.hour for s in summer] == [13, 14]


async def test_a_window_across_the_spring_forward_gap_is_two_real_hours():
    # 2026-03-08 02:00 EST -> 03:00 EDT (07:00Z): 01:00-04:00 covers 06:00Z-08:00Z.
    ctx, _, _, coach = await coach_world("America/New_York", now=datetime(2026, 3, 1, tzinfo=UTC))
    await catalog.replace_week(ctx, coach.id, [W("sun", "01:00", "04:00")])
    found = await slots.slots(ctx, coach.id, datetime(2026, 3, 8, tzinfo=UTC), datetime(2026, 3, 9, tzinfo=UTC))
    assert [s.start for s in found] == [datetime(2026, 3, 8, 6, tzinfo=UTC), datetime(2026, 3, 8, 7, tzinfo=UTC)]


async def test_a_window_across_the_fall_back_hour_is_four_real_hours():
    # 2026-11-01 02:00 EDT -> 01:00 EST (06:00Z): 00:00-03:00 covers 04:00Z-08:00Z.
    ctx, _, _, coach = await coach_world("America/New_York", now=datetime(2026, 10, 25, tzinfo=UTC))
    await catalog.replace_week(ctx, coach.id, [W("sun", "00:00", "03:00")])
    found = await slots.slots(ctx, coach.id, datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 11, 2, tzinfo=UTC))
    assert [s.start.hour for s in found] == [4, 5, 6, 7]


# ---- take_time_off ------------------------------------------------------------------------------


async def test_whole_days_off_block_local_midnight_to_midnight_and_the_slots_go():
    ctx, store, _, coach = await coach_world("Europe/Berlin")
    tue, wed = date(2030, 1, 8), date(2030, 1, 9)

    off = await catalog.take_time_off(ctx, coach.id, first_day=tue, last_day=wed, reason="Book fair")

    o = off.override
    assert (o.kind, o.reason, off.clashes) == (OverrideKind.BLOCK, "Book fair", [])
    assert (o.starts_at, o.ends_at) == (datetime(2030, 1, 7, 23, tzinfo=UTC), datetime(2030, 1, 9, 23, tzinfo=UTC))
    assert [x.id for x in store.data.overrides.values()] == [o.id]
    week = await slots.slots(ctx, coach.id, MON, MON + timedelta(days=7))
    assert {s.start.date() for s in week} == {date(2030, 1, 7), date(2030, 1, 10), date(2030, 1, 11)}


async def test_time_off_with_times_runs_from_the_first_days_start_to_the_last_days_end():
    ctx, _, _, coach = await coach_world("Europe/Berlin")
    off = await catalog.take_time_off(
        ctx, coach.id, first_day=date(2030, 1, 8), last_day=date(2030, 1, 9), start="14:00", end="11:00"
    )
    assert (off.override.starts_at, off.override.ends_at) == (
        datetime(2030, 1, 8, 13, tzinfo=UTC),
        datetime(2030, 1, 9, 10, tzinfo=UTC),
    )


async def test_time_off_on_a_dst_day_follows_the_wall_clock():
    # Europe/Berlin springs forward on 2026-03-29 (02:00 CET -> 03:00 CEST, 01:00Z): that day is 23 hours.
    ctx, _, _, coach = await coach_world("Europe/Berlin", now=datetime(2026, 3, 1, tzinfo=UTC))
    off = await catalog.take_time_off(ctx, coach.id, first_day=date(2026, 3, 29))
    assert off.override.ends_at - off.override.starts_at == timedelta(hours=23)
    assert off.override.starts_at == datetime(2026, 3, 28, 23, tzinfo=UTC)


async def test_sessions_inside_time_off_are_listed_and_kept():
    ctx, store, _, coach = await coach_world()
    author = await catalog.add_author(ctx, name="Ann", timezone="UTC", telegram_id=1)
    wed_10 = datetime(2030, 1, 9, 10, tzinfo=UTC)
    booked = await bookings.book(ctx, coach.id, author.id, wed_10)
    await bookings.book(ctx, coach.id, author.id, wed_10 + timedelta(days=1))  # outside

    off = await catalog.take_time_off(ctx, coach.id, first_day=date(2030, 1, 9), start="09:30", end="10:30")

    assert [s.id for s in off.clashes] == [booked.id]
    assert (await queries.session(ctx, booked.id)).status is SessionStatus.SCHEDULED


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"first_day": date(2030, 1, 9), "last_day": date(2030, 1, 8)}, "to"),
        ({"first_day": date(2030, 1, 9), "start": "15:00", "end": "10:00"}, "end"),
        ({"first_day": date(2030, 1, 9), "start": "25:00"}, "start"),
        ({"first_day": date(2030, 1, 1), "last_day": date(2030, 1, 6)}, "to"),  # all before the clock's Monday
        ({"first_day": date(2030, 1, 9), "last_day": date(2031, 2, 1)}, "to"),
        ({"first_day": date(2030, 1, 9), "reason": "x" * 501}, "reason"),
    ],
)
async def test_bad_time_off_names_its_field_and_writes_nothing(kwargs, field):
    ctx, store, _, coach = await coach_world()
    commits = store.commits
    with pytest.raises(InvalidInput) as raised:
        await catalog.take_time_off(ctx, coach.id, **kwargs)
    assert raised.value.field == field
    assert store.commits == commits and store.data.overrides == {}


# ---- the profile's photo address ------------------------------------------------------------------


@pytest.mark.parametrize("url", ["ftp://img.test/a.jpg", "javascript:alert(1)", "img.test/a.jpg", "https://"])
async def test_an_avatar_must_be_a_web_address(url):
    ctx, store, _, coach = await coach_world()
    with pytest.raises(InvalidInput) as raised:
        await catalog.update_coach(ctx, coach.id, avatar_url=url)
    assert raised.value.field == "avatar_url"
    saved = await catalog.update_coach(ctx, coach.id, avatar_url=" https://img.test/a.jpg ")
    assert saved.avatar_url == "https://img.test/a.jpg"
