"""Property tests for the slot engine (`booking.availability.available_slots`).

Everything the tests compare against is computed here, independently of the engine's own
helpers: wall times are turned into instants by trying every UTC offset the zone uses around
that date (and, inside a spring-forward gap, by walking minute by minute to the first instant
whose wall clock has passed the wanted time), and the brute-force reference scans minute by
minute. The DST policy encoded here is the module docstring's: a rule's start takes the earlier
occurrence of an ambiguous wall time, its end the later one, and a wall time inside a gap maps
to the transition instant.

`now` is never the real clock: it is drawn from a fixed set of instants (a few days before
each 2026 transition of the drawn zone, or an ordinary date), so windows often straddle DST.
All generated instants are whole minutes (every 2026 transition is on a whole minute).
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

from hypothesis import example, given, settings
from hypothesis import strategies as st

from booking.availability import available_slots
from booking.model import AvailabilityRule, Coach, DateOverride, Interval, OverrideKind

MINUTE = timedelta(minutes=1)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

ZONES = [
    "America/New_York",
    "Europe/London",
    "Australia/Sydney",  # southern hemisphere
    "Asia/Kolkata",  # +05:30
    "Asia/Kathmandu",  # +05:45
    "Australia/Lord_Howe",  # 30-minute DST shift
    "Pacific/Chatham",  # +12:45 / +13:45
    "America/Santiago",  # transitions at local midnight
    "Asia/Tehran",  # +03:30, no DST since 2022
    "UTC",
]
ORDINARY_ANCHORS = [datetime(2026, 1, 20, 12, 0, tzinfo=UTC), datetime(2026, 6, 15, 12, 0, tzinfo=UTC)]

# Wall-clock minutes worth hitting often: midnight and 00:00-04:00, where 2026's transitions are
# (gaps: Santiago 00:00-01:00, London 01:00-02:00, New York/Sydney 02:00-03:00, Lord Howe
# 02:00-02:30, Chatham 02:45-03:45), including minutes that are not a power-of-two fraction of
# the gap.
SPECIAL_MINUTES = [0, 10, 20, 30, 40, 50, 60, 70, 90, 100, 105, 110, 120, 125, 130, 135, 140, 150]
SPECIAL_MINUTES += [155, 165, 170, 175, 180, 185, 195, 200, 215, 225, 240, 1380, 1410, 1430, 1440]
DURATIONS = [15, 20, 30, 45, 60, 90, 120]
STEPS = [None, None, 5, 10, 15, 30, 60]


# ---- independent reference -----------------------------------------------------------------


@cache
def transitions_2026(zone_name: str) -> tuple[datetime, ...]:
    """The zone's offset changes in 2026, found by an hourly scan refined minute by minute."""
    tz = ZoneInfo(zone_name)
    found = []
    t = datetime(2026, 1, 1, tzinfo=UTC)
    offset = t.astimezone(tz).utcoffset()
    while t < datetime(2027, 1, 1, tzinfo=UTC):
        nxt = t + timedelta(hours=1)
        if nxt.astimezone(tz).utcoffset() != offset:
            m = t
            while m.astimezone(tz).utcoffset() == offset:
                m += MINUTE
            found.append(m)
            offset = nxt.astimezone(tz).utcoffset()
        t = nxt
    return tuple(found)


@cache
def ref_instant(day: date, minute: int, zone_name: str, occurrence: str) -> datetime:
    """The UTC instant of wall time `minute` on local `day`; `occurrence` is "first" or "last"."""
    tz = ZoneInfo(zone_name)
    wall = datetime.combine(day, time()) + timedelta(minutes=minute)  # 1440 rolls to the next day
    as_utc = wall.replace(tzinfo=UTC)
    offsets = {(as_utc + timedelta(hours=h)).astimezone(tz).utcoffset() for h in range(-36, 37)}
    candidates = sorted(as_utc - o for o in offsets)
    hits = [c for c in candidates if c.astimezone(tz).replace(tzinfo=None) == wall]
    if hits:
        return hits[0] if occurrence == "first" else hits[-1]
    # The wall time does not exist: walk to the first instant whose wall clock is past it.
    u = candidates[0]
    while u.astimezone(tz).replace(tzinfo=None) < wall:
        u += MINUTE
    return u


def ref_rule_windows(rules, zone_name: str, first_day: date, last_day: date) -> list[Interval]:
    windows = []
    day = first_day
    while day <= last_day:
        for r in rules:
            if r.weekday == day.weekday():
                start = ref_instant(day, r.start_minute, zone_name, "first")
                end = ref_instant(day, r.end_minute, zone_name, "last")
                if end > start:
                    windows.append(Interval(start, end))
        day += timedelta(days=1)
    return windows


def ref_sources(coach, rules, overrides, lo: datetime, hi: datetime) -> list[Interval]:
    """Every availability source window that can matter for slots starting in [lo, hi)."""
    tz = ZoneInfo(coach.timezone)
    first = (lo - timedelta(days=2)).astimezone(tz).date()
    last = (hi + timedelta(days=2)).astimezone(tz).date()
    windows = ref_rule_windows(rules, coach.timezone, first, last)
    windows += [o.interval for o in overrides if o.kind is OverrideKind.EXTRA and o.ends_at > o.starts_at]
    return windows


def ref_union(intervals) -> list[tuple[datetime, datetime]]:
    out: list[list[datetime]] = []
    for a, b in sorted((i.start, i.end) for i in intervals if i.end > i.start):
        if out and a <= out[-1][1]:
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    return [(a, b) for a, b in out]


def to_min(dt: datetime) -> int:
    delta = dt - EPOCH
    assert delta % MINUTE == timedelta(0), f"reference expects whole minutes, got {dt}"
    return delta // MINUTE


def from_min(m: int) -> datetime:
    return EPOCH + m * MINUTE


def minute_set(intervals) -> set[int]:
    out: set[int] = set()
    for iv in intervals:
        out.update(range(to_min(iv.start), to_min(iv.end)))
    return out


def brute_force_slots(coach, rules, overrides, busy, *, window_start, window_end, duration_minutes, now):
    """The slots, by scanning every minute of the window and checking each rule directly."""
    step = coach.slot_step_minutes or duration_minutes
    lo = max(window_start, now + timedelta(minutes=coach.min_notice_minutes))
    hi = min(window_end, now + timedelta(days=coach.horizon_days))
    if lo >= hi:
        return []
    sources = [(to_min(s.start), to_min(s.end)) for s in ref_sources(coach, rules, overrides, lo, hi)]
    available = minute_set(Interval(from_min(a), from_min(b)) for a, b in sources)
    blocked = minute_set(o.interval for o in overrides if o.kind is OverrideKind.BLOCK and o.ends_at > o.starts_at)
    taken = minute_set(b for b in busy if b.end > b.start)
    before, after = coach.buffer_before_minutes, coach.buffer_after_minutes
    slots = []
    for m in range(to_min(window_start) - 1, to_min(window_end) + 1):
        t = from_min(m)
        if not (lo <= t < hi):
            continue
        if not any(a <= m < b and (m - a) % step == 0 for a, b in sources):
            continue
        minutes = range(m, m + duration_minutes)
        if not all(x in available for x in minutes):
            continue
        if any(x in blocked for x in minutes):
            continue
        if any(x in taken for x in range(m - before, m + duration_minutes + after)):
            continue
        slots.append(Interval(t, t + timedelta(minutes=duration_minutes)))
    return slots


# ---- strategies ----------------------------------------------------------------------------

minute_points = st.one_of(
    st.sampled_from(SPECIAL_MINUTES),
    st.integers(0, 288).map(lambda x: x * 5),
    st.integers(6 * 12, 22 * 12).map(lambda x: x * 5),  # daytime hours
)


@st.composite
def weekly_rules(draw, max_per_day: int = 3):
    rules = []
    for weekday in range(7):
        if draw(st.integers(0, 2)) == 0:  # two weekdays in three have hours
            continue
        points = sorted(draw(st.lists(minute_points, min_size=2, max_size=2 * max_per_day)))
        for start, end in zip(points[::2], points[1::2], strict=False):
            if start < end:  # consecutive pairs never overlap (they may touch)
                rules.append(AvailabilityRule(coach_id=1, weekday=weekday, start_minute=start, end_minute=end))
    return draw(st.permutations(rules))


def spans_near(now: datetime, lo_min: int, hi_min: int, max_len: int):
    return st.builds(
        lambda off, length: Interval(now + timedelta(minutes=off * 5), now + timedelta(minutes=(off + length) * 5)),
        st.integers(lo_min // 5, hi_min // 5),
        st.integers(1, max_len // 5),
    )


@st.composite
def scenarios(draw, *, small: bool = False):
    zone_name = draw(st.sampled_from(ZONES))
    anchor = draw(st.sampled_from(list(transitions_2026(zone_name)) + ORDINARY_ANCHORS))
    now = anchor - timedelta(minutes=5 * draw(st.integers(0, (2 if small else 4) * 24 * 12)))
    rules = draw(weekly_rules(max_per_day=2 if small else 3))
    duration = draw(st.sampled_from(DURATIONS))
    coach = Coach(
        name="Coach",
        timezone=zone_name,
        rate=0,
        min_notice_minutes=draw(st.one_of(st.sampled_from([0, 0, 30, 60, 240, 24 * 60]), st.integers(0, 12 * 60))),
        horizon_days=draw(st.sampled_from([1, 2, 3, 3, 4] if small else [1, 3, 6, 10])),
        buffer_before_minutes=draw(st.sampled_from([0, 0, 5, 10, 15, 30, 60])),
        buffer_after_minutes=draw(st.sampled_from([0, 0, 5, 10, 15, 30, 60])),
        durations=[duration],
        slot_step_minutes=draw(st.sampled_from(STEPS)),
    )
    if draw(st.booleans()):  # often open the window shortly before the anchor (a transition, mostly)
        window_start = max(anchor - timedelta(minutes=5 * draw(st.integers(0, 18 * 12))), now - timedelta(hours=12))
    else:
        window_start = now + timedelta(minutes=draw(st.integers(-12 * 60, (1 if small else 4) * 24 * 60)))
    hours = draw(st.sampled_from([0, 6, 18, 30, 40, 47] if small else [0, 6, 24, 48, 72, 119]))
    window_end = window_start + timedelta(hours=hours, minutes=draw(st.integers(1, 60)))
    # Busy spans and overrides land in and around the window, so they interact with its slots.
    reach = (window_end - window_start) // MINUTE + 6 * 60
    busy = draw(st.lists(spans_near(window_start, -6 * 60, reach, 300), max_size=6))
    override_spans = draw(
        st.lists(st.tuples(st.sampled_from(OverrideKind), spans_near(window_start, -12 * 60, reach, 720)), max_size=4)
    )
    overrides = [DateOverride(coach_id=1, kind=kind, starts_at=iv.start, ends_at=iv.end) for kind, iv in override_spans]
    return dict(
        coach=coach,
        rules=rules,
        overrides=overrides,
        busy=busy,
        window_start=window_start,
        window_end=window_end,
        duration_minutes=duration,
        now=now,
    )


def run(case, **changes):
    args = {**case, **changes}
    return available_slots(
        args["coach"],
        args["rules"],
        args["overrides"],
        args["busy"],
        window_start=args["window_start"],
        window_end=args["window_end"],
        duration_minutes=args["duration_minutes"],
        now=args["now"],
    )


# ---- properties ----------------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(scenarios())
def test_every_slot_respects_every_constraint(case):
    coach, duration = case["coach"], case["duration_minutes"]
    now, ws, we = case["now"], case["window_start"], case["window_end"]
    slots = run(case)

    before, after = coach.buffer_before, coach.buffer_after
    earliest = now + timedelta(minutes=coach.min_notice_minutes)
    horizon = now + timedelta(days=coach.horizon_days)
    step = timedelta(minutes=coach.slot_step_minutes or duration)
    sources = ref_sources(coach, case["rules"], case["overrides"], max(ws, earliest), min(we, horizon))
    union = ref_union(sources)
    blocks = [o.interval for o in case["overrides"] if o.kind is OverrideKind.BLOCK]

    starts = [s.start for s in slots]
    assert starts == sorted(starts), "sorted"
    assert len(set(starts)) == len(starts), "no duplicates"
    for slot in slots:
        assert slot.start.utcoffset() == timedelta(0) and slot.end.utcoffset() == timedelta(0), "UTC"
        assert slot.end - slot.start == timedelta(minutes=duration)
        assert ws <= slot.start < we, "start inside the requested window"
        assert slot.start >= earliest, "minimum notice"
        assert slot.start < horizon, "horizon"
        for b in case["busy"]:
            assert not (slot.start - before < b.end and b.start < slot.end + after), (slot, b)
        for block in blocks:
            assert not slot.overlaps(block), (slot, block)
        assert any(a <= slot.start and slot.end <= b for a, b in union), f"{slot} outside availability"
        assert any(
            src.start <= slot.start < src.end and (slot.start - src.start) % step == timedelta(0) for src in sources
        ), f"{slot} is on no source window's grid"


# Found by this test: a rule starting at 02:05 on Sydney's spring-forward Sunday began at
# 16:00:00.292968Z instead of the transition, 16:00Z (the gap bisection kept its fraction).
GAP_REGRESSION = dict(
    coach=Coach(name="Coach", timezone="Australia/Sydney", rate=0, min_notice_minutes=0, horizon_days=1),
    rules=[AvailabilityRule(coach_id=1, weekday=6, start_minute=125, end_minute=195)],
    overrides=[],
    busy=[],
    window_start=datetime(2026, 10, 3, 16, 0, tzinfo=UTC),
    window_end=datetime(2026, 10, 3, 16, 1, tzinfo=UTC),
    duration_minutes=15,
    now=datetime(2026, 10, 3, 16, 0, tzinfo=UTC),
)


@settings(max_examples=250, deadline=None)
@given(scenarios(small=True))
@example(GAP_REGRESSION)
def test_matches_brute_force_reference(case):
    assert run(case) == brute_force_slots(**case)


@settings(max_examples=60, deadline=None)
@given(scenarios(small=True), st.data())
def test_result_does_not_depend_on_the_query_window(case, data):
    """A sub-window gives exactly the slots of the wider window that start in it, and probing a
    single instant (how booking checks a requested start) finds the slot starting there."""
    slots = run(case)
    ws, we = case["window_start"], case["window_end"]
    total = (we - ws) // MINUTE
    a = data.draw(st.integers(0, total - 1))
    b = data.draw(st.integers(a + 1, total))
    sub_start, sub_end = ws + a * MINUTE, ws + b * MINUTE
    assert run(case, window_start=sub_start, window_end=sub_end) == [s for s in slots if sub_start <= s.start < sub_end]
    for slot in slots[:3] + slots[-3:]:
        assert run(case, window_start=slot.start, window_end=slot.start + timedelta(microseconds=1)) == [slot]


@settings(max_examples=60, deadline=None)
@given(scenarios())
def test_more_busy_time_never_adds_slots(case):
    with_busy = set(run(case))
    assert with_busy <= set(run(case, busy=[]))
    blocks_only = [o for o in case["overrides"] if o.kind is OverrideKind.BLOCK]
    extras_only = [o for o in case["overrides"] if o.kind is OverrideKind.EXTRA]
    assert set(run(case, overrides=extras_only)) >= set(run(case, overrides=extras_only + blocks_only))


@settings(max_examples=80, deadline=None)
@given(
    rules=weekly_rules(),
    duration=st.sampled_from(DURATIONS),
    step=st.sampled_from(STEPS),
    start_day=st.integers(0, 364),
    days=st.integers(1, 9),
)
def test_utc_without_busy_time_is_complete(rules, duration, step, start_day, days):
    """Zone UTC, nothing busy, no overrides, no notice: exactly the slots a plain enumeration of
    each rule occurrence's grid gives (a slot may run on into a window that touches its own)."""
    now = datetime(2026, 1, 1, tzinfo=UTC)
    coach = Coach(name="C", timezone="UTC", rate=0, min_notice_minutes=0, horizon_days=400, slot_step_minutes=step)
    ws = now + timedelta(days=start_day)
    we = ws + timedelta(days=days)
    got = available_slots(coach, rules, [], [], window_start=ws, window_end=we, duration_minutes=duration, now=now)

    windows = []  # plain UTC arithmetic: in UTC a wall time *is* the instant
    for d in range(-2, days + 2):
        midnight = ws + timedelta(days=d)
        for r in rules:
            if r.weekday == midnight.weekday() and r.end_minute > r.start_minute:
                windows.append((midnight + r.start_minute * MINUTE, midnight + r.end_minute * MINUTE))
    length, stride = timedelta(minutes=duration), timedelta(minutes=step or duration)

    def covered(t):
        return any(a <= t < b for a, b in windows)

    expected = set()
    for a, b in windows:
        s = a
        while s < b:
            if ws <= s < we and all(covered(s + i * MINUTE) for i in range(duration)):
                expected.add(s)
            s += stride
    assert [s.start for s in got] == sorted(expected)
    assert all(s.end - s.start == length for s in got)


def test_reference_agrees_with_hand_checked_dst_instants():
    """Guard the reference itself on instants checked by hand (New York 2026)."""
    ny = "America/New_York"
    assert ref_instant(date(2026, 3, 8), 60, ny, "first") == datetime(2026, 3, 8, 6, tzinfo=UTC)
    assert ref_instant(date(2026, 3, 8), 130, ny, "first") == datetime(2026, 3, 8, 7, tzinfo=UTC)  # gap
    assert ref_instant(date(2026, 3, 8), 240, ny, "last") == datetime(2026, 3, 8, 8, tzinfo=UTC)
    assert ref_instant(date(2026, 11, 1), 90, ny, "first") == datetime(2026, 11, 1, 5, 30, tzinfo=UTC)
    assert ref_instant(date(2026, 11, 1), 90, ny, "last") == datetime(2026, 11, 1, 6, 30, tzinfo=UTC)
    assert ref_instant(date(2026, 10, 31), 1440, ny, "last") == datetime(2026, 11, 1, 4, tzinfo=UTC)
    assert transitions_2026(ny) == (datetime(2026, 3, 8, 7, tzinfo=UTC), datetime(2026, 11, 1, 6, tzinfo=UTC))


def test_brute_force_reference_on_a_hand_checked_case():
    """Guard the brute force itself: UTC, Monday 09:00-12:00, 60 min, busy 10:00-10:30, 15 min after."""
    now = datetime(2026, 6, 1, tzinfo=UTC)  # a Monday
    coach = Coach(name="C", timezone="UTC", rate=0, min_notice_minutes=0, buffer_after_minutes=15, slot_step_minutes=30)
    case = dict(
        coach=coach,
        rules=[AvailabilityRule(1, 0, 9 * 60, 12 * 60)],
        overrides=[],
        busy=[Interval(datetime(2026, 6, 1, 10, 0, tzinfo=UTC), datetime(2026, 6, 1, 10, 30, tzinfo=UTC))],
        window_start=now,
        window_end=now + timedelta(days=1),
        duration_minutes=60,
        now=now,
    )
    # 09:00 would end at 10:00 + 15 min after buffer, overlapping the busy span; 10:30 is free.
    expected = [datetime(2026, 6, 1, h, m, tzinfo=UTC) for h, m in [(10, 30), (11, 0)]]
    assert [s.start for s in brute_force_slots(**case)] == expected
    assert [s.start for s in run(case)] == expected


def test_seeded_sweep_across_every_2026_transition_matches_brute_force():
    """Deterministic sweep (no shrinking, fixed seed): for every 2026 transition of every zone,
    random wall-clock rules made of the special early-morning minutes, a window straddling the
    transition, busy spans and overrides; the engine must equal the brute force exactly."""
    rng = random.Random(20260308)
    cases = 0
    for zone_name in ZONES:
        for transition in transitions_2026(zone_name):
            for _ in range(12):
                rules = []
                for weekday in range(7):
                    points = sorted(rng.choice(SPECIAL_MINUTES) for _ in range(rng.choice([2, 2, 4])))
                    rules += [
                        AvailabilityRule(1, weekday, a, b)
                        for a, b in zip(points[::2], points[1::2], strict=False)
                        if a < b
                    ]
                coach = Coach(
                    name="C",
                    timezone=zone_name,
                    rate=0,
                    min_notice_minutes=rng.choice([0, 0, 45]),
                    horizon_days=3,
                    buffer_before_minutes=rng.choice([0, 15]),
                    buffer_after_minutes=rng.choice([0, 10]),
                    slot_step_minutes=rng.choice(STEPS),
                )
                ws = transition - timedelta(minutes=5 * rng.randrange(0, 14 * 12))
                spans = [
                    Interval(t, t + timedelta(minutes=5 * rng.randrange(1, 24)))
                    for t in (ws + timedelta(minutes=5 * rng.randrange(0, 30 * 12)) for _ in range(rng.randrange(0, 4)))
                ]
                case = dict(
                    coach=coach,
                    rules=rules,
                    overrides=[
                        DateOverride(1, rng.choice(list(OverrideKind)), iv.start, iv.end)
                        for iv in spans[: rng.randrange(0, 2)]
                    ],
                    busy=spans,
                    window_start=ws,
                    window_end=ws + timedelta(hours=30),
                    duration_minutes=rng.choice(DURATIONS),
                    now=ws - timedelta(hours=1),
                )
                assert run(case) == brute_force_slots(**case), case
                cases += 1
    assert cases == 12 * sum(len(transitions_2026(z)) for z in ZONES)
