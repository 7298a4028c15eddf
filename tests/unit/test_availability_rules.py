"""Ordinary behaviour of the slot engine: buffers, overrides, notice and horizon, durations and
steps, `nearest`, and the `merge` / `subtract` helpers. Zone UTC unless said otherwise, so the
expected instants read as the wall clock. 2026-06-15 is a Monday."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from booking.availability import available_slots, merge, nearest, subtract
from booking.model import AvailabilityRule, Coach, DateOverride, Interval, OverrideKind

MON, TUE, WED, THU, FRI, SAT, SUN = range(7)


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """An instant in the week of Monday 2026-06-15 (day 15 = Monday)."""
    return datetime(2026, 6, day, hour, minute, tzinfo=UTC)


def hm(hour: int, minute: int = 0) -> datetime:
    return at(15, hour, minute)


def iv(a: datetime, b: datetime) -> Interval:
    return Interval(a, b)


def coach(**kw) -> Coach:
    kw.setdefault("min_notice_minutes", 0)
    kw.setdefault("horizon_days", 60)
    return Coach(name="Ana", timezone=kw.pop("timezone", "UTC"), rate=6000, **kw)


def rule(weekday: int, start_h: int, end_h: int, start_m: int = 0, end_m: int = 0) -> AvailabilityRule:
    return AvailabilityRule(
        coach_id=1, weekday=weekday, start_minute=start_h * 60 + start_m, end_minute=end_h * 60 + end_m
    )


MONDAY_9_TO_5 = [rule(MON, 9, 17)]
NOW = datetime(2026, 6, 1, tzinfo=UTC)


def slots(c, rules=MONDAY_9_TO_5, overrides=(), busy=(), *, start=None, end=None, duration=60, now=NOW):
    return available_slots(
        c,
        rules,
        list(overrides),
        list(busy),
        window_start=start or hm(0),
        window_end=end or at(16, 0),
        duration_minutes=duration,
        now=now,
    )


def starts(found) -> list[datetime]:
    return [s.start for s in found]


def every(first: datetime, last: datetime, minutes: int) -> list[datetime]:
    out, t = [], first
    while t <= last:
        out.append(t)
        t += timedelta(minutes=minutes)
    return out


# ---- basics ---------------------------------------------------------------------------------


def test_plain_day_of_hourly_slots():
    found = slots(coach())
    assert found == [iv(hm(h), hm(h + 1)) for h in range(9, 17)]


def test_no_rules_no_slots():
    assert slots(coach(), rules=[]) == []


def test_rules_for_other_weekdays_do_not_leak():
    assert slots(coach(), rules=[rule(TUE, 9, 12)]) == []  # window is Monday only
    assert starts(slots(coach(), rules=[rule(TUE, 9, 12)], end=at(17, 0))) == [at(16, 9), at(16, 10), at(16, 11)]


def test_grid_is_anchored_at_the_rule_start_not_the_window():
    c = coach()
    rules = [rule(MON, 9, 12, start_m=10)]  # 09:10-12:00
    assert starts(slots(c, rules)) == [hm(9, 10), hm(10, 10)]
    assert starts(slots(c, rules, start=hm(9, 30))) == [hm(10, 10)]


def test_window_bounds_apply_to_the_start_only():
    c = coach()
    found = slots(c, start=hm(10), end=hm(12))
    assert found == [iv(hm(10), hm(11)), iv(hm(11), hm(12))]
    # A slot starting before window_end may end after it; one starting at window_end is out.
    assert slots(c, start=hm(10), end=hm(11, 1)) == [iv(hm(10), hm(11)), iv(hm(11), hm(12))]
    assert slots(c, start=hm(10), end=hm(11)) == [iv(hm(10), hm(11))]


def test_a_slot_may_not_run_past_the_rule_end():
    found = slots(coach(), rules=[rule(MON, 9, 11, end_m=30)], duration=60)  # 09:00-11:30
    assert starts(found) == [hm(9), hm(10)]


def test_results_are_utc_and_sorted_across_several_rules():
    rules = [rule(MON, 14, 16), rule(MON, 9, 11), rule(TUE, 9, 10)]
    found = slots(coach(), rules, end=at(17, 0))
    assert starts(found) == [hm(9), hm(10), hm(14), hm(15), at(16, 9)]
    assert all(s.start.tzinfo is UTC and s.end.tzinfo is UTC for s in found)


def test_touching_rules_on_one_day_form_one_window():
    rules = [rule(MON, 9, 10), rule(MON, 10, 11)]
    found = slots(coach(slot_step_minutes=30), rules, duration=60)
    assert starts(found) == [hm(9), hm(9, 30), hm(10)]  # 09:30-10:30 crosses the seam


# ---- buffers --------------------------------------------------------------------------------


def test_buffers_keep_their_distance_from_a_busy_span():
    c = coach(buffer_before_minutes=15, buffer_after_minutes=10, slot_step_minutes=5)
    busy = [iv(hm(12), hm(13))]
    found = starts(slots(c, busy=busy))
    # Before it: end + 10 min after-buffer must be <= 12:00, so the last start is 10:50.
    # After it: start - 15 min before-buffer must be >= 13:00, so the first start is 13:15.
    assert found == every(hm(9), hm(10, 50), 5) + every(hm(13, 15), hm(16), 5)


def test_buffers_with_hourly_grid():
    c = coach(buffer_before_minutes=15, buffer_after_minutes=10)
    found = starts(slots(c, busy=[iv(hm(12), hm(13))]))
    # 11:00 would need 11:00-12:10 clear; 13:00 would need 12:45-14:00 clear.
    assert found == [hm(9), hm(10), hm(14), hm(15), hm(16)]


def test_sessions_booked_back_to_back_respect_both_buffers():
    """A booked session blocks [start - before, end + after); the next one must keep its own
    buffers clear of that, so two sessions are `after + before` apart."""
    c = coach(buffer_before_minutes=15, buffer_after_minutes=10, slot_step_minutes=5)
    booked = iv(hm(10), hm(11))
    blocked = iv(booked.start - c.buffer_before, booked.end + c.buffer_after)  # 09:45-11:10
    found = starts(slots(c, busy=[blocked]))
    # Nothing fits before it (a session ending 25 min before 10:00 would start at 08:35, before
    # the rule opens); after it, the first start is 11:00 + 25 min.
    assert found == every(hm(11, 25), hm(16), 5)
    found = starts(slots(c, rules=[rule(MON, 8, 17)], busy=[blocked]))
    assert found == every(hm(8), hm(8, 35), 5) + every(hm(11, 25), hm(16), 5)


def test_no_buffers_allow_touching_busy_spans():
    found = starts(slots(coach(), busy=[iv(hm(12), hm(13))]))
    assert found == [hm(9), hm(10), hm(11), hm(13), hm(14), hm(15), hm(16)]


def test_unsorted_overlapping_busy_spans_and_spans_outside_the_day():
    busy = [iv(hm(14), hm(15)), iv(hm(10), hm(11, 30)), iv(hm(11), hm(12)), iv(at(14, 9), at(14, 17))]
    found = starts(slots(coach(), busy=busy))
    assert found == [hm(9), hm(12), hm(13), hm(15), hm(16)]


def test_busy_span_covering_the_whole_day():
    assert slots(coach(), busy=[iv(hm(0), at(16, 0))]) == []


# ---- overrides ------------------------------------------------------------------------------


def block(a: datetime, b: datetime) -> DateOverride:
    return DateOverride(coach_id=1, kind=OverrideKind.BLOCK, starts_at=a, ends_at=b)


def extra(a: datetime, b: datetime) -> DateOverride:
    return DateOverride(coach_id=1, kind=OverrideKind.EXTRA, starts_at=a, ends_at=b)


def test_block_removes_the_slots_it_touches():
    found = starts(slots(coach(), overrides=[block(hm(10, 30), hm(12))]))
    assert found == [hm(9), hm(12), hm(13), hm(14), hm(15), hm(16)]


def test_block_edges_are_half_open():
    found = starts(slots(coach(), overrides=[block(hm(10), hm(11))]))
    assert found == [hm(9), hm(11), hm(12), hm(13), hm(14), hm(15), hm(16)]


def test_block_for_the_whole_day_and_beyond():
    assert slots(coach(), overrides=[block(at(14, 0), at(17, 0))]) == []


def test_extra_adds_hours_outside_the_rules():
    c = coach()
    saturday = [extra(at(20, 14), at(20, 16))]
    found = slots(c, overrides=saturday, start=at(20, 0), end=at(21, 0))
    assert found == [iv(at(20, 14), at(20, 15)), iv(at(20, 15), at(20, 16))]


def test_extra_has_its_own_grid():
    found = starts(slots(coach(), overrides=[extra(at(20, 14, 20), at(20, 16, 20))], start=at(20, 0), end=at(21, 0)))
    assert found == [at(20, 14, 20), at(20, 15, 20)]


def test_extra_extends_a_rule_window():
    # Monday 17:00-18:30 extra right after the 09:00-17:00 rule, 90-minute slots.
    c = coach(slot_step_minutes=30)
    found = starts(slots(c, overrides=[extra(hm(17), hm(18, 30))], duration=90))
    # The rule grid runs on into the extra hours (16:00-17:30, 16:30-18:00), and the extra
    # window's own grid starts at 17:00.
    assert found[-4:] == [hm(15, 30), hm(16), hm(16, 30), hm(17)]


def test_block_wins_over_extra():
    found = slots(
        coach(),
        overrides=[extra(at(20, 14), at(20, 18)), block(at(20, 15), at(20, 16))],
        start=at(20, 0),
        end=at(21, 0),
    )
    assert starts(found) == [at(20, 14), at(20, 16), at(20, 17)]


def test_busy_time_inside_extra_hours():
    c = coach(buffer_after_minutes=30)
    found = slots(
        c, overrides=[extra(at(20, 14), at(20, 18))], busy=[iv(at(20, 16), at(20, 17))], start=at(20, 0), end=at(21, 0)
    )
    assert starts(found) == [at(20, 14), at(20, 17)]  # 15:00 would end 16:00 + 30 min buffer


# ---- notice and horizon ---------------------------------------------------------------------


def test_min_notice_cuts_early_starts_but_keeps_the_rule_grid():
    c = coach(min_notice_minutes=120)
    found = starts(slots(c, now=hm(8, 30)))  # earliest start 10:30
    assert found == [hm(11), hm(12), hm(13), hm(14), hm(15), hm(16)]


def test_start_exactly_at_min_notice_is_allowed():
    c = coach(min_notice_minutes=120)
    assert starts(slots(c, now=hm(8)))[0] == hm(10)
    assert starts(slots(c, now=hm(8, 1)))[0] == hm(11)


def test_default_notice_is_a_day():
    c = Coach(name="Ana", timezone="UTC", rate=6000)
    rules = [rule(d, 9, 12) for d in range(7)]
    found = starts(slots(c, rules, start=hm(0), end=at(17, 0), now=hm(10)))
    assert found == [at(16, 10), at(16, 11)]


def test_no_slots_in_the_past():
    found = starts(slots(coach(), start=hm(0), end=at(16, 0), now=hm(12, 30)))
    assert found == [hm(13), hm(14), hm(15), hm(16)]


def test_horizon_is_exclusive():
    c = coach(horizon_days=1)
    rules = [rule(d, 8, 17) for d in range(7)]
    found = starts(slots(c, rules, start=hm(0), end=at(20, 0), now=hm(9)))
    assert found[0] == hm(9) and found[-1] == at(16, 8)  # Tuesday 09:00 is exactly now + 1 day
    assert len(found) == 8 + 1


def test_horizon_days_ahead():
    c = coach(horizon_days=2)
    rules = [rule(d, 9, 10) for d in range(7)]
    found = starts(slots(c, rules, start=hm(0), end=at(25, 0), now=hm(8, 30)))
    assert found == [hm(9), at(16, 9)]  # Wednesday 09:00 is past 2 days from Monday 08:30


def test_notice_beyond_horizon_gives_nothing():
    c = coach(min_notice_minutes=3 * 24 * 60, horizon_days=2)
    rules = [rule(d, 9, 17) for d in range(7)]
    assert slots(c, rules, start=hm(0), end=at(30, 0), now=hm(8)) == []


def test_empty_or_inverted_window_gives_nothing():
    assert slots(coach(), start=hm(12), end=hm(12)) == []
    assert slots(coach(), start=hm(12), end=hm(11)) == []


# ---- durations and steps --------------------------------------------------------------------


@pytest.mark.parametrize(
    "duration,expected",
    [
        (30, every(hm(9), hm(11, 30), 30)),
        (60, every(hm(9), hm(11), 30)),
        (90, every(hm(9), hm(10, 30), 30)),
        (120, every(hm(9), hm(10), 30)),
        (180, [hm(9)]),
        (210, []),
    ],
)
def test_durations_on_a_30_minute_step(duration, expected):
    c = coach(durations=[30, 60, 90, 120, 180, 210], slot_step_minutes=30)
    found = slots(c, rules=[rule(MON, 9, 12)], duration=duration)
    assert starts(found) == expected
    assert all(s.end - s.start == timedelta(minutes=duration) for s in found)


def test_default_step_is_the_duration():
    c = coach(durations=[45, 90])
    assert starts(slots(c, rules=[rule(MON, 9, 12)], duration=90)) == [hm(9), hm(10, 30)]
    assert starts(slots(c, rules=[rule(MON, 9, 12)], duration=45)) == [hm(9), hm(9, 45), hm(10, 30), hm(11, 15)]


def test_step_longer_than_the_duration():
    c = coach(slot_step_minutes=90)
    assert starts(slots(c, rules=[rule(MON, 9, 12)], duration=30)) == [hm(9), hm(10, 30)]


def test_30_minute_step_around_a_busy_span():
    c = coach(slot_step_minutes=30)
    found = starts(slots(c, rules=[rule(MON, 9, 13)], busy=[iv(hm(10, 15), hm(10, 45))], duration=60))
    assert found == [hm(9), hm(11), hm(11, 30), hm(12)]  # 09:30-10:30 and 10:00-11:00 overlap it
    found = starts(slots(c, rules=[rule(MON, 8, 13)], busy=[iv(hm(10, 15), hm(10, 45))], duration=60))
    assert found == [hm(8), hm(8, 30), hm(9), hm(11), hm(11, 30), hm(12)]


# ---- nearest --------------------------------------------------------------------------------


DAY_SLOTS = [iv(hm(h), hm(h + 1)) for h in (9, 10, 11, 14, 15, 16)]


def test_nearest_picks_the_closest_in_time_order():
    # From 12:50: 14:00 is 70 min away, 11:00 110, 15:00 130, 10:00 170, 16:00 190.
    assert nearest(DAY_SLOTS, hm(12, 50)) == [iv(hm(11), hm(12)), iv(hm(14), hm(15)), iv(hm(15), hm(16))]
    assert nearest(DAY_SLOTS, hm(13, 50)) == [iv(hm(14), hm(15)), iv(hm(15), hm(16)), iv(hm(16), hm(17))]
    assert nearest(DAY_SLOTS, hm(10, 10), count=2) == [iv(hm(10), hm(11)), iv(hm(11), hm(12))]
    assert nearest(DAY_SLOTS, hm(9, 50), count=2) == [iv(hm(9), hm(10)), iv(hm(10), hm(11))]


def test_nearest_breaks_ties_towards_the_earlier_slot():
    # 12:30 is 90 min after 11:00 and 90 min before 14:00.
    assert nearest(DAY_SLOTS, hm(12, 30), count=1) == [iv(hm(11), hm(12))]
    assert nearest(DAY_SLOTS, hm(12, 30), count=2) == [iv(hm(11), hm(12)), iv(hm(14), hm(15))]


def test_nearest_from_outside_the_range_and_short_lists():
    assert nearest(DAY_SLOTS, hm(6)) == DAY_SLOTS[:3]
    assert nearest(DAY_SLOTS, at(20, 0)) == DAY_SLOTS[-3:]
    assert nearest(DAY_SLOTS[:2], hm(12), count=5) == DAY_SLOTS[:2]
    assert nearest([], hm(12)) == []


def test_nearest_accepts_unsorted_input():
    shuffled = [DAY_SLOTS[i] for i in (4, 0, 5, 2, 1, 3)]
    assert nearest(shuffled, hm(15, 10)) == [iv(hm(14), hm(15)), iv(hm(15), hm(16)), iv(hm(16), hm(17))]


def test_nearest_exact_hit():
    assert nearest(DAY_SLOTS, hm(14), count=1) == [iv(hm(14), hm(15))]


# ---- merge and subtract ---------------------------------------------------------------------


def test_merge_joins_overlapping_touching_and_nested():
    assert merge([]) == []
    assert merge([iv(hm(9), hm(10))]) == [iv(hm(9), hm(10))]
    assert merge([iv(hm(11), hm(12)), iv(hm(9), hm(10)), iv(hm(9, 30), hm(10, 30))]) == [
        iv(hm(9), hm(10, 30)),
        iv(hm(11), hm(12)),
    ]
    assert merge([iv(hm(9), hm(10)), iv(hm(10), hm(11))]) == [iv(hm(9), hm(11))]  # touching
    assert merge([iv(hm(9), hm(17)), iv(hm(10), hm(11)), iv(hm(12), hm(13))]) == [iv(hm(9), hm(17))]  # nested
    assert merge([iv(hm(9), hm(10)), iv(hm(9), hm(10))]) == [iv(hm(9), hm(10))]  # duplicates
    assert merge([iv(hm(9), hm(10)), iv(hm(10, 1), hm(11))]) == [iv(hm(9), hm(10)), iv(hm(10, 1), hm(11))]


def test_merge_accepts_any_iterable():
    assert merge(iter([iv(hm(12), hm(13)), iv(hm(12, 30), hm(14))])) == [iv(hm(12), hm(14))]


def test_subtract_without_forbidden_is_identity():
    windows = [iv(hm(9), hm(12)), iv(hm(14), hm(17))]
    assert subtract(windows, []) == windows
    assert subtract([], [iv(hm(9), hm(10))]) == []


def test_subtract_cuts_start_middle_and_end():
    available = [iv(hm(9), hm(17))]
    assert subtract(available, [iv(hm(8), hm(10))]) == [iv(hm(10), hm(17))]
    assert subtract(available, [iv(hm(12), hm(13))]) == [iv(hm(9), hm(12)), iv(hm(13), hm(17))]
    assert subtract(available, [iv(hm(16), hm(18))]) == [iv(hm(9), hm(16))]
    assert subtract(available, [iv(hm(8), hm(18))]) == []
    assert subtract(available, [iv(hm(9), hm(17))]) == []


def test_subtract_touching_edges_remove_nothing():
    available = [iv(hm(9), hm(17))]
    assert subtract(available, [iv(hm(8), hm(9)), iv(hm(17), hm(18))]) == available


def test_subtract_several_forbidden_across_several_windows():
    available = [iv(hm(9), hm(12)), iv(hm(14), hm(17)), iv(hm(19), hm(20))]
    forbidden = [iv(hm(8), hm(9, 30)), iv(hm(10), hm(10, 30)), iv(hm(11, 30), hm(14, 30)), iv(hm(16), hm(16, 15))]
    assert subtract(available, forbidden) == [
        iv(hm(9, 30), hm(10)),
        iv(hm(10, 30), hm(11, 30)),
        iv(hm(14, 30), hm(16)),
        iv(hm(16, 15), hm(17)),
        iv(hm(19), hm(20)),
    ]


def test_subtract_forbidden_spanning_a_whole_window_and_more():
    available = [iv(hm(9), hm(10)), iv(hm(11), hm(12)), iv(hm(13), hm(14))]
    assert subtract(available, [iv(hm(8), hm(12, 30))]) == [iv(hm(13), hm(14))]


def test_merge_then_subtract_matches_a_minute_count():
    available = merge([iv(hm(9), hm(11)), iv(hm(10), hm(12)), iv(hm(15), hm(16))])
    forbidden = merge([iv(hm(9, 15), hm(9, 45)), iv(hm(9, 40), hm(10)), iv(hm(15, 30), hm(18))])
    free = subtract(available, forbidden)
    assert free == [iv(hm(9), hm(9, 15)), iv(hm(10), hm(12)), iv(hm(15), hm(15, 30))]
    assert sum((f.end - f.start for f in free), timedelta()) == timedelta(minutes=15 + 120 + 30)
