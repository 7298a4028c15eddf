"""Worked DST and odd-offset examples for the slot engine, with the expected UTC instants
written out by hand.

The 2026 transitions used below were checked with zoneinfo (see
`test_the_2026_transitions_these_examples_rely_on`):
- America/New_York: 2026-03-08 02:00 EST -> 03:00 EDT (07:00Z); 2026-11-01 02:00 EDT -> 01:00 EST (06:00Z)
- Europe/London: 2026-03-29 01:00 GMT -> 02:00 BST (01:00Z)
- Australia/Sydney: 2026-04-05 03:00 AEDT -> 02:00 AEST (04-04 16:00Z);
  2026-10-04 02:00 AEST -> 03:00 AEDT (10-03 16:00Z)
- Australia/Lord_Howe (30-minute shift): 2026-04-05 02:00 +11 -> 01:30 +10:30 (04-04 15:00Z);
  2026-10-04 02:00 +10:30 -> 02:30 +11 (10-03 15:30Z)
- Pacific/Chatham: 2026-09-27 02:45 +12:45 -> 03:45 +13:45 (09-26 14:00Z)
- America/Santiago (at local midnight): 2026-04-04 24:00 -03 -> 23:00 -04 (04-05 03:00Z);
  2026-09-06 00:00 -04 -> 01:00 -03 (09-06 04:00Z)
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from booking.availability import available_slots, local_to_utc
from booking.model import AvailabilityRule, Coach, DateOverride, Interval, OverrideKind

MON, TUE, WED, THU, FRI, SAT, SUN = range(7)


def Z(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def coach_in(zone: str, **kw) -> Coach:
    kw.setdefault("min_notice_minutes", 0)
    kw.setdefault("horizon_days", 365)
    return Coach(name="Coach", timezone=zone, rate=0, **kw)


def rule(weekday: int, start: str, end: str) -> AvailabilityRule:
    def minutes(hhmm: str) -> int:
        h, m = hhmm.split(":")
        return int(h) * 60 + int(m)

    return AvailabilityRule(coach_id=1, weekday=weekday, start_minute=minutes(start), end_minute=minutes(end))


def slots_on(coach, rules, local_day: date, duration: int, *, days: int = 1, overrides=(), busy=()):
    """Slots starting on `days` local days from `local_day` (the window is a day padded by 36h
    on both sides and then cut to the local day, so nothing depends on the window's edges)."""
    tz = ZoneInfo(coach.timezone)
    lo = datetime.combine(local_day, time(), tzinfo=tz).astimezone(UTC)
    hi = datetime.combine(local_day + timedelta(days=days), time(), tzinfo=tz).astimezone(UTC)
    found = available_slots(
        coach,
        rules,
        list(overrides),
        list(busy),
        window_start=lo - timedelta(hours=36),
        window_end=hi + timedelta(hours=36),
        duration_minutes=duration,
        now=lo - timedelta(days=3),
    )
    return [s for s in found if lo <= s.start < hi]


def starts(slots) -> list[datetime]:
    return [s.start for s in slots]


def test_the_2026_transitions_these_examples_rely_on():
    def offset(zone, instant):
        return instant.astimezone(ZoneInfo(zone)).utcoffset()

    h = lambda hours, minutes=0: timedelta(hours=hours, minutes=minutes)  # noqa: E731
    # (zone, transition instant, offset just before, offset from then on)
    cases = [
        ("America/New_York", Z(2026, 3, 8, 7), h(-5), h(-4)),
        ("America/New_York", Z(2026, 11, 1, 6), h(-4), h(-5)),
        ("Europe/London", Z(2026, 3, 29, 1), h(0), h(1)),
        ("Australia/Sydney", Z(2026, 4, 4, 16), h(11), h(10)),
        ("Australia/Sydney", Z(2026, 10, 3, 16), h(10), h(11)),
        ("Australia/Lord_Howe", Z(2026, 4, 4, 15), h(11), h(10, 30)),
        ("Australia/Lord_Howe", Z(2026, 10, 3, 15, 30), h(10, 30), h(11)),
        ("Pacific/Chatham", Z(2026, 9, 26, 14), h(12, 45), h(13, 45)),
        ("America/Santiago", Z(2026, 4, 5, 3), h(-3), h(-4)),
        ("America/Santiago", Z(2026, 9, 6, 4), h(-4), h(-3)),
    ]
    for zone, at, before, after in cases:
        assert offset(zone, at - timedelta(seconds=1)) == before, zone
        assert offset(zone, at) == after, zone
    assert [d.weekday() for d in (date(2026, 3, 8), date(2026, 11, 1), date(2026, 4, 5), date(2026, 10, 4))] == [
        SUN
    ] * 4
    assert date(2026, 9, 5).weekday() == SAT and date(2026, 4, 4).weekday() == SAT


# ---- New York -------------------------------------------------------------------------------


def test_new_york_spring_forward_rule_0100_0400_is_two_real_hours():
    coach = coach_in("America/New_York")
    got = slots_on(coach, [rule(SUN, "01:00", "04:00")], date(2026, 3, 8), 60)
    assert got == [Interval(Z(2026, 3, 8, 6), Z(2026, 3, 8, 7)), Interval(Z(2026, 3, 8, 7), Z(2026, 3, 8, 8))]


def test_new_york_fall_back_rule_0000_0300_is_four_real_hours():
    coach = coach_in("America/New_York")
    got = slots_on(coach, [rule(SUN, "00:00", "03:00")], date(2026, 11, 1), 60)
    assert starts(got) == [Z(2026, 11, 1, 4), Z(2026, 11, 1, 5), Z(2026, 11, 1, 6), Z(2026, 11, 1, 7)]
    # The repeated hour is offered twice (once per real hour), never the same instant twice.
    ny = ZoneInfo("America/New_York")
    assert [s.astimezone(ny).strftime("%H:%M%z") for s in starts(got)] == [
        "00:00-0400",
        "01:00-0400",
        "01:00-0500",
        "02:00-0500",
    ]


def test_new_york_fall_back_ambiguous_start_and_end():
    coach = coach_in("America/New_York")
    # 01:30 starts at its first occurrence (EDT, 05:30Z), 01:45 ends at its second (EST, 06:45Z).
    got = slots_on(coach, [rule(SUN, "01:30", "01:45")], date(2026, 11, 1), 15)
    assert starts(got) == [Z(2026, 11, 1, 5, 30) + timedelta(minutes=15 * k) for k in range(5)]


def test_new_york_rule_starting_inside_the_gap_starts_at_0300_edt():
    coach = coach_in("America/New_York")
    got = slots_on(coach, [rule(SUN, "02:30", "05:00")], date(2026, 3, 8), 30)
    assert starts(got) == [Z(2026, 3, 8, 7), Z(2026, 3, 8, 7, 30), Z(2026, 3, 8, 8), Z(2026, 3, 8, 8, 30)]


def test_new_york_rule_ending_inside_the_gap_ends_at_the_transition():
    coach = coach_in("America/New_York")
    got = slots_on(coach, [rule(SUN, "00:00", "02:40")], date(2026, 3, 8), 60)
    assert starts(got) == [Z(2026, 3, 8, 5), Z(2026, 3, 8, 6)]


def test_a_rule_entirely_inside_the_gap_offers_nothing():
    coach = coach_in("America/New_York")
    assert slots_on(coach, [rule(SUN, "02:10", "02:50")], date(2026, 3, 8), 15) == []


# Every wall-clock minute of each 2026 spring-forward gap must map to the transition instant
# exactly (whole seconds), whatever fold is asked for.
GAPS = [
    ("America/New_York", date(2026, 3, 8), "02:00", 60, Z(2026, 3, 8, 7)),
    ("Europe/London", date(2026, 3, 29), "01:00", 60, Z(2026, 3, 29, 1)),
    ("Australia/Sydney", date(2026, 10, 4), "02:00", 60, Z(2026, 10, 3, 16)),
    ("Australia/Lord_Howe", date(2026, 10, 4), "02:00", 30, Z(2026, 10, 3, 15, 30)),
    ("Pacific/Chatham", date(2026, 9, 27), "02:45", 60, Z(2026, 9, 26, 14)),
    ("America/Santiago", date(2026, 9, 6), "00:00", 60, Z(2026, 9, 6, 4)),
]


@pytest.mark.parametrize("zone,day,gap_start,gap_minutes,transition", GAPS, ids=[g[0] for g in GAPS])
def test_every_minute_of_a_gap_maps_exactly_to_the_transition(zone, day, gap_start, gap_minutes, transition):
    tz = ZoneInfo(zone)
    h, m = map(int, gap_start.split(":"))
    first = h * 60 + m
    for minute in range(first, first + gap_minutes):
        for fold in (0, 1):
            assert local_to_utc(day, minute, tz, fold=fold) == transition, (minute, fold)
            assert local_to_utc(day, minute, tz, fold=fold).microsecond == 0
    # Just outside the gap, wall times are real: the minute before it is a minute before the
    # transition, and the gap's end is the transition itself.
    if first:
        assert local_to_utc(day, first - 1, tz, fold=0) == transition - timedelta(minutes=1)
    assert local_to_utc(day, first + gap_minutes, tz, fold=0) == transition


@pytest.mark.parametrize("zone,day,gap_start,gap_minutes,transition", GAPS, ids=[g[0] for g in GAPS])
def test_a_rule_starting_at_any_minute_of_a_gap_first_offers_the_transition(
    zone, day, gap_start, gap_minutes, transition
):
    h, m = map(int, gap_start.split(":"))
    first = h * 60 + m
    coach = coach_in(zone)
    for minute in range(first + 5, first + gap_minutes, 5):
        r = AvailabilityRule(
            coach_id=1, weekday=day.weekday(), start_minute=minute, end_minute=first + gap_minutes + 120
        )
        got = slots_on(coach, [r], day, 60)
        # Two real hours after the gap end: exactly two slots on the transition's own grid.
        assert starts(got) == [transition, transition + timedelta(hours=1)], minute


# ---- Lord Howe (30-minute shift) -----------------------------------------------------------


def test_lord_howe_fall_back_repeats_half_an_hour():
    coach = coach_in("Australia/Lord_Howe")
    # 01:00 +11 = 04-04 14:00Z ... 03:00 +10:30 = 04-04 16:30Z: two and a half real hours.
    got = slots_on(coach, [rule(SUN, "01:00", "03:00")], date(2026, 4, 5), 30)
    assert starts(got) == [
        Z(2026, 4, 4, 14),
        Z(2026, 4, 4, 14, 30),
        Z(2026, 4, 4, 15),
        Z(2026, 4, 4, 15, 30),
        Z(2026, 4, 4, 16),
    ]


def test_lord_howe_fall_back_ambiguous_start():
    coach = coach_in("Australia/Lord_Howe")
    # 01:45 first occurs at +11 (14:45Z); 02:30 is unambiguous at +10:30 (16:00Z).
    got = slots_on(coach, [rule(SUN, "01:45", "02:30")], date(2026, 4, 5), 15)
    assert starts(got) == [Z(2026, 4, 4, 14, 45) + timedelta(minutes=15 * k) for k in range(5)]


def test_lord_howe_spring_forward_loses_half_an_hour():
    coach = coach_in("Australia/Lord_Howe")
    # 01:00 +10:30 = 10-03 14:30Z ... 04:00 +11 = 10-03 17:00Z.
    got = slots_on(coach, [rule(SUN, "01:00", "04:00")], date(2026, 10, 4), 30)
    assert starts(got) == [
        Z(2026, 10, 3, 14, 30),
        Z(2026, 10, 3, 15),
        Z(2026, 10, 3, 15, 30),
        Z(2026, 10, 3, 16),
        Z(2026, 10, 3, 16, 30),
    ]
    # A rule starting in the gap (02:15) starts at the transition, 02:30 +11 = 15:30Z.
    got = slots_on(coach, [rule(SUN, "02:15", "03:00")], date(2026, 10, 4), 30)
    assert starts(got) == [Z(2026, 10, 3, 15, 30)]


# ---- fractional offsets on ordinary days ---------------------------------------------------


@pytest.mark.parametrize(
    "zone,expected",
    [
        ("Asia/Kathmandu", [Z(2026, 6, 17, 3, 15), Z(2026, 6, 17, 4, 15), Z(2026, 6, 17, 5, 15)]),  # +05:45
        ("Asia/Kolkata", [Z(2026, 6, 17, 3, 30), Z(2026, 6, 17, 4, 30), Z(2026, 6, 17, 5, 30)]),  # +05:30
        ("Asia/Tehran", [Z(2026, 6, 17, 5, 30), Z(2026, 6, 17, 6, 30), Z(2026, 6, 17, 7, 30)]),  # +03:30
        ("Pacific/Chatham", [Z(2026, 6, 16, 20, 15), Z(2026, 6, 16, 21, 15), Z(2026, 6, 16, 22, 15)]),  # +12:45
    ],
)
def test_fractional_offsets_on_an_ordinary_day(zone, expected):
    coach = coach_in(zone)
    got = slots_on(coach, [rule(WED, "09:00", "12:00")], date(2026, 6, 17), 60)
    assert starts(got) == expected
    assert [s.end for s in got] == [e + timedelta(hours=1) for e in expected]


def test_kathmandu_busy_span_on_the_odd_offset():
    coach = coach_in("Asia/Kathmandu", buffer_after_minutes=15)
    busy = [Interval(Z(2026, 6, 17, 4, 15), Z(2026, 6, 17, 5, 0))]  # 10:00-10:45 local
    got = slots_on(coach, [rule(WED, "09:00", "12:00")], date(2026, 6, 17), 60, busy=busy)
    # 09:00 local would end at 10:00 and its 15 min after-buffer would reach into the busy span.
    assert starts(got) == [Z(2026, 6, 17, 5, 15)]


# ---- southern hemisphere -------------------------------------------------------------------


def test_sydney_fall_back_in_april():
    coach = coach_in("Australia/Sydney")
    # 01:00 AEDT (+11) = 04-04 14:00Z ... 04:00 AEST (+10) = 04-04 18:00Z: four real hours.
    got = slots_on(coach, [rule(SUN, "01:00", "04:00")], date(2026, 4, 5), 60)
    assert starts(got) == [Z(2026, 4, 4, 14), Z(2026, 4, 4, 15), Z(2026, 4, 4, 16), Z(2026, 4, 4, 17)]


def test_sydney_spring_forward_in_october():
    coach = coach_in("Australia/Sydney")
    # 01:00 AEST (+10) = 10-03 15:00Z ... 04:00 AEDT (+11) = 10-03 17:00Z: two real hours.
    got = slots_on(coach, [rule(SUN, "01:00", "04:00")], date(2026, 10, 4), 60)
    assert starts(got) == [Z(2026, 10, 3, 15), Z(2026, 10, 3, 16)]


def test_sydney_business_hours_keep_local_time_across_the_april_change():
    coach = coach_in("Australia/Sydney")
    rules = [rule(d, "09:00", "10:00") for d in range(7)]
    got = slots_on(coach, rules, date(2026, 4, 4), 60, days=2)
    # Saturday 09:00 AEDT = 04-03 22:00Z; Sunday 09:00 AEST = 04-04 23:00Z.
    assert starts(got) == [Z(2026, 4, 3, 22), Z(2026, 4, 4, 23)]


def test_santiago_fall_back_at_midnight_repeats_saturday_2300():
    coach = coach_in("America/Santiago")
    # Saturday 22:00 -03 = 04-05 01:00Z; 24:00 is Sunday 00:00 -04 = 04-05 04:00Z: three hours.
    got = slots_on(coach, [rule(SAT, "22:00", "24:00")], date(2026, 4, 4), 60)
    assert starts(got) == [Z(2026, 4, 5, 1), Z(2026, 4, 5, 2), Z(2026, 4, 5, 3)]


def test_santiago_spring_forward_midnight_does_not_exist():
    coach = coach_in("America/Santiago")
    # Sunday 00:00 does not exist: the rule starts at the transition, 01:00 -03 = 04:00Z.
    got = slots_on(coach, [rule(SUN, "00:00", "03:00")], date(2026, 9, 6), 60)
    assert starts(got) == [Z(2026, 9, 6, 4), Z(2026, 9, 6, 5)]
    # Saturday 22:00-24:00: 22:00 -04 = 02:00Z, and 24:00 (the missing midnight) = 04:00Z.
    got = slots_on(coach, [rule(SAT, "22:00", "24:00")], date(2026, 9, 5), 60)
    assert starts(got) == [Z(2026, 9, 6, 2), Z(2026, 9, 6, 3)]


def test_santiago_saturday_to_sunday_join_across_the_missing_midnight():
    coach = coach_in("America/Santiago", slot_step_minutes=30)
    rules = [rule(SAT, "22:00", "24:00"), rule(SUN, "00:00", "03:00")]
    got = available_slots(
        coach,
        rules,
        [],
        [],
        window_start=Z(2026, 9, 5),
        window_end=Z(2026, 9, 8),
        duration_minutes=90,
        now=Z(2026, 9, 1),
    )
    # One continuous window 02:00Z-06:00Z; Saturday's grid runs on past local midnight.
    assert starts(got) == [
        Z(2026, 9, 6, 2),
        Z(2026, 9, 6, 2, 30),
        Z(2026, 9, 6, 3),
        Z(2026, 9, 6, 3, 30),
        Z(2026, 9, 6, 4),
        Z(2026, 9, 6, 4, 30),
    ]


# ---- 24:00 and midnight-crossing slots -------------------------------------------------------


def test_rule_ending_at_2400_joins_the_next_days_0000_rule():
    coach = coach_in("Europe/London", slot_step_minutes=60)
    monday_late = rule(MON, "22:00", "24:00")
    tuesday_early = rule(TUE, "00:00", "02:00")
    kwargs = dict(window_start=Z(2026, 6, 15), window_end=Z(2026, 6, 17), duration_minutes=120, now=Z(2026, 6, 1))
    # BST (+01): Monday 22:00 = 21:00Z, midnight = 23:00Z, Tuesday 02:00 = 01:00Z.
    joined = available_slots(coach, [monday_late, tuesday_early], [], [], **kwargs)
    assert joined == [
        Interval(Z(2026, 6, 15, 21), Z(2026, 6, 15, 23)),
        Interval(Z(2026, 6, 15, 22), Z(2026, 6, 16, 0)),  # 23:00-01:00 local, across midnight
        Interval(Z(2026, 6, 15, 23), Z(2026, 6, 16, 1)),
    ]
    assert starts(available_slots(coach, [monday_late], [], [], **kwargs)) == [Z(2026, 6, 15, 21)]


def test_fall_back_night_join_is_six_real_hours():
    coach = coach_in("America/New_York", slot_step_minutes=60)
    rules = [rule(SAT, "22:00", "24:00"), rule(SUN, "00:00", "03:00")]
    got = available_slots(
        coach,
        rules,
        [],
        [],
        window_start=Z(2026, 10, 31),
        window_end=Z(2026, 11, 3),
        duration_minutes=180,
        now=Z(2026, 10, 20),
    )
    # Saturday 22:00 EDT = 02:00Z ... Sunday 03:00 EST = 08:00Z.
    assert starts(got) == [Z(2026, 11, 1, 2), Z(2026, 11, 1, 3), Z(2026, 11, 1, 4), Z(2026, 11, 1, 5)]


def test_slot_crossing_midnight_is_stopped_by_a_block_after_midnight():
    coach = coach_in("Europe/London", slot_step_minutes=60)
    rules = [rule(MON, "22:00", "24:00"), rule(TUE, "00:00", "02:00")]
    block = DateOverride(1, OverrideKind.BLOCK, Z(2026, 6, 15, 23, 30), Z(2026, 6, 16, 0))
    got = available_slots(
        coach,
        rules,
        [block],
        [],
        window_start=Z(2026, 6, 15),
        window_end=Z(2026, 6, 17),
        duration_minutes=120,
        now=Z(2026, 6, 1),
    )
    assert got == [Interval(Z(2026, 6, 15, 21), Z(2026, 6, 15, 23))]


# ---- instants, not wall times ---------------------------------------------------------------


def test_inputs_and_results_in_other_zones_are_the_same_instants():
    coach = coach_in("America/New_York", buffer_before_minutes=10, buffer_after_minutes=5)
    rules = [rule(d, "09:00", "12:00") for d in range(7)]
    busy_utc = [Interval(Z(2026, 3, 9, 14), Z(2026, 3, 9, 15))]
    extra_utc = DateOverride(1, OverrideKind.EXTRA, Z(2026, 3, 7, 20), Z(2026, 3, 7, 22))
    reference = available_slots(
        coach,
        rules,
        [extra_utc],
        busy_utc,
        window_start=Z(2026, 3, 6),
        window_end=Z(2026, 3, 11),
        duration_minutes=60,
        now=Z(2026, 3, 1),
    )
    assert reference  # a non-trivial week across the New York change

    for other in ("Asia/Tokyo", "Asia/Kathmandu", "Pacific/Chatham", "UTC"):
        tz = ZoneInfo(other)
        again = available_slots(
            coach,
            rules,
            [extra_utc],
            [Interval(b.start.astimezone(tz), b.end.astimezone(tz)) for b in busy_utc],
            window_start=Z(2026, 3, 6).astimezone(tz),
            window_end=Z(2026, 3, 11).astimezone(tz),
            duration_minutes=60,
            now=Z(2026, 3, 1).astimezone(tz),
        )
        assert [(s.start.timestamp(), s.end.timestamp()) for s in again] == [
            (s.start.timestamp(), s.end.timestamp()) for s in reference
        ], other

    for other in ("Europe/London", "Australia/Lord_Howe", "America/Santiago", "Asia/Kolkata"):
        tz = ZoneInfo(other)
        shown = [s.start.astimezone(tz) for s in reference]
        assert [t.astimezone(UTC) for t in shown] == starts(reference)

    # In the coach's own zone the grid stays on the wall clock: 09:00, 10:00 and 11:00 every day
    # (besides Saturday's extra hours), although the UTC instants move by an hour on 2026-03-08.
    ny = ZoneInfo("America/New_York")
    local = [s.start.astimezone(ny) for s in reference]
    assert {t.strftime("%H:%M") for t in local if t.date() != date(2026, 3, 7)} == {"09:00", "10:00", "11:00"}
    assert [t.strftime("%H:%M") for t in local if t.date() == date(2026, 3, 7)] == [
        "09:00",
        "10:00",
        "11:00",
        "15:00",
        "16:00",
    ]
    assert Z(2026, 3, 6, 14) in starts(reference)  # Friday 09:00 EST
    assert Z(2026, 3, 10, 13) in starts(reference)  # Tuesday 09:00 EDT
